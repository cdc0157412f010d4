"""Live training for one browser session: a worker thread that trains, commands in, snapshots out.

The UI never touches the `Run` directly. It sends commands (play, pause, step, reset, apply a
config) and reads `Snapshot`s: plain data copied under a lock, so a chart can never see a
half-updated run, and a trainer could live in another process without a page noticing. What
does not change during a run (the data points, the pairing's texts, the device) travels once per
run as a `RunInfo` that every snapshot of the run shares. The worker trains in short slices and
releases the lock between them, so a command takes effect within one slice (about 20 ms).

Two guards protect a shared host: a cap on trainers playing at once (a Play past it waits in
a queue and starts by itself when a slot frees), and a heartbeat: a trainer that no page has
polled for a long while pauses itself, should a session's release hook never fire.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import numpy as np
import pandas as pd
import torch

from playground import activations, network
from playground.config import SETTINGS, RunConfig, config_dict
from playground.data import points_frame
from playground.network import NetworkView
from playground.probes import LayerStats
from playground.results import Results
from playground.train import Divergence, Probe, Run

SLICE_S = 0.02  # training time per lock hold: bounds command latency
QUEUE_TRY_S = 0.25  # how often a queued trainer asks for a freed slot
# Pause when no page has polled for this long: a safety net only, for a session whose release
# hook never fired. Pages stop their trainer on disconnect (ui.session); a short heartbeat
# mistook a busy server's slow polls for a closed tab and paused open ones.
HEARTBEAT_S = 120.0
MAX_MODELS = 64  # models training at once on one host by default: two 8 x 4 comparisons
# what a snapshot can add for a page, each at the cost of a forward pass under the lock
VISUALS = frozenset({"boundary", "histograms", "results", "network"})

DIVERGED_NOTE = (
    "The run is stopped after diverging: lower the learning rate to go on from the "
    "rolled-back weights, or press Reset."
)


class SlotKeeper(Protocol):
    """Who may train now: `Slots` in one process, or a stand-in that asks a whole cluster."""

    limit: int

    def take(self, key: str, models: int = 1) -> bool: ...
    def release(self, key: str) -> None: ...
    def place(self, key: str) -> int | None: ...


class Slots:
    """How many trainers may train at once, which do, and who waits for a turn, in order.

    The cap counts trainers (`limit`) and the models they train (`max_models`): a
    Playground run is one model, a comparison of V variants x S seeds is V x S, so a class
    comparing 8 x 4 cannot crowd out every other session by pressing one Play. A Play beyond
    either cap joins the queue; a freed slot goes to the queue's first, which takes it on its
    next try (see `Trainer._loop`). This one counts the trainers of one process (the `thread`
    backend's server); the `ray` backend hands its trainers a `SlotKeeper` that counts them
    across the cluster (see `playground.backends`).
    """

    def __init__(self, limit: int, max_models: int = MAX_MODELS) -> None:
        self.limit, self.max_models = limit, max_models
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}  # key -> models it trains
        self._queue: list[str] = []

    def take(self, key: str, models: int = 1) -> bool:
        """A slot for `key` if one is free and nobody waits ahead of it; else it queues."""
        with self._lock:
            if key in self._running:
                return True
            ahead = self._queue.index(key) if key in self._queue else len(self._queue)
            fits = sum(self._running.values()) + models <= self.max_models
            if len(self._running) < self.limit and fits and ahead == 0:
                if self._queue:
                    self._queue.pop(0)
                self._running[key] = models
                return True
            if key not in self._queue:
                self._queue.append(key)
            return False

    def release(self, key: str) -> None:
        """Give up a slot, or a place in the queue."""
        with self._lock:
            self._running.pop(key, None)
            if key in self._queue:
                self._queue.remove(key)

    def place(self, key: str) -> int | None:
        """1 for the queue's first, None when not waiting."""
        with self._lock:
            return self._queue.index(key) + 1 if key in self._queue else None

    def count(self) -> int:
        with self._lock:
            return len(self._running)

    def models(self) -> int:
        """Models training now, over every trainer holding a slot."""
        with self._lock:
            return sum(self._running.values())


class CommandLock:
    """The trainer's lock, which the worker hands to a waiting command before its next slice.

    With a plain lock the worker took the lock straight back after each slice, before a
    command's thread had woken: on a host whose cores the class keeps busy, a Pause so waited
    0.8 s for a turn that a slice (20 ms) should bound. Commands (`with lock:`) count
    themselves in while they wait; the worker (`with lock.worker():`) lets them all go first.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._turns = threading.Condition()
        self._waiting = 0

    def __enter__(self) -> None:
        with self._turns:
            self._waiting += 1
        try:
            self._lock.acquire()
        finally:
            with self._turns:
                self._waiting -= 1
                self._turns.notify_all()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    @contextmanager
    def worker(self, patience_s: float = 1.0) -> Iterator[None]:
        """Hold the lock for a slice once no command waits (or after `patience_s`, so a
        stream of commands cannot stop training altogether)."""
        with self._turns:
            self._turns.wait_for(lambda: self._waiting == 0, timeout=patience_s)
        with self._lock:
            yield


# for trainers made directly (the engine's tests and scripts); a server's trainers get theirs
# from `playground.backends`, which reads the server's limit from its settings
LOCAL_SLOTS = Slots(4)


def running_trainers() -> int:
    return LOCAL_SLOTS.count()


@dataclass(frozen=True)
class RunInfo:
    """What a page shows about a run that stays fixed while it trains: sent once per run."""

    task: str
    class_names: list[str]
    points: pd.DataFrame | None  # x1, x2, label, split for 2-D data, else None
    pairing_label: str
    pairing_note: str
    pairing_warning: str | None
    device: str
    device_note: str | None
    layer_keys: list[str]

    @property
    def layer_labels(self) -> list[str]:
        return [activations.get(k).label for k in self.layer_keys]

    @classmethod
    def of(cls, run: Run) -> RunInfo:
        data = run.data
        points = None
        if data.plane is not None:
            points = points_frame(data.plane.train, data.y_train, data.plane.test, data.y_test)
        return cls(
            task=run.task,
            class_names=list(data.class_names),
            points=points,
            pairing_label=run.pairing.label,
            pairing_note=run.pairing.note,
            pairing_warning=run.pairing.warning,
            device=run.device.type,
            device_note=run.device_note,
            layer_keys=[s.key for s in run.specs],
        )


LAYER_CHART_KEYS = [
    "dead_fraction",
    "resting_fraction",
    "saturated_fraction",
    "grad_norm",
    "signal_norm",
]


@dataclass(frozen=True)
class Cursor:
    """Where a reader of a trainer's history is: which history (a new one per rebuild and
    per reset), which version of it, which row."""

    history: int
    version: int
    seq: int


@dataclass
class Snapshot:
    """Everything a page shows, as plain data."""

    info: RunInfo
    cfg: RunConfig
    playing: bool
    step: int
    epoch: float
    steps_per_s: float
    epochs_per_s: float
    latest: Probe
    histograms: LayerStats | None  # current per-layer histograms (None when not asked for)
    probes: pd.DataFrame
    layers: pd.DataFrame
    boundary: dict[str, np.ndarray] | None
    divergence: Divergence | None
    message: str | None  # a one-off notice, e.g. a run that stopped by itself
    queue_place: int | None = None  # 1 = next to train, while a refused Play waits
    results: Results | None = None  # the test set's predictions (when asked for)
    network: NetworkView | None = None  # every unit's state, map and weights (when asked for)

    @property
    def task(self) -> str:
        return self.info.task


class Trainable(Protocol):
    """What a trainer's thread drives: a Playground `Run` or a `Comparison`."""

    step_count: int

    @property
    def diverged(self) -> object: ...  # None while training goes on; why it stopped after
    def step(self, n: int = 1, probe_at_end: bool = False) -> int: ...
    def train_for(self, seconds: float) -> int: ...
    def reset(self) -> None: ...


ConfigT = TypeVar("ConfigT")  # what a trainer is built from: RunConfig, CompareConfig
RunT = TypeVar("RunT", bound=Trainable)  # what it trains: a Run, a Comparison
InfoT = TypeVar("InfoT")  # what stays fixed while it trains: RunInfo, CompareInfo
SnapshotT = TypeVar("SnapshotT")  # what a page reads: Snapshot, CompareSnapshot


class Worker(Generic[ConfigT, RunT, InfoT, SnapshotT]):
    """The trainer contract: commands in, snapshots out, a thread that trains, the host's cap
    and a heartbeat. What it trains comes from `_build`: a `Run` for the Playground's
    `Trainer`, a comparison for `playground.comparison_trainer.CompareTrainer`.
    """

    diverged_note = DIVERGED_NOTE

    def __init__(
        self, cfg: ConfigT, boundary_resolution: int = 40, slots: SlotKeeper = LOCAL_SLOTS
    ) -> None:
        self.run = self._build(cfg)
        self.slots = slots
        self._key = uuid.uuid4().hex
        self.info = self._info_of(self.run)
        self.boundary_resolution = boundary_resolution
        self._lock = CommandLock()
        self._wake = threading.Event()
        self._playing = False
        self._queued = False
        self._closed = False
        self._message: str | None = None
        self._beat = time.monotonic()
        self._rate = (time.monotonic(), 0, 0.0)  # (time, step, steps/s) of the last snapshot
        self._thread = threading.Thread(target=self._loop, name="trainer", daemon=True)
        self._thread.start()

    def _build(self, cfg: ConfigT) -> RunT:
        raise NotImplementedError

    def _info_of(self, run: RunT) -> InfoT:
        raise NotImplementedError

    @property
    def models(self) -> int:
        """Models this trainer trains: what it counts against the host's cap."""
        return 1

    # ---- commands ---------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def queued(self) -> bool:
        """Waiting for a free slot after a refused Play: it starts by itself when one frees."""
        return self._queued

    def play(self) -> bool:
        """Start training; False when it cannot: diverged (the next snapshot says so), or the
        host is full, and then it is `queued` and starts by itself when its turn comes."""
        with self._lock:
            if self._playing or self._closed:
                return self._playing
            if self.run.diverged is not None:
                self._message = self.diverged_note
                return False
            if not self.slots.take(self._key, self.models):
                self._queued = True
                return False
            self._playing = True
            self._beat = time.monotonic()
        self._wake.set()
        return True

    def pause(self) -> None:
        with self._lock:
            self._stop_playing()

    def step(self, n: int = 1) -> None:
        """Take `n` steps now (while paused) and probe at the last one."""
        with self._lock:
            if self.run.diverged is not None:
                self._message = self.diverged_note
            elif not self._playing:
                self.run.step(n, probe_at_end=True)

    def reset(self) -> None:
        with self._lock:
            self._stop_playing()
            self.run.reset()
            self._message = None

    def _rebuild(self, cfg: ConfigT) -> None:
        run = self._build(cfg)  # built outside the lock: the old run keeps answering meanwhile
        with self._lock:
            self._stop_playing()
            self.run, self.info = run, self._info_of(run)
            self._message = None

    def heartbeat(self) -> None:
        self._beat = time.monotonic()

    def close(self) -> None:
        """Stop the thread, free the slot and the run; called when the session ends.

        The run (network, optimiser state, checkpoint, data, history) goes at once, not when
        the last reference to this trainer does: a closed session's page callbacks (its
        fragments, its download buttons) keep the trainer object alive for as long as
        Streamlit keeps the session, and it keeps a disconnected one until its store is next
        touched. In a 20-minute soak, the last sessions' runs so held 180 MB after every tab
        had closed. A closed trainer answers only `closed`, `playing`, `queued` and `info`.
        """
        with self._lock:
            self._closed = True
            self._stop_playing()
        self._wake.set()
        self._thread.join(timeout=2)
        with self._lock:
            if hasattr(self, "run"):
                del self.run

    @property
    def closed(self) -> bool:
        return self._closed

    # ---- reading ----------------------------------------------------------------------------
    def snapshot(self, visuals: bool | Collection[str] = True) -> SnapshotT:
        """A consistent copy of the run's state; also counts as a heartbeat.

        `visuals` asks for what only a drawn page needs and costs a forward pass under the
        lock: the decision map ("boundary"), the histograms ("histograms"), the test set's
        predictions ("results") and the network's units ("network"); True for all four.
        A page redrawing its slow charts less often than the map asks for each apart.
        """
        return self.changes(visuals)[0]

    def changes(
        self, visuals: bool | Collection[str] = True, since: Cursor | None = None
    ) -> tuple[SnapshotT, Cursor | None, bool]:
        raise NotImplementedError

    def _speed(self) -> float:
        """Steps per second since the last reading at least 0.2 s ago. Caller holds the lock."""
        now = time.monotonic()
        t0, s0, rate = self._rate
        if self._playing and now - t0 > 0.2:
            rate = (self.run.step_count - s0) / (now - t0)
        elif not self._playing:
            rate = 0.0
        if now - t0 > 0.2 or not self._playing:
            self._rate = (now, self.run.step_count, rate)
        return rate

    # ---- worker -----------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._closed:
            if not self._playing:
                self._wake.wait(timeout=QUEUE_TRY_S if self._queued else 0.5)
                self._wake.clear()
                if self._queued:
                    self._try_turn()
                continue
            with self._lock.worker():
                if not self._playing:
                    continue
                if time.monotonic() - self._beat > HEARTBEAT_S:
                    self._message = "Paused: the page stopped asking for updates."
                    self._stop_playing()
                    continue
                try:
                    self.run.train_for(SLICE_S)
                except Exception as e:  # e.g. out of GPU memory: stop with a reason, not a hang
                    self._message = f"Training stopped: {type(e).__name__}: {e}"
                    self._stop_playing()
                    continue
                if self.run.diverged is not None:
                    self._stop_playing()
            time.sleep(0)  # let a command's thread take the GIL (the lock waits for it)

    def _try_turn(self) -> None:
        """Queued: start training if a slot is ours now; leave the queue if nobody watches."""
        with self._lock:
            if not self._queued or self._closed:
                return
            if time.monotonic() - self._beat > HEARTBEAT_S:
                self._message = "Left the queue: the page stopped asking for updates."
                self._stop_playing()
            elif self.slots.take(self._key, self.models):
                self._queued, self._playing = False, True
                self._message = "Your turn: a slot freed, and training started by itself."

    def _stop_playing(self) -> None:
        """Stop training or waiting for a turn. Caller holds the lock."""
        self._playing = self._queued = False
        self.slots.release(self._key)


class Trainer(Worker[RunConfig, Run, RunInfo, Snapshot]):
    """Owns a `Run` and the thread that trains it: the Playground's trainer."""

    def _build(self, cfg: RunConfig) -> Run:
        return Run(cfg)

    def _info_of(self, run: Run) -> RunInfo:
        return RunInfo.of(run)

    def set_lr(self, lr: float) -> None:
        with self._lock:
            self.run.set_lr(lr)

    def resume(self, weights: dict[str, torch.Tensor], step: int = 0) -> None:
        """Go on from saved weights (see `Run.resume`), paused; the run is kept if they do not
        fit (ValueError)."""
        with self._lock:
            self._stop_playing()
            self.run.resume(weights, step)
            self._message = None

    def set_display(self, cfg: RunConfig) -> None:
        """Adopt `cfg`'s display-only settings (they change what is drawn, not the run)."""
        changes = {s.key: getattr(cfg, s.key) for s in SETTINGS if s.effect == "display"}
        with self._lock:
            self.run.cfg = self.run.cfg.replace(**changes)

    def apply(self, cfg: RunConfig) -> str | None:
        """Make the run match `cfg` (already validated); says what that took.

        "rebuilt": the network was built afresh and is paused at step 0; "lr": the learning
        rate changed mid-run; "display": only how the run is drawn changed; None: nothing.
        """
        current = self.run.cfg
        if cfg.needs_rebuild(current):
            self._rebuild(cfg)
            return "rebuilt"
        if cfg.lr != current.lr:
            self.set_lr(cfg.lr)
            self.set_display(cfg)
            return "lr"
        if cfg != current:
            self.set_display(cfg)
            return "display"
        return None

    def export(self) -> tuple[str, dict[str, torch.Tensor], dict]:
        """History CSV, weights and config (with the step they were taken at), copied under
        the lock: downloads run on a thread."""
        with self._lock:
            self.run.flush()
            record = {**config_dict(self.run.cfg), "step": self.run.step_count}
            return self.run.history.to_csv(), self.run.state_dict(), record

    def changes(
        self, visuals: bool | Collection[str] = True, since: Cursor | None = None
    ) -> tuple[Snapshot, Cursor, bool]:
        """A snapshot whose history holds only the probes after `since`, where it can.

        Returns the snapshot, the cursor to ask with next time, and whether it is partial:
        its `probes` and `layers` are then the new rows alone, to append to the reader's, and
        its `info` is None (unchanged). After a rebuild, a reset, a rollback or a thinning of
        the history (rows the reader holds are gone) it is whole again. So what a poll carries
        stays the same size however long the run: this is what crosses a process boundary.
        """
        wanted = VISUALS if visuals is True else frozenset(visuals or ())
        self.heartbeat()
        with self._lock:
            run = self.run
            run.flush()
            series = run.history.probes
            same = since is not None and since.history == run.history.id
            start = series.after(since.version, since.seq) if since is not None and same else 0
            partial = same and start > 0
            cursor = Cursor(run.history.id, series.version, series.last_seq)
            message, self._message = self._message, None
            rate = self._speed()
            snap = Snapshot(
                info=None if partial else self.info,  # the reader has it: it travels once
                cfg=run.cfg,
                playing=self._playing,
                step=run.step_count,
                epoch=run.epoch,
                steps_per_s=rate,
                epochs_per_s=rate / run.steps_per_epoch,
                latest=run.latest,
                histograms=run.histograms() if "histograms" in wanted else None,
                probes=series.frame(scalar_only=True, start=start),
                layers=series.layer_frame(LAYER_CHART_KEYS, start=start),
                boundary=run.boundary(self.boundary_resolution) if "boundary" in wanted else None,
                divergence=run.diverged,
                message=message,
                queue_place=self.slots.place(self._key) if self._queued else None,
                results=run.results() if "results" in wanted else None,
                network=network.view(run) if "network" in wanted else None,
            )
            return snap, cursor, partial
