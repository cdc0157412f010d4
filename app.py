"""Activation Playground: the entry point. Page config and navigation, nothing else."""

import streamlit as st
import torch

torch.set_num_threads(1)  # tiny models: extra threads only fight the web server for 2 cores

st.set_page_config(page_title="Activation Playground", page_icon="🧠", layout="wide")
home = st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)
playground = st.Page(
    "pages/playground_live.py",
    title="Playground",
    icon=":material/play_circle:",
    url_path="playground",
)
st.navigation([home, playground]).run()
