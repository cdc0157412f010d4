"""Share the run: its link to copy, and the same link as a QR code for a class to scan.

The link is the one the address bar shows (the settings the page last applied, see
`ui.settings.write_link`). The QR code is drawn on the server by segno, so sharing works on a
network with no way out.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

import segno
import streamlit as st

from playground import drawing
from playground.config import RunConfig, to_query
from ui import upload
from ui.settings import WRITTEN


def link() -> str:
    """The page's address with the settings it shows, those at their defaults left out: the
    same run when opened, and a QR code sparse enough to scan off a projector."""
    here = (st.context.url or "").split("?")[0]
    defaults = to_query(RunConfig())
    written = st.session_state.get(WRITTEN) or {}
    query = {k: v for k, v in written.items() if k == "v" or defaults.get(k) != v}
    return f"{here}?{urlencode(query)}" if query else here


@st.cache_data(show_spinner=False, max_entries=64)
def qr_png(text: str) -> bytes:
    """A QR code of `text` as PNG, medium error correction (it survives a projector's glare)."""
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=6, border=2)
    return buf.getvalue()


def share(where: Any) -> None:
    """A Share button that opens the link (with a copy button) and its QR code."""
    url = link()
    with where.popover("Share", icon=":material/share:", help="This run's link and QR code."):
        st.caption("Anyone opening this link gets these settings (copy it with the icon).")
        written = st.session_state.get(WRITTEN) or {}
        if written.get("dataset") == "drawn" and "points" not in written:
            st.warning(
                f"This drawing has too many points for a link (it carries up to "
                f"{drawing.MAX_LINK_POINTS}): download it as CSV and share the file.",
                icon=":material/link_off:",
            )
        if written.get("dataset") == "upload":
            st.warning(
                upload.NO_LINK + " Whoever opens this link is asked to upload it.",
                icon=":material/link_off:",
            )
        st.code(url, language=None, wrap_lines=True)
        st.image(qr_png(url), width=240, caption="Scan to open the same settings.")
