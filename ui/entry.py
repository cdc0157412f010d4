"""Open a shared deep link cleanly on a fresh server.

Streamlit decides per process, before the first script run, whether the app is an old-style
multipage app: it is, until `st.navigation` is first called, whenever a `pages/` folder sits
beside the entry script. So the very first visit to `/playground?...` after a server start is
resolved against the folder's file names and, failing that, shows a "Page not found" dialog
over the right page (streamlit#8860, #9624): the link a teacher prepared is the one that hits
it. Each page file is named so that the folder's naming rule gives its URL path
(`1_playground.py` -> `playground`: a leading number is dropped, and the file cannot shadow the
`playground` package on `sys.path`), so that first visit finds the file; the file then hands
over to `app.py`'s navigation (same page, same query string) before drawing anything.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def enter_through_app() -> None:
    """Rerun through `app.py` when Streamlit ran this page file directly, as on a fresh
    server's first deep link; a no-op otherwise."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what st.navigation itself would set
        st.rerun()
