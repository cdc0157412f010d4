"""Playground: pick a network, press Play, and watch it learn, layer by layer.

Composition only: the sidebar comes from the settings table (ui.settings), the trainer from the
session (ui.session), the charts from the shared panels (ui.panels).
"""

from __future__ import annotations

import streamlit as st

from playground.runner import RunInfo, Snapshot
from ui import draw, panels, present, restore, session, settings
from ui.entry import enter_through_app

enter_through_app()


def overview(snap: Snapshot) -> list[panels.Show]:
    """What the live page redraws twice a second: counters, map and curves."""
    return [panels.metrics(snap), panels.map_and_curves(snap)]


def notes(info: RunInfo, playing: bool) -> None:
    """What changes only with the run, drawn once per page run between the live parts."""
    if present.chart() is not None:  # a projector's one screen: no words between the charts
        return
    panels.map_and_curves_notes(info)
    if info.points is None:  # the test set's results come first, under their own heading
        return
    inside_heading(playing)


def inside_heading(playing: bool) -> None:
    st.subheader("Inside the network")
    if playing:  # why these charts' steps trail the counter by up to SLOW_S
        st.caption(f"Redrawn every {session.SLOW_S:g} s while training: they change slowly.")


# the histograms first: their toggle is drawn as they are computed, above everything shown
INSIDE = {"histograms": panels.histograms, "network": panels.network,
          "health": panels.unit_health, "gradients": panels.gradients}  # fmt: skip


SLOW = ("histograms", "network")  # what the slow part's snapshot carries


def inside(snap: Snapshot) -> list[panels.Show]:
    """The charts that change slowly, redrawn every couple of seconds: all four, or the one
    a presenter chose."""
    chosen = present.chart()
    if not chosen and snap.results is not None:  # drawn now: ahead of the histograms' toggle
        panels.results(snap)()
        inside_heading(snap.playing)
    return [INSIDE[k](snap) for k in ([chosen] if chosen else INSIDE)]


def main() -> None:
    st.title("Playground")
    cfg = settings.sidebar()
    if cfg.dataset == "drawn" and present.chart() is None:
        draw.panel(st.session_state[settings.VALUES])
    trainer = session.sync(cfg)
    restore.apply_pending(trainer)  # a weights file loaded back: its settings now run
    settings.show_notices(cfg)
    if trainer is None:
        st.stop()
    session.controls(trainer)
    panels.pairing(trainer.info)
    beside = st.columns([2, 1]) if present.chart() else None  # one projector screen
    planeless = trainer.info.points is None and present.chart() is None
    session.live(
        trainer,
        overview,
        inside,
        notes=lambda: notes(trainer.info, trainer.playing),
        beside=beside,
        slow_visuals=("histograms", "network", "results") if planeless else SLOW,
    )
    session.downloads(trainer)


main()
