"""Home: what the app is, in two sentences, and where to go."""

import streamlit as st

from ui.entry import enter_through_app

enter_through_app()

st.title("Activation Playground")
st.markdown(
    "Train a real PyTorch network in your browser and watch what its activation functions do "
    "inside it: loss curves, decision boundaries, per-layer activation histograms, gradient "
    "norms, and the units that die or saturate. Change the activation, depth, initialisation or "
    "learning rate and see, layer by layer, why ReLU units die and sigmoid gradients vanish."
)
st.page_link(
    "pages/1_playground.py",
    label="Playground: pick a network, press Play, watch it learn",
    icon=":material/play_circle:",
)
