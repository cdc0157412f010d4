"""Playground: pick a network, press Play, and watch it learn, layer by layer.

Composition only: the sidebar comes from the settings table (ui.settings), the trainer from the
session (ui.session), the charts from the shared panels (ui.panels).
"""

from __future__ import annotations

import streamlit as st

from playground.runner import Snapshot
from ui import panels, session, settings
from ui.entry import enter_through_app

enter_through_app()


def overview(snap: Snapshot) -> None:
    """What the live page redraws twice a second: counters, map and curves."""
    panels.metrics(snap)
    panels.pairing(snap.info)
    panels.map_and_curves(snap)


def inside(snap: Snapshot) -> None:
    """The charts that change slowly, redrawn every couple of seconds."""
    st.subheader("Inside the network")
    if snap.playing:  # why these charts' steps trail the counter by up to SLOW_S
        st.caption(f"Redrawn every {session.SLOW_S:g} s while training: they change slowly.")
    panels.histograms(snap)
    panels.unit_health(snap)
    panels.gradients(snap)


def main() -> None:
    st.title("Playground")
    cfg = settings.sidebar()
    trainer = session.sync(cfg)
    settings.show_notices(cfg)
    if trainer is None:
        st.stop()
    session.controls(trainer)
    session.live(trainer, overview, inside)
    session.downloads(trainer)


main()
