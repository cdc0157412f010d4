"""Shared fixtures: a fresh session cache for each AppTest, trainers closed after a test."""

import pytest


@pytest.fixture
def fresh_session():
    """AppTest instances share one session id: drop the previous test's trainer."""
    import streamlit as st  # imported here: the engine tests never need Streamlit

    from ui.session import PARKED

    st.cache_resource.clear()
    PARKED.close_all()  # a released session's trainer waits there for the same session id
    yield
    st.cache_resource.clear()
    PARKED.close_all()


@pytest.fixture
def closing():
    """`closing(x)` returns x and closes it when the test ends (trainers, mostly)."""
    made = []

    def keep(thing):
        made.append(thing)
        return thing

    yield keep
    for thing in made:
        thing.close()
