"""Shared fixtures, and the two tiers of the suite.

A plain `pytest` runs the quick tier: every test that starts no server, browser, Ray or
subprocess. `pytest --full` (what `scripts/test.sh` runs) adds the rest. A test's tier follows
from the fixtures it uses: those in FULL_TIER_FIXTURES start something outside this process, so
a test that asks for one is in the full tier. In the quick tier a test cannot start a process
behind the fixtures' back: starting one fails with the name of the fixture to use.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator

import pytest

from playground import backends, configure_torch
from playground.runner import Slots

configure_torch()  # as the app starts: one torch thread a process, or workers fight for cores

# the fixtures that start a server, a browser, Ray or a subprocess: asking for one is the tier
FULL_TIER_FIXTURES = frozenset({"server", "browser", "ray_local", "spawn"})
# Tests that share one of these run on one worker when the suite runs in parallel: one Ray
# cluster, not one per worker. Browser tests spread over the workers, each worker with a test
# server of its own: measured, 383 s for the full run against 421-446 s with them on one.
GROUPS = {"ray_local": "ray"}
FULL = pytest.mark.full
RAY = pytest.mark.xdist_group("ray")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--full",
        action="store_true",
        help="run the full tier too: tests that start a server, a browser, Ray or a subprocess",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "full: starts a server, browser, Ray or subprocess")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test that uses a full-tier fixture; leave those out unless --full."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if FULL_TIER_FIXTURES & names:
            item.add_marker(FULL)
        for group in sorted({GROUPS[n] for n in names & GROUPS.keys()}):
            item.add_marker(pytest.mark.xdist_group(group))
    if config.getoption("--full"):
        return
    quick = [item for item in items if item.get_closest_marker("full") is None]
    left_out = [item for item in items if item.get_closest_marker("full") is not None]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = quick


def pytest_report_header(config: pytest.Config) -> str:
    if config.getoption("--full"):
        return "tier: full (servers, browsers, Ray and subprocesses included)"
    return "tier: quick (add --full, or run scripts/test.sh, for the whole suite)"


class FullTierOnly(RuntimeError):
    """A quick-tier test tried to start a process."""


@pytest.fixture(autouse=True)
def _no_processes_in_the_quick_tier(request: pytest.FixtureRequest) -> Iterator[None]:
    """A quick test that starts a process fails here, naming the fixtures that put it in the
    full tier, so the tiers cannot drift from what the tests do. (Patched by hand: the test's
    own `monkeypatch` must be undone before its other fixtures end.)"""
    if request.node.get_closest_marker("full") is not None:
        yield
        return

    def refuse(*args, **kwargs):
        raise FullTierOnly(
            "a quick-tier test started a process: ask for one of the fixtures "
            f"{sorted(FULL_TIER_FIXTURES)} (tests/conftest.py) to put it in the full tier"
        )

    start = subprocess.Popen._execute_child
    subprocess.Popen._execute_child = refuse
    try:
        yield
    finally:
        subprocess.Popen._execute_child = start


@pytest.fixture(scope="session")
def spawn() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`spawn(args, ...)` runs this Python with `args` and returns what it printed."""

    def run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
        options = {"capture_output": True, "text": True, "timeout": 240, **kwargs}
        return subprocess.run([sys.executable, *args], **options)

    return run


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
    for thing in reversed(made):  # the last made first: a trainer before its backend
        thing.close()


@pytest.fixture(scope="module")
def ray_local() -> Iterator[object]:
    """A local Ray on loopback for one test module, as the app starts its own; shut down with
    the module, so no Ray process outlives the tests that used it."""
    ray = pytest.importorskip("ray")
    backends.init_ray(None, num_cpus=2)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def ray_backend(ray_local) -> Iterator[backends.RayBackend]:
    """A Ray backend with a cap of 2 and slots of its own for one test module (its slots
    actor takes seconds to start); the module's tests close their trainers, so each finds
    every slot free, and the slots actor ends with the module."""
    backend = backends.RayBackend(2, slots_name=f"slots-{uuid.uuid4().hex}")
    yield backend
    backend.close()


@pytest.fixture(params=["thread", pytest.param("ray", marks=[FULL, RAY])])
def backend(request):
    """A backend of each kind with a cap of 2, its slots its own."""
    if request.param == "ray":
        return request.getfixturevalue("ray_backend")
    return backends.ThreadBackend(Slots(2))
