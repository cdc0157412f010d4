"""Shared pieces of the benchmarks: a bare PyTorch loop to compare against, and timing helpers.

Only the standard library and torch are imported here, so every benchmark (the GPU one too) can
use it on a machine without the app's UI dependencies.
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from playground import configure_torch
from playground.config import RunConfig

# The TensorFlow Playground's reference setup: spiral, 500 points, 50 % train, 6 x 8 tanh,
# plain SGD at lr 0.03, batch 10.
REFERENCE = RunConfig(
    dataset="spiral",
    n_points=500,
    train_ratio=0.5,
    depth=6,
    width=8,
    activation="tanh",
    optimizer="sgd",
    lr=0.03,
    batch_size=10,
)


def setup_torch() -> None:
    """One intra-op thread, as the app and CLI use: small models are launch-bound, and one
    thread makes timings stable."""
    configure_torch()


class BareLoop:
    """The textbook training loop on a deep copy of a run's initial model and the same data.

    Same batch order logic as the engine (a fresh randperm per epoch, contiguous slices, no
    shuffle at full batch), same optimiser on the multi-tensor path, and nothing else: no loss
    buffer, no probe schedule, no bookkeeping. It is the floor the engine is measured against.
    """

    def __init__(self, run: Any, seed: int = 0) -> None:
        if run.step_count != 0:
            raise ValueError("BareLoop copies the run's initial model: build it before training")
        self.model = copy.deepcopy(run.model)
        self.model.train()
        self.x, self.y = run.x_train, run.y_train
        self.loss_fn = run.loss_fn
        self.batch = run.batch_size
        self.steps_per_epoch = run.steps_per_epoch
        self.device = run.device
        self.opt = make_optimizer(self.model, run.cfg.optimizer, run.cfg.lr)
        self._gen = torch.Generator().manual_seed(seed)
        self._pos = self.steps_per_epoch
        self._xs, self._ys = self.x, self.y
        self.step_count = 0

    def step(self, n: int = 1) -> int:
        """Train `n` steps; returns `n` (same contract as `Run.step`)."""
        b, full = self.batch, self.batch == len(self.x)
        for _ in range(n):
            if full:
                xb, yb = self.x, self.y
            else:
                if self._pos >= self.steps_per_epoch:
                    order = torch.randperm(len(self.x), generator=self._gen).to(self.device)
                    self._xs, self._ys = self.x[order], self.y[order]
                    self._pos = 0
                i = self._pos * b
                self._pos += 1
                xb, yb = self._xs[i : i + b], self._ys[i : i + b]
            loss = self.loss_fn(self.model(xb), yb)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
        self.step_count += n
        return n

    def train_for(self, seconds: float, chunk: int = 8) -> int:
        """Train for about `seconds` of wall time in chunks of steps, as `Run.train_for` does."""
        deadline = time.perf_counter() + seconds
        taken = 0
        while time.perf_counter() < deadline:
            taken += self.step(chunk)
        return taken


def make_optimizer(model: torch.nn.Module, name: str, lr: float) -> torch.optim.Optimizer:
    """The optimiser a config names, with foreach=True as the engine uses."""
    params = list(model.parameters())
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, foreach=True)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, foreach=True)
    momentum = 0.9 if name == "momentum" else 0.0
    return torch.optim.SGD(params, lr=lr, momentum=momentum, foreach=True)


def timed(fn: Callable[[], int], sync: Callable[[], None] | None = None) -> tuple[int, float]:
    """Call `fn` (which returns a count of work done); return (count, wall seconds)."""
    t0 = time.perf_counter()
    n = fn()
    if sync is not None:
        sync()
    return n, time.perf_counter() - t0


def interleaved(
    arms: dict[str, Callable[[], float]], rounds: int, on_round: Callable[[int], None] | None = None
) -> dict[str, list[float]]:
    """Run each arm once per round, rotating which goes first, so drift hits every arm alike.

    Each arm returns a rate; the result maps arm name to its list of rates, one per round.
    """
    names = list(arms)
    out: dict[str, list[float]] = {k: [] for k in names}
    for r in range(rounds):
        shift = r % len(names)
        for k in names[shift:] + names[:shift]:
            out[k].append(arms[k]())
        if on_round is not None:
            on_round(r)
    return out


def median_ratio(num: list[float], den: list[float]) -> float:
    """Median over rounds of the per-round ratio: each pair shares the machine's state."""
    return statistics.median(a / b for a, b in zip(num, den, strict=True))


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    """min..max of a list, for showing how noisy the rounds were."""
    return f"{_short(min(values))}..{_short(max(values))}"


def _short(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
