"""Shared by the page tests: each AppTest starts from a fresh session cache."""

import pytest


@pytest.fixture
def fresh_session():
    """AppTest instances share one session id: drop the previous test's trainer."""
    import streamlit as st  # imported here: the engine tests never need Streamlit

    st.cache_resource.clear()
    yield
    st.cache_resource.clear()
