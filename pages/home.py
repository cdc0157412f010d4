"""Home: what the app is, where to go, and the scenarios that open the Playground ready-made."""

import streamlit as st

from playground.presets import PRESETS
from ui.entry import enter_through_app

PLAYGROUND = "pages/1_playground.py"
EXPLORER = "pages/2_explorer.py"
COMPARE = "pages/3_compare.py"
LABS = "pages/4_labs.py"

enter_through_app()


def main() -> None:
    st.title("Activation Playground")
    st.markdown(
        "Train a real PyTorch network in your browser and watch what its activation functions "
        "do inside it: loss curves, decision boundaries, per-layer activation histograms, "
        "gradient norms, and the units that die or saturate. Change the activation, depth, "
        "initialisation or learning rate and see, layer by layer, why ReLU units die and "
        "sigmoid gradients vanish."
    )
    st.page_link(
        PLAYGROUND,
        label="Playground: pick a network, press Play, watch it learn",
        icon=":material/play_circle:",
    )
    st.page_link(
        EXPLORER,
        label="Explorer: each activation and its slope, measured, and which one to use where",
        icon=":material/function:",
    )
    st.page_link(
        COMPARE,
        label="Compare: race activations (or initialisations, learning rates, optimisers) "
        "over several seeds, side by side",
        icon=":material/compare_arrows:",
    )
    st.page_link(
        LABS,
        label="Labs: dying ReLU, vanishing gradients, output and loss, one click each",
        icon=":material/science:",
    )
    st.subheader("Start from a scenario")
    cols = st.columns(2)
    for i, preset in enumerate(PRESETS.values()):
        box = cols[i % 2].container(border=True)
        box.page_link(
            PLAYGROUND,
            label=preset.title,
            icon=":material/school:",
            query_params=preset.query(),
        )
        box.caption(preset.note)


main()
