"""The live trainer: commands take effect quickly, the host cap holds, idle pages pause."""

import functools
import gc
import io
import pickle
import threading
import time
import weakref
from types import SimpleNamespace

import pandas as pd
import pytest
import torch
from apptools import wait_for
from safetensors.torch import load, save

from playground import runner, train
from playground.config import RunConfig
from playground.history import History
from playground.runner import Trainer

CFG = RunConfig(dataset="circle", n_points=200, depth=2, width=8)


@pytest.fixture
def trainers(closing):
    return lambda cfg=CFG: closing(Trainer(cfg, boundary_resolution=20))


def test_play_trains_and_pause_stops_within_half_a_second(trainers):
    t = trainers()
    assert t.play()
    assert wait_for(lambda: t.snapshot(visuals=False).step > 100)
    start = time.monotonic()
    t.pause()
    paused_at = t.snapshot(visuals=False).step
    assert time.monotonic() - start < 0.5
    time.sleep(0.3)
    assert t.snapshot(visuals=False).step == paused_at


def test_step_while_paused_probes_the_new_state(trainers):
    t = trainers()
    t.step()
    t.step()
    snap = t.snapshot()
    assert snap.step == 2 and snap.latest.step == 2 and snap.latest.test_step == 2
    assert snap.boundary["value"].shape == (20, 20)
    assert list(snap.probes["step"]) == [0, 1, 2]
    assert snap.probes["test_loss"].notna().all()  # a Step always measures the test set


def test_snapshot_is_a_copy(trainers):
    t = trainers()
    t.step()
    snap = t.snapshot()
    t.step(5)
    assert snap.step == 1 and len(snap.probes) == 2


def test_plays_past_the_cap_queue_in_order_and_start_by_themselves():
    slots = runner.Slots(1)
    a, b, c = (Trainer(CFG, boundary_resolution=20, slots=slots) for _ in range(3))
    try:
        assert a.play()
        assert not b.play() and not c.play()  # refused: both wait, b first
        assert b.queued and b.snapshot(visuals=False).queue_place == 1
        assert c.snapshot(visuals=False).queue_place == 2
        a.pause()  # a slot frees: b's turn, not c's
        assert wait_for(lambda: b.playing, timeout=3)
        assert not c.playing and c.snapshot(visuals=False).queue_place == 1
        assert "Your turn" in b.snapshot(visuals=False).message
        c.pause()  # leaves the queue
        assert not c.queued and slots.place(c._key) is None
        b.close()
        time.sleep(0.5)
        assert not c.playing and slots.count() == 0
    finally:
        for t in (a, b, c):
            t.close()


def test_idle_page_pauses_its_trainer(trainers, monkeypatch):
    monkeypatch.setattr(runner, "HEARTBEAT_S", 0.3)
    t = trainers()
    t.play()
    assert wait_for(lambda: not t.playing, timeout=3)
    snap = t.snapshot(visuals=False)
    assert "stopped asking" in snap.message and runner.running_trainers() == 0


def test_close_stops_the_thread(trainers):
    t = trainers()
    t.play()
    t.close()
    assert not t._thread.is_alive() and not t.playing


def test_divergence_stops_playing(trainers):
    t = trainers(
        RunConfig(dataset="plane", activation="relu", optimizer="sgd", lr=10.0, probe_every=5)
    )
    t.play()
    assert wait_for(lambda: not t.playing)
    snap = t.snapshot(visuals=False)
    assert snap.divergence is not None and not t.play()
    t.set_lr(0.001)
    assert t.play()
    t.pause()


def test_export_gives_the_history_weights_and_config(trainers):
    t = trainers()
    t.step(3)
    csv, weights, cfg = t.export()
    frame = pd.read_csv(io.StringIO(csv))
    assert list(frame["step"]) == [0, 3]
    assert {"train_loss", "dead_fraction_1", "grad_norm_2"} <= set(frame.columns)
    restored = load(save(weights))
    for k, v in t.run.model.state_dict().items():
        assert torch.equal(restored[k], v), k
    assert cfg["schema_version"] == 1 and cfg["dataset"] == "circle"


def test_what_stays_fixed_travels_once_per_run(trainers):
    t = trainers(CFG.replace(dataset="moons"))
    first, second = t.snapshot(), t.snapshot()
    assert first.info is second.info  # the data points are not rebuilt per refresh
    points = first.info.points
    n_train = len(t.run.data.y_train)
    assert (points["split"] == "train").sum() == n_train
    assert points[points["split"] == "train"]["x1"].tolist() == pytest.approx(
        t.run.data.x_train[:, 0].tolist()
    )
    assert first.info.layer_keys == ["tanh", "tanh"] and first.info.device == "cpu"
    assert first.info.pairing_label == "One logit + BCEWithLogitsLoss"
    assert trainers(CFG.replace(dataset="iris")).snapshot().info.points is None  # not 2-D


def test_apply_says_what_a_new_config_took(trainers):
    t = trainers()
    t.step(3)
    assert t.apply(CFG) is None
    assert t.apply(CFG.replace(log_loss=True)) == "display"
    assert t.snapshot(visuals=False).step == 3
    assert t.apply(CFG.replace(log_loss=True, lr=0.1)) == "lr"
    snap = t.snapshot(visuals=False)
    assert (snap.step, snap.cfg.lr, snap.cfg.log_loss) == (3, 0.1, True)
    old_info = snap.info
    t.play()
    assert t.apply(CFG.replace(depth=3)) == "rebuilt"
    snap = t.snapshot(visuals=False)
    assert not t.playing and runner.running_trainers() == 0
    assert snap.step == 0 and snap.cfg.depth == 3 and snap.info is not old_info
    assert snap.info.layer_keys == ["tanh"] * 3


def _same_frames(a, b) -> None:
    pd.testing.assert_frame_equal(a.probes.reset_index(drop=True), b.probes)
    pd.testing.assert_frame_equal(a.layers.reset_index(drop=True), b.layers)


def test_changes_bring_only_new_probes_and_start_over_when_rows_went(trainers):
    t = trainers(CFG.replace(probe_every=1))
    t.step(3)
    first, cursor, partial = t.changes(visuals=False)
    assert not partial and first.info is t.info and len(first.probes) == 4
    t.step(2)
    new, cursor, partial = t.changes(visuals=False, since=cursor)
    assert partial and new.info is None and list(new.probes["step"]) == [4, 5]
    assert len(new.layers) == 2 * 2  # two probes, two layers
    merged = pd.concat([first.probes, new.probes])
    layers = pd.concat([first.layers, new.layers])
    _same_frames(SimpleNamespace(probes=merged, layers=layers), t.snapshot(visuals=False))
    t.reset()  # a new history: the reader's rows are not this run's any more
    again, cursor, partial = t.changes(visuals=False, since=cursor)
    assert not partial and list(again.probes["step"]) == [0]


def test_a_poll_stays_the_same_size_however_long_the_run(trainers, monkeypatch):
    capacity = 200  # a history ten times shorter than a run's: it thins ten times sooner
    monkeypatch.setattr(train, "History", functools.partial(History, capacity=capacity))
    t = trainers(CFG.replace(probe_every=1))
    _, cursor, _ = t.changes(visuals=False)
    sizes, thinned = [], 0
    for _ in range(12):  # 12 x 30 probes: past the history's 200 rows, so it thins
        t.step(30)
        snap, cursor, partial = t.changes(visuals=False, since=cursor)
        if partial:
            sizes.append(len(pickle.dumps(snap)))
        else:
            thinned += 1  # the reader's oldest rows went: it gets the whole history once
            assert len(snap.probes) < capacity
    assert thinned >= 1 and max(sizes) < 1.1 * min(sizes)
    assert len(t.snapshot(visuals=False).probes) > capacity // 2  # the full copy is far larger


def test_a_slow_server_does_not_pause_a_run_whose_page_is_still_open(trainers):
    """Polls 6 s apart (a server under load): the old 5 s heartbeat paused such runs."""
    t = trainers()
    t.play()
    t._beat = time.monotonic() - 6.0  # the page's last poll, 6 s ago
    time.sleep(0.5)  # the loop checks the heartbeat between slices of 0.02 s
    assert t.playing and t.snapshot(visuals=False).message is None
    assert runner.HEARTBEAT_S >= 60  # a safety net for a release hook that never fired


def test_close_frees_the_run_while_the_trainer_is_still_referenced():
    """A closed session's callbacks keep its trainer alive; its run must not stay with it."""
    trainer = Trainer(RunConfig(dataset="circle", depth=2, width=8))
    trainer.play()
    time.sleep(0.2)
    run = weakref.ref(trainer.run)
    trainer.close()
    gc.collect()
    assert run() is None
    assert trainer.closed and not trainer.playing and not trainer.queued
    assert trainer.play() is False and trainer.info.task == "binary"
    trainer.close()  # twice is harmless


def test_command_lock_serves_a_waiting_command_before_the_workers_next_slice() -> None:
    """A worker that takes the lock back at once (as the trainer's loop does) must still let
    a command in after the slice it is in: a plain lock let it run slice after slice."""
    lock = runner.CommandLock()
    slices, stop = [0], threading.Event()

    def work() -> None:
        while not stop.is_set():
            with lock.worker():
                slices[0] += 1
                time.sleep(0.01)

    worker = threading.Thread(target=work)
    worker.start()
    try:
        waits = []
        for _ in range(120):
            time.sleep(0.003)
            before = slices[0]
            with lock:
                waits.append(slices[0] - before)
    finally:
        stop.set()
        worker.join()
    assert max(waits) <= 1, waits
