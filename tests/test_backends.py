"""The trainer contract, held by both backends: a page cannot tell which one runs its trainer.

The `ray` cases run against a local Ray on loopback, started once for the whole test session
(about 10 s); they skip, saying why, where Ray is not installed.
"""

import io
import time
from pathlib import Path

import pandas as pd
import pytest
from apptools import open_page, wait_for

from bench import capacity
from playground import backends
from playground.backends import Settings
from playground.config import RunConfig

CFG = RunConfig(dataset="circle", n_points=200, depth=2, width=8)
DIVERGES = RunConfig(dataset="plane", activation="relu", optimizer="sgd", lr=10.0, probe_every=5)


@pytest.fixture
def trainers(backend, closing):
    return lambda cfg=CFG: closing(backend.trainer(cfg, boundary_resolution=20))


def test_play_trains_and_pause_stops_at_once(trainers):
    t = trainers()
    assert t.play() and t.playing
    assert wait_for(lambda: t.snapshot(visuals=False).step > 100)
    start = time.monotonic()
    t.pause()
    paused_at = t.snapshot(visuals=False).step
    assert time.monotonic() - start < 0.5 and not t.playing
    time.sleep(0.3)
    assert t.snapshot(visuals=False).step == paused_at


def test_step_and_reset_and_what_a_snapshot_holds(trainers):
    t = trainers()
    t.step()
    t.step(2)
    snap = t.snapshot()
    assert (snap.step, snap.latest.step, snap.latest.test_step) == (3, 3, 3)
    assert list(snap.probes["step"]) == [0, 1, 3]
    assert snap.boundary["value"].shape == (20, 20) and snap.histograms is not None
    assert set(snap.layers["layer"]) == {1, 2}
    assert snap.info.layer_keys == ["tanh", "tanh"] and snap.info.points is not None
    assert t.snapshot(visuals=False).boundary is None
    t.reset()
    assert t.snapshot(visuals=False).step == 0


def test_learning_rate_and_rebuild_through_apply(trainers):
    t = trainers()
    t.step(3)
    assert t.apply(CFG.replace(lr=0.1)) == "lr"
    snap = t.snapshot(visuals=False)
    assert (snap.step, snap.cfg.lr) == (3, 0.1)
    assert t.apply(CFG.replace(depth=3)) == "rebuilt"
    assert t.info.layer_keys == ["tanh"] * 3 and t.snapshot(visuals=False).step == 0


def test_divergence_stops_playing_with_its_reason(trainers):
    t = trainers(DIVERGES)
    t.play()
    assert wait_for(lambda: not t.playing)
    snap = t.snapshot(visuals=False)
    assert snap.divergence is not None and "not a finite number" in snap.divergence.message()
    assert not t.play()
    t.set_lr(0.001)
    assert t.play()
    t.pause()


def test_a_play_past_the_cap_waits_its_turn_and_starts_by_itself(trainers, backend):
    a, b, c = trainers(), trainers(), trainers()
    assert a.play() and b.play()
    assert backend.running() == 2 and not c.play()
    assert c.queued and c.snapshot(visuals=False).queue_place == 1
    a.pause()
    assert wait_for(lambda: c.playing, timeout=5) and not c.queued
    b.close()
    c.close()
    assert backend.running() == 0 and b.closed


def test_export_gives_history_weights_and_config(trainers):
    t = trainers()
    t.step(3)
    csv, weights, cfg = t.export()
    steps = list(pd.read_csv(io.StringIO(csv))["step"])
    # probed at the start and the last step; a slow host may add one by the probe clock
    assert steps[0] == 0 and steps[-1] == 3 and steps == sorted(set(steps))
    assert {"head.weight", "linears.0.weight"} <= set(weights)
    assert cfg["dataset"] == "circle"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PLAYGROUND_BACKEND": "processes"}, "is not a backend"),
        ({"PLAYGROUND_MAX_TRAINERS": "-3"}, "whole number >= 1"),
        ({"PLAYGROUND_MAX_TRAINERS": "many"}, "whole number >= 1"),
    ],
)
def test_bad_backend_settings_are_refused_with_their_reason(env, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_backend_settings_default_to_threads_for_one_person():
    assert Settings.from_env({}) == Settings("thread", 4, None)
    env = {"PLAYGROUND_BACKEND": "Ray", "PLAYGROUND_MAX_TRAINERS": "16"}
    got = Settings.from_env({**env, "PLAYGROUND_RAY_ADDRESS": "x:1"})
    assert got == Settings("ray", 16, "x:1")


@pytest.mark.usefixtures("fresh_session")
def test_a_bad_backend_setting_is_a_message_on_the_page_not_a_traceback(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_BACKEND", "processes")
    monkeypatch.setattr(backends, "_default", None)
    at = open_page()
    assert not at.exception
    assert any("PLAYGROUND_BACKEND='processes' is not a backend" in e.value for e in at.error)


def _capacity_sample(name: str) -> None:
    """A one-second sample of bench/capacity.py: two sessions polling like the page."""
    sessions = capacity.measure(name, 2, 1.0)
    assert len(sessions) == 2
    assert all(s.steps_per_s > 50 and s.still and s.pause_s < 1.0 for s in sessions)


def test_capacity_sample_on_threads_every_session_trains_and_pauses():
    _capacity_sample("thread")


def test_capacity_sample_on_ray_every_session_trains_and_pauses(ray_local):
    _capacity_sample("ray")


def test_the_ray_trainer_rebuilds_the_whole_history_from_changes_alone(ray_backend, closing):
    t = closing(ray_backend.trainer(CFG.replace(probe_every=1), boundary_resolution=20))
    for steps in [*[300] * 8, 0]:  # past the history's 2,000 rows: it thins on the way
        if steps:
            t.step(steps)
        else:
            t.reset()
        merged = t.snapshot(visuals=False)
        whole = t._call("snapshot", False)  # what one full copy would have brought
        pd.testing.assert_frame_equal(merged.probes, whole.probes)
        pd.testing.assert_frame_equal(merged.layers, whole.layers)
        assert merged.info.layer_keys == whole.info.layer_keys
        pd.testing.assert_frame_equal(merged.info.points, whole.info.points)
    assert list(merged.probes["step"]) == [0]


_PAGE_THREADS = """
import sys, threading
from playground import backends
from playground.config import RunConfig

made = {}
def page_run(name):  # as Streamlit runs each page script: on a thread that then ends
    if "backend" not in made:
        made["backend"] = backends.RayBackend(2, slots_name="slots-page-threads")
    trainer = made["backend"].trainer(RunConfig(dataset="circle", depth=2, width=8))
    made[name] = trainer.snapshot(visuals=False).step
    trainer.close()
for name in ("first", "second", "third"):
    thread = threading.Thread(target=page_run, args=(name,), daemon=True)
    thread.start()
    thread.join(60)
    if thread.is_alive():
        print(name, "hung")
        sys.exit(1)
print("ok", made["first"], made["second"], made["third"])
"""


def test_ray_trainers_made_on_page_threads_that_end_all_start(spawn):
    """Ray started on one page run's thread, trainers asked for on the next runs' threads.

    A separate process, so Ray starts there the way a server starts it (the tests' own Ray
    was started on the main thread). Before the backend kept Ray's lifecycle calls on one
    thread of its own, the second trainer never started.
    """
    pytest.importorskip("ray")
    done = spawn(["-c", _PAGE_THREADS], cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.strip().splitlines()[-1:] == ["ok 0 0 0"], done.stdout + done.stderr


class _Counting:
    """Stands in for a trainer actor, counting the commands that reach it."""

    def __init__(self, actor) -> None:
        self.names: list[str] = []
        outer = self

        class Call:
            @staticmethod
            def remote(name, *args, **kwargs):
                outer.names.append(name)
                return actor.call.remote(name, *args, **kwargs)

        self.call = Call


def test_a_page_rerun_costs_the_ray_trainer_few_round_trips(ray_backend, closing, monkeypatch):
    """Each reply carries playing/queued for a moment, and a config already applied is not
    sent again: on a busy host every round trip is time a page's Pause waits."""
    t = closing(ray_backend.trainer(CFG))
    counting = _Counting(t._actor)
    monkeypatch.setattr(t, "_actor", counting)  # undone before `closing` ends the actor
    assert t.play() and t.playing and not t.queued
    assert t.apply(CFG) is None  # the config it was built with
    t.pause()
    assert not t.playing and not t.queued
    assert counting.names == ["play", "pause"]
    assert t.apply(CFG.replace(lr=0.01)) == "lr" and t.apply(CFG.replace(lr=0.01)) is None
    time.sleep(backends.STATE_FRESH_S + 0.05)
    assert not t.playing  # a state that old is asked for again
    assert counting.names == ["play", "pause", "apply", "playing"]
    t.set_lr(0.1)  # the trainer's config now differs from the one last applied
    assert t.apply(CFG.replace(lr=0.01)) == "lr"
