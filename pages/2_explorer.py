"""Explorer: each activation function on its own, measured, and which one to use where.

Composition only: the parts come from ui.explorer, the numbers from the engine.
"""

from __future__ import annotations

import streamlit as st

from playground import activations
from ui import explorer
from ui.entry import enter_through_app

enter_through_app()


def main() -> None:
    st.title("Explorer")
    st.markdown(
        "Every activation the Playground offers, drawn with its slope, and measured as PyTorch "
        "runs it. The slope is what training passes back through a unit: where it is 0, no "
        "gradient passes back through the unit for that input, so its incoming weights learn "
        "nothing from it."
    )
    keys, alphas, span = explorer.pick()
    if not keys:
        st.info("Pick at least one activation above to draw it.")
    else:
        explorer.plots(keys, alphas, span)
        for key, tab in zip(keys, st.tabs([activations.get(k).label for k in keys]), strict=True):
            with tab:
                explorer.sheet(key, alphas.get(key))
    st.subheader("Measured properties")
    explorer.table()
    st.subheader("Which should I use?")
    explorer.advisor()


main()
