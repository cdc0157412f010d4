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


def show(snap: Snapshot) -> None:
    """Everything the live fragment redraws."""
    panels.metrics(snap)
    panels.pairing(snap.info)
    panels.map_and_curves(snap)
    st.subheader("Inside the network")
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
    session.live(trainer, show)
    session.downloads(trainer)


main()
