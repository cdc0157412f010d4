"""Compare: race variants of one setting (activations, initialisations, learning rates, ...)
over several weight seeds, every model on the same data and batches, trained in lock-step.

Composition only: the shared settings come from the sidebar (ui.settings), what varies and the
race's panels from ui.race, the trainer from the session (ui.session).
"""

from __future__ import annotations

import streamlit as st

from playground.comparison_config import COMPARE_KEYS
from ui import present, race, session, settings
from ui.entry import enter_through_app

enter_through_app()


def main() -> None:
    st.title("Compare")
    if present.chart() is None:  # presenting, the race has the screen
        st.markdown(
            "Which activation should this network use? Race them: every variant trains "
            "several times from different starting weights, all on the same batches, so a "
            "band shows how much the result depends on the starting weights."
        )
    new_link = settings.arrived_with_a_new_link(st.query_params.to_dict())
    base = settings.sidebar(extra=COMPARE_KEYS)
    cfg = race.picker(base, new_link)
    trainer = session.sync(cfg)
    settings.show_notices(base)
    race.show_notices(cfg)
    if trainer is None:
        st.stop()
    race.panel(trainer, page="compare")


main()
