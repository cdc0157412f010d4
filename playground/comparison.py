"""A comparison trained: V variants x S weight seeds on one dataset, in lock-step.

Every model sees the same data and the same batches, and seed s gives every variant the same
initial weights where their shapes and initialisations agree. Variants of one shape (same
batch norm, same pairing) share one `stack.Stack`; the others get stacks of their own, all
stepped together on each batch, so a variant whose shape differs still races on equal terms.
Probes measure every model the Playground's way (loss, metric, dead, resting and saturated units
by layer, gradient norms); `bands`, `profile` and `table` reduce them over seeds.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from playground.comparison_config import CompareConfig
from playground.config import (
    RunConfig,
)
from playground.data import Dataset, make_dataset
from playground.model import PAIRINGS
from playground.probes import LayerSpec, probe_rows, unit_flags
from playground.stack import Model, Stack
from playground.train import resolve_device, stream_seed

MAX_PROBES = 400  # curve points kept per model: the oldest half is thinned beyond this
PROBE_BUDGET = 0.05  # probes take at most this share of training time
METRICS = ("train_loss", "test_loss", "train_metric", "test_metric", "dead_share", "grad_norm")
# per hidden layer
LAYER_METRICS = ("dead_fraction", "resting_fraction", "saturated_fraction", "grad_norm")
STOPPED_NOTE = (
    "Every model of this comparison diverged: lower the learning rate (or change what "
    "varies) and press Reset."
)


@dataclass
class _Group:
    """Variants of one shape, stepped as one stack: models variant-major, seeds within."""

    variants: list[int]
    stack: Stack
    seconds: float = 0.0  # training time, for the table's time per step


@dataclass(frozen=True)
class Stopped:
    """Every model of the comparison diverged: why, for the page's error."""

    step: int
    reasons: tuple[str, ...]

    def message(self) -> str:
        return f"Stopped at step {self.step}: {STOPPED_NOTE}"


class Comparison:
    """Owns a comparison's models, data and history; `step(n)` advances every model at once."""

    def __init__(self, cfg: CompareConfig) -> None:
        self.cfg = cfg.validate()
        base = cfg.base
        self.device, self.device_note = resolve_device(base.device)
        self.data: Dataset = make_dataset(base.data_config())
        self.variants = [cfg.variant(v) for v in cfg.values]
        self.x_train, self.y_train = self._tensors(self.data.x_train, self.data.y_train)
        self.x_test, self.y_test = self._tensors(self.data.x_test, self.data.y_test)
        rows = torch.as_tensor(probe_rows(len(self.x_train), base.data_seed), device=self.device)
        self.x_probe, self.y_probe = self.x_train[rows], self.y_train[rows]
        self.batch_size = min(base.batch_size, len(self.x_train))
        self.steps_per_epoch = len(self.x_train) // self.batch_size
        self.reset()

    @property
    def n_models(self) -> int:
        return self.cfg.n_models

    @property
    def epoch(self) -> float:
        return self.step_count / self.steps_per_epoch

    def reset(self) -> None:
        """Back to step 0: the same initial weights, the same batch order."""
        self.groups = self._groups()
        self._shuffle = torch.Generator().manual_seed(stream_seed(self.cfg.base.init_seed))
        self._order: torch.Tensor | None = None
        self._pos = self.steps_per_epoch
        self.step_count = 0
        self.train_seconds = 0.0
        self.diverged: Stopped | None = None
        self.steps: list[int] = []
        self.history: dict[str, list[np.ndarray]] = {k: [] for k in METRICS}
        self.layers_now: dict[str, np.ndarray] = {}  # per model and hidden layer, latest probe
        v = self.variants[0]
        # per model, layer and unit: the probe step from which it has stayed dead, -1 if alive
        self.dead_since = np.full((self.n_models, v.depth, v.width), -1, dtype=np.int64)
        # per model and layer: how often a unit dead at one probe was alive at the next
        self.revivals = np.zeros((self.n_models, v.depth), dtype=np.int64)
        self._probe_cost = 0.0
        self._probe()

    def _groups(self) -> list[_Group]:
        shapes: dict[tuple[Any, ...], list[int]] = {}
        for i, v in enumerate(self.variants):
            key = (v.batch_norm, v.resolved_pairing(), v.width, v.depth, v.l1, v.l2)
            shapes.setdefault(key, []).append(i)
        groups = []
        for (bn, pairing, *_), idx in shapes.items():
            models = [self._model(self.variants[i], s) for i in idx for s in range(self.cfg.seeds)]
            v = self.variants[idx[0]]
            stack = Stack(
                models,
                self.data.n_features,
                self.data.n_classes if self.data.task == "multiclass" else 1,
                v.width,
                v.depth,
                pairing,
                self.device,
                batch_norm=bn,
                l1=v.l1,
                l2=v.l2,
            )
            groups.append(_Group(idx, stack))
        return groups

    def _model(self, v: RunConfig, seed: int) -> Model:
        return Model(
            v.activation, v.alpha_for(v.activation), v.init, v.init_seed + seed, v.lr, v.optimizer
        )

    def _tensors(self, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        xt = torch.as_tensor(x, dtype=torch.float32, device=self.device)
        if self.data.task == "multiclass":
            return xt, torch.as_tensor(y, dtype=torch.long, device=self.device)
        return xt, torch.as_tensor(y, dtype=torch.float32, device=self.device).view(-1, 1)

    # ---- training ---------------------------------------------------------------------------
    def step(self, n: int = 1, probe_at_end: bool = False) -> int:
        """Train every model still finite for up to `n` steps; probe on the schedule."""
        taken = 0
        while taken < n and self.diverged is None:
            final = probe_at_end and taken == n - 1
            due = final or self._probe_due()
            start = time.perf_counter()
            xb, yb = self._next_batch()
            for g in self.groups:
                t0 = time.perf_counter()
                if g.stack.alive:
                    g.stack.step(xb, yb)
                g.seconds += time.perf_counter() - t0
            self.step_count += 1
            taken += 1
            self.train_seconds += time.perf_counter() - start
            if due:
                self._probe()
        return taken

    def train_for(self, seconds: float) -> int:
        """Train for about `seconds`: a comparison's step is long enough to check each time."""
        deadline = time.perf_counter() + seconds
        taken = 0
        while self.diverged is None and time.perf_counter() < deadline:
            taken += self.step(1)
        return taken

    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch every model sees: a fresh shuffle of the training set each epoch."""
        b = self.batch_size
        if b == len(self.x_train):
            return self.x_train, self.y_train
        if self._pos >= self.steps_per_epoch:
            self._order = torch.randperm(len(self.x_train), generator=self._shuffle)
            self._order = self._order.to(self.device)
            self._pos = 0
        assert self._order is not None
        idx = self._order[self._pos * b : (self._pos + 1) * b]
        self._pos += 1
        return self.x_train[idx], self.y_train[idx]

    def flush(self) -> None:
        """Nothing buffered: the trainer contract's hook for runs that buffer their losses."""

    # ---- probes -----------------------------------------------------------------------------
    def _probe_due(self) -> bool:
        every = self.cfg.base.probe_every
        if every > 0:
            return (self.step_count + 1) % every == 0
        wait = max(self.cfg.base.probe_ms / 1000, self._probe_cost / PROBE_BUDGET)
        return time.perf_counter() >= self._last_probe + wait

    @torch.no_grad()
    def _probe(self) -> None:
        """Losses, accuracy (or R^2), dead share and gradient norm of every model, at once."""
        start = self._last_probe = time.perf_counter()
        parts = [self._measure(g) for g in self.groups]
        order = np.concatenate([self._model_rows(g) for g in self.groups])
        depth, width = self.variants[0].depth, self.variants[0].width
        flat = torch.cat([torch.cat([torch.stack(p, 1), layers], 1) for p, layers in parts])
        host = flat.float().cpu().numpy().astype(np.float64)  # one transfer for everything
        values = np.empty_like(host)
        values[order] = host
        self.steps.append(self.step_count)
        for j, key in enumerate(METRICS):
            self.history[key].append(values[:, j])
        n_layer = len(LAYER_METRICS) * depth
        per_layer = values[:, len(METRICS) : len(METRICS) + n_layer]
        per_layer = per_layer.reshape(len(values), len(LAYER_METRICS), depth)
        self.layers_now = {key: per_layer[:, j] for j, key in enumerate(LAYER_METRICS)}
        units = values[:, len(METRICS) + n_layer :].reshape(len(values), depth, width) > 0.5
        since = self.dead_since
        self.revivals += ((since >= 0) & ~units).sum(2)
        self.dead_since = np.where(units, np.where(since >= 0, since, self.step_count), -1)
        if len(self.steps) > MAX_PROBES:
            self._thin()
        cost = time.perf_counter() - start
        self._probe_cost += (0.2 if self._probe_cost else 1.0) * (cost - self._probe_cost)
        self._check_stopped()

    def _model_rows(self, g: _Group) -> np.ndarray:
        """Where a group's models go in the comparison's variant-major order."""
        s = self.cfg.seeds
        return np.concatenate([np.arange(v * s, (v + 1) * s) for v in g.variants])

    def _measure(self, g: _Group) -> tuple[list[torch.Tensor], torch.Tensor]:
        """A group's per-model measurements, and its per-layer ones (models, 3 x layers)."""
        stack = g.stack
        stack.training = False
        hidden, out = stack.layers(self.x_probe)
        test_out = stack.forward(self.x_test)
        stack.training = True
        dead, resting, saturated, units = self._unit_shares(stack, hidden)
        per_model = [
            stack.loss_of(out, self.y_probe),
            stack.loss_of(test_out, self.y_test),
            self._metric(stack, out, self.y_probe),
            self._metric(stack, test_out, self.y_test),
            dead.mean(1),
            stack.grad_norms(),
        ]
        grads = stack.layer_grad_norms()
        layers = [dead, resting, saturated, grads, units.flatten(1).float()]
        return per_model, torch.cat(layers, 1)

    def _metric(self, stack: Stack, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Each model's accuracy, or R^2 for regression: (models,)."""
        task = self.data.task
        if task == "regression":
            resid = ((out - y) ** 2).sum((1, 2))
            return 1 - resid / ((y - y.mean()) ** 2).sum().clamp_min(1e-12)
        if task == "multiclass":
            return (out.argmax(2) == y).float().mean(1)
        cut = 0.0 if stack.pairing.output_kind == "logit" else 0.5
        return ((out > cut).float() == y).float().mean((1, 2))

    def _unit_shares(
        self, stack: Stack, hidden: list[tuple[torch.Tensor, torch.Tensor]]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per model and hidden layer, the share of units dead, resting and saturated on every
        probe input, by the Playground's own rule (`probes.unit_flags`); NaN where the
        activation cannot reach that state (a Leaky ReLU unit cannot die, a ReLU unit cannot
        saturate). Then which units are dead: (models, layers, width)."""
        pre = torch.stack([z for z, _ in hidden], 1)  # (models, layers, points, width)
        m, depth, _, width = pre.shape
        shares = torch.full((3, m, depth), float("nan"), device=self.device)
        units = torch.zeros((m, depth, width), dtype=torch.bool, device=self.device)
        for start, stop, key, alpha in stack.slices():
            n = (stop - start) * depth  # every layer of every model of the run, as layers
            mask, resting, saturated, rule = unit_flags(
                [LayerSpec(key, alpha)] * n, pre[start:stop].flatten(0, 1)
            )
            dead = torch.where(rule > 0, mask.float().mean(1), float("nan"))
            for i, share in enumerate((dead, resting / width, saturated / width)):
                shares[i, start:stop] = share.view(stop - start, depth)
            units[start:stop] = mask.view(stop - start, depth, width)
        return shares[0], shares[1], shares[2], units

    def _thin(self) -> None:
        """Every other point of the older half goes: a long run keeps its shape and size."""
        half = len(self.steps) // 2
        keep = [*range(0, half, 2), *range(half, len(self.steps))]
        self.steps = [self.steps[i] for i in keep]
        for key, rows in self.history.items():
            self.history[key] = [rows[i] for i in keep]

    def _check_stopped(self) -> None:
        reasons = self.reasons()
        if len(reasons) == self.n_models and self.diverged is None:
            self.diverged = Stopped(self.step_count, tuple(reasons.values()))

    def reasons(self) -> dict[int, str]:
        """Why each frozen model froze, by its place in variant-major order."""
        out: dict[int, str] = {}
        for g in self.groups:
            rows = self._model_rows(g)
            for i, why in g.stack.reasons.items():
                out[int(rows[i])] = why
        return out

    # ---- what a page reads ------------------------------------------------------------------
    def curves(self) -> pd.DataFrame:
        """Every model's probes, long: step, variant, seed and each measurement."""
        labels, s = self.cfg.labels(), self.cfg.seeds
        n = len(self.steps)
        frame = pd.DataFrame(
            {
                "step": np.repeat(self.steps, self.n_models),
                "variant": np.tile(np.repeat(labels, s), n),
                "seed": np.tile(np.arange(s) + self.cfg.base.init_seed, len(labels) * n),
            }
        )
        for key in METRICS:
            frame[key] = np.concatenate(self.history[key]) if n else []
        frozen = self.reasons()
        frame["diverged"] = np.tile([i in frozen for i in range(self.n_models)], n)
        return frame

    def bands(self, curves: pd.DataFrame) -> pd.DataFrame:
        """Per step, variant and measurement: median, min and max over the seeds that have
        not diverged (a diverged seed's frozen values would flatten the band)."""
        live = curves[~curves["diverged"]]
        long = live.melt(["step", "variant"], list(METRICS), "metric", "value")
        grouped = long.groupby(["metric", "variant", "step"], sort=False)["value"]
        out = grouped.agg(median="median", lo="min", hi="max").reset_index()
        return out.dropna(subset=["median"])

    def profile(self) -> pd.DataFrame:
        """By hidden layer at the latest probe, per variant and measurement: median, min and
        max over the seeds that have not diverged (metric, variant, layer, median, lo, hi).
        Where depth shows what a single number hides: the early layers' vanishing gradients,
        the layer where units die."""
        frozen = self.reasons()
        labels, s = self.cfg.labels(), self.cfg.seeds
        rows = []
        for key in LAYER_METRICS:
            latest = self.layers_now[key]  # (models, layers)
            for v, label in enumerate(labels):
                live = [i for i in range(v * s, (v + 1) * s) if i not in frozen]
                block = latest[live]
                if not len(block) or np.isnan(block).all():
                    continue
                for layer in range(block.shape[1]):
                    col = block[:, layer]
                    rows.append((key, label, layer + 1, *_spread(col)))
        return pd.DataFrame(rows, columns=["metric", "variant", "layer", "median", "lo", "hi"])

    def final_layers(self) -> list[dict[str, Any]]:
        """Each model at the latest probe, per hidden layer: what the lab CLI reports."""
        frozen = self.reasons()
        out = []
        for i in range(self.n_models):
            out.append(
                {
                    "seed": self.cfg.base.init_seed + i % self.cfg.seeds,
                    "diverged": i in frozen,
                    **{k: _finite(self.layers_now[k][i]) for k in LAYER_METRICS},
                }
            )
        return out

    def table(self, curves: pd.DataFrame) -> pd.DataFrame:
        """One row per variant: the latest measurements' medians over its finite seeds, the
        steps it took to reach the target loss, diverged seeds and time per step."""
        last = curves[curves["step"] == self.steps[-1]]
        frozen = self.reasons()
        rows = []
        for v, label in enumerate(self.cfg.labels()):
            seeds = range(v * self.cfg.seeds, (v + 1) * self.cfg.seeds)
            mine = last[last["variant"] == label]
            live = mine[~mine["diverged"]]
            rows.append(
                {
                    "variant": label,
                    **{k: float(live[k].median()) if len(live) else math.nan for k in METRICS},
                    "steps_to_target": self._steps_to_target(curves, label),
                    "reached": self._reached(curves, label),
                    "diverged_seeds": sum(i in frozen for i in seeds),
                    "ms_per_step": self._ms_per_step(v),
                    **self._deaths([i for i in seeds if i not in frozen]),
                }
            )
        return pd.DataFrame(rows)

    def _deaths(self, models: list[int]) -> dict[str, float]:
        """When units died, over these models' dead units: the median probe step of those that
        died while training, and how many of all units were dead from step 0 (the starting
        weights never let them fire). As precise as the probe schedule."""
        since = self.dead_since[models]
        during = since[since > 0]
        return {
            "died_at": float(np.median(during)) if len(during) else math.nan,
            "died_training": float(len(during) / max(since.size, 1)),
            "dead_from_start": float((since == 0).sum() / max(since.size, 1)),
        }

    def _first_hits(self, curves: pd.DataFrame, label: str) -> pd.Series:
        mine = curves[(curves["variant"] == label) & ~curves["diverged"]]
        hit = mine[mine["train_loss"] <= self.cfg.target]
        return hit.groupby("seed")["step"].min()

    def _steps_to_target(self, curves: pd.DataFrame, label: str) -> float:
        """Median over the seeds that reached the target loss (at a probe) of the first step."""
        hits = self._first_hits(curves, label)
        return float(hits.median()) if len(hits) else math.nan

    def _reached(self, curves: pd.DataFrame, label: str) -> int:
        return len(self._first_hits(curves, label))

    def _ms_per_step(self, variant: int) -> float:
        """The time per step of the stack this variant trains in (its whole group at once)."""
        g = next(g for g in self.groups if variant in g.variants)
        return 1000 * g.seconds / self.step_count if self.step_count else math.nan

    def pairing_warnings(self) -> list[str]:
        out = []
        for v in self.variants:
            warning = PAIRINGS[v.resolved_pairing()].warning
            if warning and warning not in out:
                out.append(f"{PAIRINGS[v.resolved_pairing()].label}: {warning}")
        return out


def _finite(values: np.ndarray) -> list[float | None]:
    """A list for JSON: None where a measurement does not apply (a Leaky ReLU unit cannot die)."""
    return [float(v) if math.isfinite(v) else None for v in values]


def _spread(values: np.ndarray) -> tuple[float, float, float]:
    """Median, min and max of the finite values (NaN when there are none)."""
    ok = values[np.isfinite(values)]
    if not len(ok):
        return math.nan, math.nan, math.nan
    return float(np.median(ok)), float(ok.min()), float(ok.max())
