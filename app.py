"""Activation Playground: the entry point. Page config, navigation and a presenter link's
notice, nothing else."""

import streamlit as st

from ui import present, screen
from ui.settings import literal

present.from_link(st.query_params.to_dict())
st.set_page_config(
    page_title="Activation Playground",
    page_icon="🧠",
    layout="wide",
    initial_sidebar_state="collapsed" if present.chart() else "auto",
)
present.style()
screen.watch()
if present.notice():
    st.warning(f"Link: {literal(present.notice())}", icon=":material/link:")
home = st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)
playground = st.Page(
    "pages/1_playground.py",
    title="Playground",
    icon=":material/play_circle:",
    url_path="playground",
)
explorer = st.Page(
    "pages/2_explorer.py", title="Explorer", icon=":material/function:", url_path="explorer"
)
compare = st.Page(
    "pages/3_compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"
)
labs = st.Page("pages/4_labs.py", title="Labs", icon=":material/science:", url_path="labs")
st.navigation([home, playground, explorer, compare, labs]).run()
