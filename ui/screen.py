"""How wide the reader's screen is, for layouts that cannot follow the width by CSS alone.

Streamlit's server never learns the screen's width (`st.context` has no such field), and a few
charts are laid out on the server: the histograms' grid, the network diagram. A tiny component
reports whether the window is narrower than Streamlit's own breakpoint (640 px, where it stacks
columns), once on load and again when a resize crosses it; the page reruns then. Until it has
reported, the wide layout is drawn.
"""

from __future__ import annotations

import streamlit as st

BREAKPOINT_PX = 640
KEY = "screen"
JS = """
export default function (component) {
  window.__playgroundScreen = component.setStateValue;
  const report = () => window.__playgroundScreen("narrow", window.innerWidth < BREAKPOINT);
  if (!window.__playgroundScreenWatch) {
    window.__playgroundScreenWatch = true;
    window.addEventListener("resize", report);
  }
  report();
}
""".replace("BREAKPOINT", str(BREAKPOINT_PX))
_watch = st.components.v2.component("playground_screen", js=JS)


def watch() -> None:
    """Mount the reporter (no visible output) and keep what it said for this run."""
    result = _watch(key=KEY, on_narrow_change=lambda: None, height=0)
    st.session_state["_narrow"] = bool(getattr(result, "narrow", False))


def narrow() -> bool:
    """Whether the reader's window is narrower than Streamlit's breakpoint: a phone."""
    return bool(st.session_state.get("_narrow", False))
