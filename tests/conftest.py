"""Shared fixtures: a fresh session cache for each AppTest, trainers closed after a test."""

import uuid

import pytest

from playground import backends
from playground.runner import Slots


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


@pytest.fixture(scope="session")
def ray_local():
    """A local Ray on loopback for the whole test session, as the app starts its own."""
    ray = pytest.importorskip("ray")
    backends.init_ray(None, num_cpus=2)
    yield ray
    ray.shutdown()


@pytest.fixture(params=["thread", "ray"])
def backend(request):
    """A backend of each kind with a cap of 2, its slots its own."""
    if request.param == "ray":
        request.getfixturevalue("ray_local")
        return backends.RayBackend(2, slots_name=f"slots-{uuid.uuid4().hex}")
    return backends.ThreadBackend(Slots(2))
