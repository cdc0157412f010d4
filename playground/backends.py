"""Where a session's trainer trains: in the web server's process, or in Ray actors.

Pages hold a `TrainerHandle` and never learn which backend made it: the same commands (play,
pause, step, reset, apply a config) and the same `Snapshot`s either way.

- `thread` (the default, nothing to set up): a `runner.Trainer` whose thread trains inside the
  server's process. Every trainer shares that process's one GIL, so however many play, the
  server trains at about one core's speed; right for one person on a laptop.
- `ray`: each trainer is a Ray actor, a process of its own, so trainers use every core of the
  machine (a local Ray the app starts) or of a Ray cluster (`PLAYGROUND_RAY_ADDRESS`). The
  cap on trainers playing at once is then the cluster's, kept by one named actor that every
  server process using the cluster shares. Closing a trainer ends its process, so its memory
  goes back to the host.

Settings, from the environment: `PLAYGROUND_BACKEND` (`thread` or `ray`),
`PLAYGROUND_MAX_TRAINERS` (trainers playing at once: per server for `thread`, per cluster for
`ray`), `PLAYGROUND_RAY_ADDRESS` (a cluster to join; unset, a local Ray is started).
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import torch

from playground import allocator, configure_torch, runner
from playground.comparison_config import CompareConfig
from playground.comparison_trainer import CompareTrainer
from playground.config import RunConfig
from playground.runner import Cursor, RunInfo, Slots, Snapshot, Trainer, Worker

BACKENDS = ("thread", "ray")
NAMESPACE = "activation-playground"
SLOTS_ACTOR = "trainer-slots"
LOCAL_OBJECT_STORE = 200 * 2**20  # snapshots are small; Ray's default takes 30 % of RAM


class TrainerHandle(Protocol):
    """What a page may do with its trainer, whichever backend runs it."""

    info: RunInfo

    @property
    def playing(self) -> bool: ...
    @property
    def queued(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    def play(self) -> bool: ...
    def pause(self) -> None: ...
    def step(self, n: int = 1) -> None: ...
    def reset(self) -> None: ...
    def set_lr(self, lr: float) -> None: ...
    def apply(self, cfg: RunConfig) -> str | None: ...
    def export(self) -> tuple[str, dict[str, torch.Tensor], dict]: ...
    def resume(self, weights: dict[str, torch.Tensor], step: int = 0) -> None: ...
    def snapshot(self, visuals: bool | Collection[str] = True) -> Snapshot: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Settings:
    """The backend a server uses, read once from its environment."""

    backend: str = "thread"
    max_trainers: int = 4
    ray_address: str | None = None
    max_models: int = runner.MAX_MODELS

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        backend = env.get("PLAYGROUND_BACKEND", "thread").strip().lower() or "thread"
        if backend not in BACKENDS:
            raise ValueError(
                f"PLAYGROUND_BACKEND={backend!r} is not a backend: use one of {BACKENDS}"
            )
        limit = _count(env, "PLAYGROUND_MAX_TRAINERS", "4")
        models = _count(env, "PLAYGROUND_MAX_MODELS", str(runner.MAX_MODELS))
        return cls(backend, limit, env.get("PLAYGROUND_RAY_ADDRESS") or None, models)


def _count(env: dict[str, str], name: str, default: str) -> int:
    text = env.get(name, default)
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name}={text!r} must be a whole number >= 1")
    return int(text)


def trainer_for(cfg: Any, boundary_resolution: int, slots: runner.SlotKeeper) -> Worker:
    """The trainer for a config: a comparison's for a `CompareConfig`, else the Playground's."""
    if isinstance(cfg, CompareConfig):
        return CompareTrainer(cfg, slots=slots)
    return Trainer(cfg, boundary_resolution, slots=slots)


class ThreadBackend:
    """Trainers as threads of this process, `limit` of them playing at once."""

    name = "thread"
    where = "this server"  # what a page calls the place its trainers share

    def __init__(self, slots: Slots) -> None:
        self.slots = slots

    @property
    def limit(self) -> int:
        return self.slots.limit

    @property
    def max_models(self) -> int:
        return self.slots.max_models

    def trainer(
        self, cfg: RunConfig | CompareConfig, boundary_resolution: int = 40
    ) -> TrainerHandle:
        return trainer_for(cfg, boundary_resolution, self.slots)

    def running(self) -> int:
        return self.slots.count()

    def close(self) -> None:
        """Nothing to end: its slots live and die with this process."""


_DRIVER = ThreadPoolExecutor(1, thread_name_prefix="ray-driver")


def _on_driver(fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn` on the one thread that starts Ray, creates actors and ends them.

    A page's script runs on a thread of its own that ends with the run. Ray started on one
    such thread never created an actor asked for from another: the second session's trainer
    hung (its creation never reached Ray's control store), as it did in a plain script with
    `ray.init` on one thread and the actor made on a second. Method calls on actors are safe
    from any thread; the driver's lifecycle calls all go through here.
    """
    return _DRIVER.submit(fn, *args).result()


def init_ray(address: str | None, **options: Any) -> None:
    """Join the Ray cluster at `address`, or start a local one sized for this app."""
    import ray

    local = {} if address else {"object_store_memory": LOCAL_OBJECT_STORE}
    ray.init(
        address=address,
        namespace=NAMESPACE,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        # the engine travels with the job, so a cluster's workers can import it
        runtime_env={"py_modules": [str(Path(runner.__file__).parent)]},
        **local,
        **options,
    )


class RayBackend:
    """Trainers as Ray actors, the cluster's `limit` of them playing at once."""

    name = "ray"
    where = "this class's Ray cluster"

    def __init__(
        self,
        limit: int,
        address: str | None = None,
        slots_name: str = SLOTS_ACTOR,
        max_models: int = runner.MAX_MODELS,
    ) -> None:
        _on_driver(self._start, limit, address, slots_name, max_models)

    def _start(self, limit: int, address: str | None, slots_name: str, max_models: int) -> None:
        import ray

        if not ray.is_initialized():
            init_ray(address)
        self._slots = (
            ray.remote(num_cpus=0)(_SlotsActor)
            .options(name=slots_name, get_if_exists=True, lifetime="detached")
            .remote(limit, max_models)
        )
        self.limit, self.max_models = ray.get(self._slots.limits_of.remote())
        # threaded: a Pause runs at once rather than behind a poll's histograms (a Trainer
        # takes calls from several threads, as the thread backend's pages make them)
        self._actor = ray.remote(num_cpus=0, max_concurrency=4)(_TrainerActor)

    def trainer(
        self, cfg: RunConfig | CompareConfig, boundary_resolution: int = 40
    ) -> TrainerHandle:
        actor = _on_driver(self._actor.remote, cfg, boundary_resolution, self._slots)
        return RayTrainer(actor, cfg)

    def running(self) -> int:
        import ray

        return ray.get(self._slots.count.remote())

    def close(self) -> None:
        """End the slots actor. It is detached (it outlives a server, for the next one to
        find), so whoever made a cluster's slots for a while ends them: tests and benches."""
        import ray

        _on_driver(ray.kill, self._slots)


class _SlotsActor(Slots):
    """The cluster's slots and queue: one named actor every server shares."""

    def limit_of(self) -> int:  # an actor's attributes cannot be read from outside
        return self.limit

    def limits_of(self) -> tuple[int, int]:
        return self.limit, self.max_models


class _ClusterSlots:
    """A trainer's view of the cluster's slots, for `runner.Trainer` inside an actor."""

    def __init__(self, actor: Any, limit: int) -> None:
        self._actor, self.limit = actor, limit

    def take(self, key: str, models: int = 1) -> bool:
        import ray

        return ray.get(self._actor.take.remote(key, models))

    def release(self, key: str) -> None:
        """Sent, not awaited: the trainer releases under its lock, where a Pause waited for
        this round trip (60 to 80 ms on a busy host). Ray runs one caller's calls to the
        slots actor in order, so this trainer's next `take` still comes after it."""
        self._actor.release.remote(key)

    def place(self, key: str) -> int | None:
        import ray

        return ray.get(self._actor.place.remote(key))


class _TrainerActor:
    """A `runner.Trainer` in a Ray worker process; `call` runs one of its commands."""

    def __init__(self, cfg: RunConfig, boundary_resolution: int, slots_actor: Any) -> None:
        import ray

        configure_torch()
        slots = _ClusterSlots(slots_actor, ray.get(slots_actor.limit_of.remote()))
        self.trainer = trainer_for(cfg, boundary_resolution, slots)

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, tuple[bool, bool]]:
        """The command's result, and whether the trainer then plays and waits in the queue:
        every reply carries the state, so a page's rerun seldom asks for it on its own."""
        attr = getattr(self.trainer, name)
        value = attr(*args, **kwargs) if callable(attr) else attr
        return value, (self.trainer.playing, self.trainer.queued)


STATE_FRESH_S = 0.25  # how long a reply's playing/queued stands for the trainer's state


class RayTrainer:
    """The page's side of a trainer actor: each command is one round trip to it.

    Round trips are what a page's rerun waits for: on a host whose cores the trainers keep
    busy, each can take tens of milliseconds. So every reply brings the trainer's state
    (`playing`, `queued`), which stands for STATE_FRESH_S, and a config the trainer already
    has is not sent again: a rerun after Pause makes its two snapshot polls and little else.
    """

    def __init__(self, actor: Any, cfg: RunConfig) -> None:
        self._actor = actor
        self._closed = False
        self._state, self._state_at = (False, False), 0.0
        self._applied: RunConfig | None = cfg
        self.info: RunInfo = self._call("info")
        self._lock = threading.Lock()  # the page's two fragments may poll at once
        self._cursor: Cursor | None = None
        self._probes = self._layers = pd.DataFrame()

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        import ray

        value, self._state = ray.get(self._actor.call.remote(name, *args, **kwargs))
        self._state_at = time.monotonic()
        return value

    def _fresh_state(self) -> tuple[bool, bool]:
        if self._closed:
            return False, False
        if time.monotonic() - self._state_at > STATE_FRESH_S:
            self._call("playing")
        return self._state

    @property
    def playing(self) -> bool:
        return self._fresh_state()[0]

    @property
    def queued(self) -> bool:
        return self._fresh_state()[1]

    @property
    def closed(self) -> bool:
        return self._closed

    def play(self) -> bool:
        return self._call("play")

    def pause(self) -> None:
        self._call("pause")

    def step(self, n: int = 1) -> None:
        self._call("step", n)

    def reset(self) -> None:
        self._call("reset")

    def set_lr(self, lr: float) -> None:
        self._applied = None  # the trainer's config now differs from the last one applied
        self._call("set_lr", lr)

    def apply(self, cfg: RunConfig) -> str | None:
        if cfg == self._applied:
            return None
        change = self._call("apply", cfg)
        self._applied = cfg
        if change == "rebuilt":
            self.info = self._call("info")
        return change

    def export(self) -> tuple[str, dict[str, torch.Tensor], dict]:
        return self._call("export")

    def resume(self, weights: dict[str, torch.Tensor], step: int = 0) -> None:
        self._call("resume", weights, step)

    def snapshot(self, visuals: bool | Collection[str] = True) -> Snapshot:
        """The whole snapshot, from only what changed since the last poll (see
        `runner.Trainer.changes`): the history rows travel once, not at every poll."""
        with self._lock:
            snap, self._cursor, partial = self._call("changes", visuals, self._cursor)
            if partial:
                self._probes = pd.concat([self._probes, snap.probes], ignore_index=True)
                self._layers = pd.concat([self._layers, snap.layers], ignore_index=True)
                return dataclasses.replace(
                    snap, info=self.info, probes=self._probes, layers=self._layers
                )
            self.info = snap.info
            if isinstance(snap, Snapshot):  # a comparison's snapshot is always whole
                self._probes, self._layers = snap.probes, snap.layers
            return snap

    def close(self) -> None:
        """Stop training, free its slot, and end the actor's process (and its memory)."""
        import ray

        if self._closed:
            return
        self._closed = True
        try:
            self._call("close")
        finally:
            _on_driver(ray.kill, self._actor)


_default: ThreadBackend | RayBackend | None = None
_default_lock = threading.Lock()


def default() -> ThreadBackend | RayBackend:
    """This server's backend, built on first use from its environment.

    The server then also starts trimming its heap (see `allocator`): its trainers, pages'
    snapshots and charts come and go for as long as it serves.
    """
    global _default
    with _default_lock:
        if _default is None:
            allocator.Trimmer().start()
            settings = Settings.from_env()
            if settings.backend == "ray":
                _default = RayBackend(
                    settings.max_trainers, settings.ray_address, max_models=settings.max_models
                )
            else:
                _default = ThreadBackend(Slots(settings.max_trainers, settings.max_models))
        return _default
