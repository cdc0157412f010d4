"""Labs: one click from a question to the experiment that answers it.

Composition only: the lab and its words come from ui.labs, the shared settings from the sidebar
(ui.settings, with the lab's applied), the race's panels from ui.race, the trainer from the
session (ui.session).
"""

from __future__ import annotations

import streamlit as st

from ui import labs, present, race, session, settings
from ui.entry import enter_through_app

enter_through_app()


def main() -> None:
    st.title("Labs")
    params = st.query_params.to_dict()
    lab = labs.current(params, settings.arrived_with_a_new_link(params))
    present.prefer(lab.present)  # present=1 shows the chart the lab's words say to watch
    seeds = labs.picker(lab)
    base = settings.sidebar(extra=labs.LAB_KEYS, under=lab.query())
    settings.show_notices(base)
    labs.words(lab)
    if lab.guess is not None:  # nothing trains: guess, then see the starting weights measured
        labs.guess_and_reveal(lab, base, seeds)
        labs.next_question(lab)
        return
    trainer = session.sync(labs.config(lab, base, seeds))
    if trainer is None:
        st.stop()
    race.panel(trainer, page="labs", after=lambda: labs.after_race(lab))


main()
