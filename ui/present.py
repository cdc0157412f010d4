"""Presenter mode, from a link (`present=1`, or `present=gradients` to pick the chart): a run
that reads from the back of a room on a 1280 x 720 projector.

What changes: text of at least 16 px (page CSS, and a Vega config for every chart), captions
folded away, the sidebar collapsed (its hidden controls are the link's `hide`), and on the
Playground only the decision map, the curves and one chosen chart from inside the network, so
that they share one screen. The server-wide theme is left alone: presenting is per link.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

KEY = "present"
CHARTS = ("gradients", "health", "histograms", "network")  # `present=` names; 1: the first
FONT = 16
CSS = f"""
<style>
  html, body, [data-testid="stMarkdownContainer"], [data-testid="stMain"] button,
  [data-testid="stWidgetLabel"], .tiles {{ font-size: {FONT + 2}px !important; }}
  [data-testid="stCaptionContainer"] {{ display: none !important; }}
  [data-testid="stMainBlockContainer"] {{ padding-top: 2.5rem !important;
                                          padding-bottom: 1rem !important; }}
  h1 {{ display: none !important; }}  /* the run is the subject: its page's name can go */
  h3 {{ font-size: 1.25rem !important; }}
  .tile-value {{ font-size: 1.6rem !important; }}
  .tiles > div {{ min-width: 4.5rem !important; }}
</style>
"""
VEGA = {
    "axis": {"labelFontSize": FONT, "titleFontSize": FONT},
    "legend": {"labelFontSize": FONT, "titleFontSize": FONT},
    "title": {"fontSize": FONT + 2},
    "header": {"labelFontSize": FONT, "titleFontSize": FONT},
    "text": {"fontSize": FONT},  # text marks that keep the default size: column heads, notes
}


NOTICE = "present_notice"
ASKED = "present_asked"  # the link named its chart: a page's own choice gives way to it
ON = ("1", "true", "on", "yes")


def from_link(params: dict[str, Any]) -> None:
    """Remember a link's presenter choice for the session (before the page draws); a value it
    does not know still presents (the link asked for a projector), with a notice."""
    raw = params.get(KEY, "") or ""
    text = str(raw[-1] if isinstance(raw, list) and raw else raw).strip().lower()
    st.session_state[ASKED] = text in CHARTS
    if not text or text in ("0", "false", "off", "no"):
        st.session_state[KEY] = st.session_state[NOTICE] = None
    elif text in CHARTS or text in ON:
        st.session_state[KEY] = text if text in CHARTS else CHARTS[0]
    else:
        st.session_state[KEY] = CHARTS[0]
        st.session_state[NOTICE] = (
            f"present={text[:40]!r} names no presenter view; showing {CHARTS[0]} (choose "
            f"1, {', '.join(CHARTS)}, or 0 to stop presenting)."
        )


def notice() -> str | None:
    """What a link's unknown `present` value was turned into, while presenting."""
    return st.session_state.get(NOTICE) if chart() is not None else None


def chart() -> str | None:
    """The inside-the-network chart a presenter shows, or None when not presenting."""
    return st.session_state.get(KEY)


def prefer(view: str) -> None:
    """A page's own chart for a plain `present=1` (a lab's: the one its words say to watch);
    a chart the link named stays."""
    if chart() is not None and not st.session_state.get(ASKED):
        st.session_state[KEY] = view


def style() -> None:
    """The page CSS for a projector, when presenting."""
    if chart() is not None:
        st.html(CSS)


def vega(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` with projector-sized text when presenting (its own config kept otherwise)."""
    if chart() is None:
        return spec
    config = dict(spec.get("config", {}))
    for part, sizes in VEGA.items():
        config[part] = {**config.get(part, {}), **sizes}
    return {**spec, "config": config}
