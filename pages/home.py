"""Home: what the app is, where to go, and the scenarios that open the Playground ready-made."""

from pathlib import Path

import streamlit as st

from playground.presets import PRESETS
from ui.entry import enter_through_app
from ui.labs import found as found_labs

PLAYGROUND = "pages/1_playground.py"
EXPLORER = "pages/2_explorer.py"
COMPARE = "pages/3_compare.py"
LABS = "pages/4_labs.py"
GALLERY = Path(__file__).resolve().parent.parent / "docs" / "gallery"  # 16:9 thumbnails

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
        label="Labs: dying ReLU, vanishing gradients, output and loss, initialisation and more",
        icon=":material/science:",
    )
    gallery(
        "Labs: a question and the experiment that answers it",
        [(LABS, lab.title, lab.question, {"lab": key}, key) for key, lab in found_labs().items()],
    )
    gallery(
        "Start from a scenario",
        [(PLAYGROUND, p.title, p.note, p.query(), p.key) for p in PRESETS.values()],
    )


def gallery(title: str, cards: list[tuple[str, str, str, dict[str, str], str]]) -> None:
    """Cards of three a row: a thumbnail where one is kept, the link, and a line on it."""
    st.subheader(title)
    cols = st.columns(3)
    for i, (page, label, note, query, key) in enumerate(cards):
        box = cols[i % 3].container(border=True)
        thumb = GALLERY / f"{key}.png"
        if thumb.exists():
            box.image(str(thumb), width="stretch")
        box.page_link(page, label=label, icon=":material/school:", query_params=query)
        box.caption(note)


main()
