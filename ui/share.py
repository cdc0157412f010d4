"""Share the run: its link to copy, and the same link as a QR code for a class to scan.

The settings are the ones the address bar shows (those the page last applied, see
`ui.settings.write_link`). The address is the one students will use, which is often not the
one the teacher opened: a teacher at `http://localhost:8501` would hand out a link no phone can
open. So the link starts from, in order: `PLAYGROUND_PUBLIC_URL` (the address a class reaches
this server at), Streamlit's `browser.serverAddress` where it was set on purpose, or the page's
own address; when that is this machine's loopback, the popover says so and offers the machine's
network address as Streamlit's own "Network URL" finds it (only where the server listens
beyond loopback; nothing is looked up outside). The teacher's presenter mode stays out of the
students' link unless asked for. The QR code is drawn on the server by segno, so sharing works
on a network with no way out.
"""

from __future__ import annotations

import io
import ipaddress
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import segno
import streamlit as st

from playground import drawing
from playground.config import RunConfig, to_query
from ui import present, upload
from ui.settings import WRITTEN

PUBLIC_URL = "PLAYGROUND_PUBLIC_URL"
WIDE_OPEN = ("", "0.0.0.0", "::")  # server.address values that listen on every interface


@dataclass(frozen=True)
class Address:
    """Where students' links start (scheme://host[:port][/base]) and what to say about it."""

    base: str
    source: str  # what chose it, in the popover's words
    loopback: bool  # only this machine can open it
    network: str | None = None  # the machine's network address, offered when loopback


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: an address only this machine reaches."""
    host = host.strip("[]").lower()
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin(scheme: str, host: str, port: int | None, default_port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + (f":{port}" if port and port != default_port else "")


def students_address(
    opened: str,
    public: str | None = None,
    server_address: str | None = None,
    server_port: int | None = None,
    listens_wide: bool = False,
    network_ip: str | None = None,
) -> Address:
    """The address students' links start from (see the module's docstring for the order)."""
    if public and public.strip():
        return Address(
            public.strip().rstrip("/"), PUBLIC_URL, is_loopback(urlsplit(public).hostname or "")
        )
    parts = urlsplit(opened)
    scheme = parts.scheme or "http"
    default_port = 443 if scheme == "https" else 80
    if server_address:
        base = _origin(scheme, server_address, server_port, default_port)
        return Address(base, "browser.serverAddress", is_loopback(server_address))
    host = parts.hostname or "localhost"
    base = _origin(scheme, host, parts.port, default_port)
    if not is_loopback(host):
        return Address(base, "this page's address", False)
    offer = None
    if listens_wide and network_ip and not is_loopback(network_ip):
        offer = _origin(scheme, network_ip, parts.port, default_port)
    return Address(base, "this page's address", True, offer)


def _address() -> Address:
    """`students_address` for this server and this page."""
    from streamlit import config, net_util

    server_address = None
    if config.is_manually_set("browser.serverAddress"):
        server_address = str(config.get_option("browser.serverAddress"))
    listen = config.get_option("server.address") or ""
    wide = not config.is_manually_set("server.address") or listen in WIDE_OPEN
    return students_address(
        st.context.url or "http://localhost:8501/",
        os.environ.get(PUBLIC_URL),
        server_address,
        int(config.get_option("browser.serverPort")),
        wide,
        net_util.get_internal_ip() if wide else None,
    )


def _page_path(opened: str) -> str:
    """The page's own part of the address (`playground`, or empty for Home)."""
    return urlsplit(opened).path.rstrip("/").rsplit("/", 1)[-1]


def query(presenting: bool = False) -> dict[str, str]:
    """The page's settings, those at their defaults left out (a short link, and a QR code
    sparse enough to scan off a projector); the presenter's view only when asked for."""
    defaults = to_query(RunConfig())
    written = st.session_state.get(WRITTEN) or {}
    kept = {k: v for k, v in written.items() if k == "v" or defaults.get(k) != v}
    if not presenting:
        kept.pop(present.KEY, None)
    return kept


def link(base: str, presenting: bool = False) -> str:
    """This page, with its settings, at `base`: the same run when opened."""
    path = _page_path(st.context.url or "")
    url = f"{base}/{path}" if path else f"{base}/"
    settings = query(presenting)
    return f"{url}?{urlencode(settings)}" if settings else url


@st.cache_data(show_spinner=False, max_entries=64)
def qr_png(text: str) -> bytes:
    """A QR code of `text` as PNG, medium error correction (it survives a projector's glare)."""
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=6, border=2)
    return buf.getvalue()


def _cannot_travel() -> None:
    """What a link cannot carry: a large drawing, an uploaded file."""
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


def _choose_base(where: Address) -> str:
    """The base the link uses; on a loopback address, a warning and the network's offer."""
    if not where.loopback:
        return where.base
    if where.network is None:
        st.warning(
            f"This link points at this computer ({urlsplit(where.base).hostname}): a "
            "student's phone cannot open it. Set PLAYGROUND_PUBLIC_URL to the address your "
            "class reaches this server at (or Streamlit's browser.serverAddress).",
            icon=":material/wifi_off:",
        )
        return where.base
    use_network = st.toggle(
        f"Use this computer's network address ({urlsplit(where.network).hostname})",
        value=True,
        key="share_network",
        help="What Streamlit prints as the Network URL: phones on the same network reach it.",
    )
    if use_network:
        st.caption("Phones on the same network (Wi-Fi) as this computer can open it.")
        return where.network
    st.warning(
        f"This link points at this computer ({urlsplit(where.base).hostname}): a student's "
        "phone cannot open it.",
        icon=":material/wifi_off:",
    )
    return where.base


def share(where: Any) -> None:
    """A Share button that opens the students' link (with a copy button) and its QR code."""
    with where.popover("Share", icon=":material/share:", help="This run's link and QR code."):
        where = _address()
        st.caption(
            "Anyone opening this link gets these settings (copy it with the icon). Its address "
            f"comes from {where.source}."
        )
        _cannot_travel()
        base = _choose_base(where)
        presenting = present.chart() is not None and st.toggle(
            "Open it in presenter mode too",
            value=False,
            key="share_presenting",
            help="Off: students get the normal page, with their own controls.",
        )
        url = link(base, presenting)
        st.code(url, language=None, wrap_lines=True)
        st.image(qr_png(url), width=240, caption="Scan to open the same settings.")
