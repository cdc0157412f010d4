"""The live page's schedules and renderers, and the overfitting hint under the curves."""

import json
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from apptools import open_page

from playground import advice
from playground.config import RunConfig
from playground.runner import Trainer
from playground.train import Run
from ui import panels, session


class _FakeTrainer:
    """Records what each fragment asked a snapshot for."""

    playing, queued = True, False

    def __init__(self) -> None:
        self.asked: list[object] = []

    def snapshot(self, visuals=True):
        self.asked.append(visuals)
        place = 2 if self.queued else None
        return SimpleNamespace(
            message=None, playing=self.playing, divergence=None, queue_place=place, visuals=visuals
        )


def test_fast_charts_refresh_at_2_hz_and_slow_charts_at_least_every_2_s(monkeypatch):
    timers = []

    def fragment(run_every=None):  # records each fragment's timer as it runs
        def wrap(body):
            def run():
                timers.append(run_every)
                body()

            return run

        return wrap

    notes = []
    monkeypatch.setattr(session.st, "fragment", fragment)
    monkeypatch.setattr(session.st, "session_state", {})
    monkeypatch.setattr(session.st, "info", lambda text, **_: notes.append(text))
    monkeypatch.setattr(session, "backend", lambda: SimpleNamespace(where="here", limit=4))
    trainer, drawn = _FakeTrainer(), {}
    session.live(
        trainer,
        lambda snap: [lambda: drawn.setdefault("fast", snap.visuals)],
        lambda snap: [lambda: drawn.setdefault("slow", snap.visuals)],
    )
    assert timers == [0.5, 2.0] and session.REFRESH_S <= 0.5 and session.SLOW_S <= 2.0
    # the map's forward pass at the fast pace, the histograms' only at the slow one
    assert drawn == {"fast": ("boundary",), "slow": ("histograms",)}
    trainer.playing = False
    timers.clear()
    session.live(trainer, lambda snap: [], lambda snap: [])
    assert timers == [None, None]  # paused: drawn once, no timers
    trainer.queued = True
    timers.clear()
    trainer.asked.clear()
    session.live(trainer, lambda snap: [], lambda snap: [])
    # queued: only the queue's note polls, without a map; the charts are drawn once
    assert timers == [0.5, None, None] and trainer.asked[0] is False
    assert notes == ["All 4 training slots on here are in use: you are number 2 in the queue. "
                     "Training starts by itself when a slot frees (Pause leaves the queue; "
                     "Step still works)."]  # fmt: skip


def test_a_snapshot_computes_only_the_visuals_asked_for():
    trainer = Trainer(RunConfig(dataset="spiral"))
    try:
        only_map = trainer.snapshot(visuals=("boundary",))
        only_hist = trainer.snapshot(visuals=("histograms",))
        both, neither = trainer.snapshot(), trainer.snapshot(visuals=False)
    finally:
        trainer.close()
    assert only_map.boundary is not None and only_map.histograms is None
    assert only_hist.boundary is None and only_hist.histograms is not None
    assert both.boundary is not None and both.histograms is not None
    assert neither.boundary is None and neither.histograms is None


@pytest.mark.usefixtures("fresh_session")
def test_every_chart_is_drawn_on_a_canvas():
    at = open_page(dataset="spiral", activation="relu")
    renderers = {}
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        title = spec.get("title") or "untitled"
        renderers[str(title)] = spec["usermeta"]["embedOptions"]["renderer"]
    assert "Decision boundary" in renderers
    assert len(renderers) >= 6 and set(renderers.values()) == {"canvas"}


def _curves(train_loss, test_loss, train_metric, test_metric) -> pd.DataFrame:
    n = len(train_loss)
    return pd.DataFrame(
        {
            "step": np.arange(n) * 100,
            "train_loss": train_loss,
            "test_loss": test_loss,
            "train_metric": train_metric,
            "test_metric": test_metric,
        }
    )


def test_overfitting_is_named_when_test_loss_climbs_while_training_loss_falls():
    falling = np.linspace(1.0, 0.1, 8)
    test = np.array([1.0, 0.6, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9])  # lowest at step 200
    frame = _curves(falling, test, np.linspace(0.5, 0.95, 8), np.linspace(0.5, 0.6, 8))
    found = advice.overfitting(frame)
    assert found == advice.Overfitting(200, frame.test_metric[2], 0.95, 0.6)
    frame.loc[[1, 5], "test_loss"] = np.nan  # probes that skipped the test set are left out
    assert advice.overfitting(frame).best_step == 200


@pytest.mark.parametrize(
    "change",
    [
        {"test_loss": np.linspace(1.0, 0.2, 8)},  # test loss still falling: learning
        {"train_loss": np.full(8, 0.5)},  # training loss stalled too: not memorising
        {"test_metric": np.linspace(0.5, 0.93, 8)},  # metrics alike: a noisy rise, not a gap
    ],
)
def test_no_overfitting_without_all_three_signs(change):
    columns = {
        "train_loss": np.linspace(1.0, 0.1, 8),
        "test_loss": np.array([1.0, 0.6, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9]),
        "train_metric": np.linspace(0.5, 0.95, 8),
        "test_metric": np.linspace(0.5, 0.6, 8),
    }
    assert advice.overfitting(_curves(**{**columns, **change})) is None


def test_diabetes_with_the_defaults_is_flagged_with_its_numbers_and_what_to_try():
    run = Run(RunConfig(dataset="diabetes", probe_every=250))
    run.step(6000)
    probes = run.history.probes.frame(scalar_only=True)
    found = advice.overfitting(probes)
    assert found is not None and found.train_metric - found.test_metric > 0.3
    best = probes["test_loss"].idxmin()
    assert found.best_step == probes["step"][best]
    text = panels.overfit_hint(SimpleNamespace(probes=probes, task="regression"))
    assert f"training R² is {found.train_metric:.2f}" in text
    assert f"since step {found.best_step:,}" in text and "larger train share" in text
    early = probes[probes["step"] <= 750]  # too early to judge
    assert panels.overfit_hint(SimpleNamespace(probes=early, task="regression")) is None


class _Recorder:
    """Stands in for `st` and its containers: notes the name of every element sent."""

    def __init__(self, sent: list[str]) -> None:
        self.sent = sent

    def __getattr__(self, name: str):
        def send(*args, **kwargs):
            self.sent.append(name)
            if name == "columns":
                n = args[0] if isinstance(args[0], int) else len(args[0])
                return [_Recorder(self.sent) for _ in range(n)]
            return None

        return send


def test_panels_compute_everything_before_sending_one_element(monkeypatch):
    sent: list[str] = []
    monkeypatch.setattr(panels, "st", _Recorder(sent))
    trainer = Trainer(RunConfig(dataset="spiral", activation="relu", lr=1.0))
    try:
        trainer.step()
        snap = trainer.snapshot()
    finally:
        trainer.close()
    builders = (panels.metrics, panels.map_and_curves, panels.unit_health, panels.gradients)
    shows = [build(snap) for build in builders]
    shows.append(panels.histograms(snap))
    assert sent == ["segmented_control"]  # a widget: its value picks the chart to build
    for show in shows:
        show()
    charts_sent = sent.count("vega_lite_chart")
    # map, the curves stacked in one view, dead units over time and now (saturation does not
    # apply to ReLU), gradients, histograms
    assert sent[1] == "html" and charts_sent == 6


class _Paused:
    """A trainer stand-in that notes what was done to it."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.closed = False

    def pause(self) -> None:
        self.done.append("pause")

    def close(self) -> None:
        self.done.append("close")
        self.closed = True


def test_a_dropped_connection_pauses_the_run_and_keeps_it_for_the_sessions_return():
    parked, trainer = session.Parked(), _Paused()
    parked.park("tab-1", trainer, ttl_s=5.0)
    assert trainer.done == ["pause"] and len(parked) == 1  # stopped at once, not freed
    assert parked.claim("tab-2") is None  # another session never gets it
    assert parked.claim("tab-1") is trainer and len(parked) == 0
    time.sleep(0.1)
    assert trainer.done == ["pause"]  # claimed: its timer will not close it


def test_a_session_that_does_not_come_back_within_the_ttl_is_freed():
    parked, trainer = session.Parked(), _Paused()
    parked.park("tab-1", trainer, ttl_s=0.2)
    time.sleep(0.5)
    assert trainer.done == ["pause", "close"] and parked.claim("tab-1") is None


def test_the_release_hook_parks_the_trainer_and_a_new_box_for_the_session_takes_it(monkeypatch):
    monkeypatch.setattr(session, "PARKED", session.Parked())
    trainer = _Paused()
    box = session.TrainerBox("tab-1")
    box.trainer = trainer
    box.close()  # what Streamlit calls when the tab's websocket drops
    assert trainer.done == ["pause"]
    again = session.TrainerBox("tab-1")  # the tab reconnected: its session's box is rebuilt
    assert again.trainer is trainer and again.reattached
    assert session.TrainerBox("tab-9").trainer is None
    session.PARKED.close_all()
