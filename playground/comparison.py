"""A live comparison: V variants x S weight seeds on one dataset, trained in lock-step.

What varies is one setting (activation, initialisation, learning rate, optimiser, batch norm,
or the output/loss pairing) over 2 to 16 values; everything else is the Playground's config.
Every model sees the same data and the same batches, and seed s gives every variant the same
initial weights where their shapes and initialisations agree. Variants of one shape (same
batch norm, same pairing) share one `compare.Stack`; the others get stacks of their own, all
stepped together on each batch, so a variant whose shape differs still races on equal terms.

`CompareTrainer` is the Playground's trainer contract (`runner.Worker`: Play, Pause, Step,
Reset, the cap, the heartbeat) around a `Comparison`; its snapshots carry the curves already
reduced to bands over seeds (median, min, max) and the results table, so what crosses a process
boundary stays small whatever the number of models.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import torch

from playground import activations
from playground.compare import Model, Stack
from playground.config import (
    SCHEMA_VERSION,
    SETTING,
    ConfigError,
    RunConfig,
    first_value,
    plain_dict,
)
from playground.data import Dataset, make_dataset
from playground.model import PAIRINGS
from playground.probes import LayerSpec, probe_rows, unit_flags
from playground.runner import LOCAL_SLOTS, Cursor, SlotKeeper, Worker
from playground.train import resolve_device, stream_seed

VARIES = {  # what a comparison may vary -> its words on the page
    "activation": "Activation",
    "init": "Initialisation",
    "lr": "Learning rate",
    "optimizer": "Optimiser",
    "batch_norm": "Batch norm",
    "pairing": "Output and loss",
}
DEFAULT_VALUES = {
    "activation": ("relu", "tanh", "gelu"),
    "init": ("he", "xavier", "small"),
    "lr": ("0.003", "0.03", "0.3"),
    "optimizer": ("sgd", "momentum", "adam"),
    "batch_norm": ("0", "1"),
}
COMPARE_KEYS = ("vary", "values", "seeds", "target")  # a comparison's own link parameters
MIN_VARIANTS, MAX_VARIANTS, MAX_SEEDS = 2, 16, 16
MAX_PROBES = 400  # curve points kept per model: the oldest half is thinned beyond this
PROBE_BUDGET = 0.05  # probes take at most this share of training time
METRICS = ("train_loss", "test_loss", "train_metric", "test_metric", "dead_share", "grad_norm")
LAYER_METRICS = ("dead_fraction", "saturated_fraction", "grad_norm")  # per hidden layer
STOPPED_NOTE = (
    "Every model of this comparison diverged: lower the learning rate (or change what "
    "varies) and press Reset."
)


def pairing_values(task: str) -> tuple[str, ...]:
    """The output/loss pairings of a task, the recommended one first."""
    return tuple(k for k, p in PAIRINGS.items() if p.task == task)


def value_text(vary: str, value: Any) -> str:
    """A value as link text (the form `parse_values` reads back)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(float(value)) if isinstance(value, float) else str(value)


def value_label(vary: str, value: Any) -> str:
    """A variant's name on the page: the activation's label, "lr 0.03", "batch norm on"."""
    if vary == "lr":
        return f"lr {value:g}"
    if vary == "batch_norm":
        return "batch norm on" if value else "batch norm off"
    if vary == "activation":
        return activations.get(value).label
    if vary == "pairing":
        return PAIRINGS[value].label
    return str(value)


@dataclass(frozen=True)
class Variant:
    """A lab's variant: settings over the shared ones, under a key and a label of its own
    (a lab's variants may differ in several settings at once: a cure for dying ReLU is a
    lower learning rate, or another activation, or batch norm)."""

    key: str
    label: str
    settings: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class CompareConfig:
    """Everything that defines a comparison: the Playground's config, and what varies.

    Either one setting varies over `values` (the Compare page), or `custom` lists variants
    with settings of their own (a lab, named by `lab`; `values` are then their keys)."""

    base: RunConfig = field(default_factory=RunConfig)
    vary: str = "activation"
    values: tuple[Any, ...] = DEFAULT_VALUES["activation"]
    seeds: int = 4
    target: float = 0.1  # display only: the loss the table counts steps to
    custom: tuple[Variant, ...] = ()
    lab: str = ""

    @property
    def n_models(self) -> int:
        return len(self.values) * self.seeds

    @property
    def task(self) -> str:
        return self.base.task

    @property
    def device(self) -> str:
        return self.base.device

    def variant(self, value: Any) -> RunConfig:
        """The Playground config of one variant (one activation per network: no per-layer
        list; an activation's own parameter at its default unless the variant sets it)."""
        if self.custom:
            changes = dict(next(v.settings for v in self.custom if v.key == value))
        else:
            changes = {self.vary: value}
        if "activation" in changes and "alpha" not in changes:
            changes["alpha"] = None
        return self.base.replace(layer_activations="", **changes)

    def labels(self) -> list[str]:
        if self.custom:
            return [v.label for v in self.custom]
        return [value_label(self.vary, v) for v in self.values]

    def problems(self) -> list[tuple[str, str]]:
        """Every reason this comparison cannot run, as (key, message); empty when it can."""
        if not self.custom and self.vary not in VARIES:
            return [("vary", f"vary must be one of {', '.join(VARIES)} (got {self.vary!r})")]
        out: list[tuple[str, str]] = []
        n = len(self.values)
        if not MIN_VARIANTS <= n <= MAX_VARIANTS:
            out.append(
                ("values", f"a comparison needs {MIN_VARIANTS} to {MAX_VARIANTS} values (got {n})")
            )
        if len(set(self.values)) != n:
            out.append(("values", "each value may appear once"))
        if not 1 <= self.seeds <= MAX_SEEDS:
            out.append(("seeds", f"seeds must be between 1 and {MAX_SEEDS} (got {self.seeds})"))
        if not (math.isfinite(self.target) and self.target > 0):
            out.append(("target", f"target loss must be a number above 0 (got {self.target})"))
        if out:
            return out
        seen: set[str] = set()
        for value in self.values:
            for key, message in self.variant(value).problems():
                if message not in seen:  # one shared problem (the data) said once
                    seen.add(message)
                    out.append((key, message))
        for key in ("depth", "width"):  # their by-layer and by-unit measurements line up
            sizes = {getattr(self.variant(v), key) for v in self.values}
            if len(sizes) > 1:
                out.append((key, f"the variants must share one {key} (got {sorted(sizes)})"))
        return out

    def validate(self) -> CompareConfig:
        problems = self.problems()
        if problems:
            raise ConfigError("; ".join(m for _, m in problems))
        return self

    def replace(self, **changes: Any) -> CompareConfig:
        return replace(self, **changes)

    def needs_rebuild(self, other: CompareConfig) -> bool:
        """Anything but the target loss and the base's display settings changes the run."""
        same_run = replace(self, target=other.target, base=self.base.replace(
            **{s: getattr(other.base, s) for s in ("log_loss", "dead_threshold")}
        ))  # fmt: skip
        return same_run != other

    def query(self) -> dict[str, str]:
        """The comparison's own link parameters (the base's are `config.to_query`'s)."""
        if self.lab:
            return {"lab": self.lab, "seeds": str(self.seeds), "target": repr(self.target)}
        return {
            "vary": self.vary,
            "values": ",".join(value_text(self.vary, v) for v in self.values),
            "seeds": str(self.seeds),
            "target": repr(float(self.target)),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "base": plain_dict(self.base),
            **({"lab": self.lab} if self.lab else {"vary": self.vary}),
            "values": list(self.values),
            "seeds": self.seeds,
            "target": self.target,
        }


def parse_values(vary: str, text: str) -> tuple[Any, ...]:
    """Comma-separated values for `vary`, each read as its setting reads a link's text."""
    setting = SETTING[vary]
    return tuple(setting.parse(part) for part in text.split(",") if part.strip())


def compare_from_query(params: Mapping[str, Any], base: RunConfig) -> tuple[CompareConfig, list]:
    """A comparison from link parameters over `base`; anything unusable falls back to its
    default with a notice, so a link always opens."""
    notices: list[str] = []
    vary = _text(params, "vary") or "activation"
    if vary not in VARIES:
        notices.append(f"vary must be one of {', '.join(VARIES)} (got {vary!r}); using activation.")
        vary = "activation"
    cfg = CompareConfig(base=base, vary=vary, values=default_values(vary, base.task))
    text = _text(params, "values")
    if text:
        try:
            cfg = cfg.replace(values=_fitting_values(vary, parse_values(vary, text), base, notices))
        except ConfigError as e:
            notices.append(f"values: {e}; using the default values.")
    for key, kind in (("seeds", int), ("target", float)):
        raw = _text(params, key)
        if raw:
            try:
                cfg = cfg.replace(**{key: kind(raw)})
            except ValueError:
                notices.append(f"{key} must be a number (got {raw!r}); using the default.")
    default = CompareConfig(base=base, vary=vary, values=default_values(vary, base.task))
    for _ in range(3):  # a fix can uncover the next check's problem (they stop at the first kind)
        fixable = [(k, m) for k, m in cfg.problems() if k in (*COMPARE_KEYS, vary)]
        for key, message in fixable:
            notices.append(f"{message}; using the default {key}.")
            field_name = "values" if key == vary else key
            cfg = cfg.replace(**{field_name: getattr(default, field_name)})
        if not fixable:
            break
    return cfg, notices


def _fitting_values(
    vary: str, values: tuple[Any, ...], base: RunConfig, notices: list[str]
) -> tuple[Any, ...]:
    """A pairing comparison races the output/loss pairings of the data's task: 'auto' (the
    recommended one, already among them) and another task's are left out with a notice."""
    if vary != "pairing":
        return values
    fits = pairing_values(base.task)
    left_out = [v for v in values if v not in fits]
    if left_out:
        notices.append(
            f"values: {', '.join(map(str, left_out))} left out: a {base.task} comparison "
            f"races the output/loss pairings {', '.join(fits)}."
        )
    return tuple(v for v in values if v in fits)


def default_values(vary: str, task: str) -> tuple[Any, ...]:
    if vary == "pairing":
        return pairing_values(task)
    return parse_values(vary, ",".join(DEFAULT_VALUES[vary]))


def _text(params: Mapping[str, Any], key: str) -> str:
    return first_value(params.get(key, "")).strip()


# ---- the engine ---------------------------------------------------------------------------------
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
        dead, saturated, units = self._unit_shares(stack, hidden)
        per_model = [
            stack.loss_of(out, self.y_probe),
            stack.loss_of(test_out, self.y_test),
            self._metric(stack, out, self.y_probe),
            self._metric(stack, test_out, self.y_test),
            dead.mean(1),
            stack.grad_norms(),
        ]
        layers = [dead, saturated, stack.layer_grad_norms(), units.flatten(1).float()]
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
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per model and hidden layer, the share of units dead and saturated on every probe
        input, by the Playground's own rules (`probes.unit_flags`); NaN where the activation
        cannot die (tanh) or saturate (ReLU). Then which units are dead: (models, layers,
        width), False where the activation has no dead rule."""
        pre = torch.stack([z for z, _ in hidden], 1)  # (models, layers, points, width)
        post = torch.stack([a for _, a in hidden], 1)
        m, depth, _, width = pre.shape
        dead = torch.full((m, depth), float("nan"), device=self.device)
        saturated = torch.full((m, depth), float("nan"), device=self.device)
        units = torch.zeros((m, depth, width), dtype=torch.bool, device=self.device)
        for start, stop, key, alpha in stack.slices():
            n = (stop - start) * depth  # every layer of every model of the run, as layers
            specs = [LayerSpec(key, alpha)] * n
            z, a = pre[start:stop].flatten(0, 1), post[start:stop].flatten(0, 1)
            mask, flat = unit_flags(specs, z, a)
            if activations.get(key).dead_rule is not None:
                dead[start:stop] = mask.float().mean(1).view(stop - start, depth)
                units[start:stop] = mask.view(stop - start, depth, width)
            saturated[start:stop] = (flat / width).view(stop - start, depth)
        return dead, saturated, units

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
    """A list for JSON: None where a measurement does not apply (tanh units cannot die)."""
    return [float(v) if math.isfinite(v) else None for v in values]


def _spread(values: np.ndarray) -> tuple[float, float, float]:
    """Median, min and max of the finite values (NaN when there are none)."""
    ok = values[np.isfinite(values)]
    if not len(ok):
        return math.nan, math.nan, math.nan
    return float(np.median(ok)), float(ok.min()), float(ok.max())


# ---- the trainer --------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompareInfo:
    """What a comparison's page shows that stays fixed while it trains."""

    task: str
    vary: str
    labels: list[str]
    seeds: int
    n_models: int
    n_groups: int
    device: str
    device_note: str | None
    warnings: list[str]

    @property
    def metric_label(self) -> str:
        return "R²" if self.task == "regression" else "accuracy"

    @classmethod
    def of(cls, run: Comparison) -> CompareInfo:
        return cls(
            task=run.data.task,
            vary=run.cfg.vary,
            labels=run.cfg.labels(),
            seeds=run.cfg.seeds,
            n_models=run.n_models,
            n_groups=len(run.groups),
            device=run.device.type,
            device_note=run.device_note,
            warnings=run.pairing_warnings(),
        )


@dataclass
class CompareSnapshot:
    """Everything the Compare page shows, as plain data."""

    info: CompareInfo
    cfg: CompareConfig
    playing: bool
    step: int
    epoch: float
    steps_per_s: float
    bands: pd.DataFrame  # metric, variant, step, median, lo, hi
    profile: pd.DataFrame  # metric, variant, layer, median, lo, hi: by layer, now
    table: pd.DataFrame  # one row per variant
    frozen: dict[str, list[str]]  # variant -> why each of its diverged seeds froze
    divergence: Stopped | None
    message: str | None
    queue_place: int | None = None


class CompareTrainer(Worker):
    """A comparison behind the trainer contract: it counts all its models against the cap."""

    diverged_note = STOPPED_NOTE

    def __init__(self, cfg: CompareConfig, slots: SlotKeeper = LOCAL_SLOTS) -> None:
        self._memo: tuple[Any, Any] = (None, None)  # (what it was made from, what was made)
        super().__init__(cfg, slots=slots)  # type: ignore[arg-type]

    def _build(self, cfg: CompareConfig) -> Comparison:
        return Comparison(cfg)

    def _info_of(self, run: Comparison) -> CompareInfo:
        return CompareInfo.of(run)

    @property
    def models(self) -> int:
        return self.info.n_models

    def apply(self, cfg: CompareConfig) -> str | None:  # type: ignore[override]
        """Match `cfg`: "rebuilt" (paused at step 0), "display" (the target loss), or None."""
        current = self.run.cfg
        if cfg.needs_rebuild(current):
            self._rebuild(cfg)
            return "rebuilt"
        if cfg != current:
            with self._lock:
                self.run.cfg = cfg
            return "display"
        return None

    def changes(
        self, visuals: bool | Collection[str] = True, since: Cursor | None = None
    ) -> tuple[CompareSnapshot, None, bool]:
        """A whole snapshot every time: bands and table are already small."""
        self.heartbeat()
        with self._lock:
            run = self.run
            bands, profile, table, frozen = self._reduced(run)
            message, self._message = self._message, None
            snap = CompareSnapshot(
                info=self.info,
                cfg=run.cfg,
                playing=self._playing,
                step=run.step_count,
                epoch=run.epoch,
                steps_per_s=self._speed(),
                bands=bands,
                profile=profile,
                table=table,
                frozen=frozen,
                divergence=run.diverged,
                message=message,
                queue_place=self.slots.place(self._key) if self._queued else None,
            )
        return snap, None, False

    def _reduced(self, run: Comparison) -> tuple[Any, ...]:
        """Bands, profile, table and frozen seeds, made once per probe rather than at every
        poll: two fragments poll a comparison several times between its probes. Caller
        holds the lock."""
        key = (id(run), len(run.steps), run.steps[-1], run.cfg.target, len(run.reasons()))
        if self._memo[0] != key:
            curves = run.curves()
            frozen: dict[str, list[str]] = {}
            labels, s = run.cfg.labels(), run.cfg.seeds
            for i, why in sorted(run.reasons().items()):
                frozen.setdefault(labels[i // s], []).append(f"seed {i % s}: {why}")
            made = (run.bands(curves), run.profile(), run.table(curves), frozen)
            self._memo = (key, made)
        return self._memo[1]

    def export(self) -> tuple[str, str, str]:  # type: ignore[override]
        """Results table CSV, every model's curves CSV, and the config as JSON."""
        with self._lock:
            curves = self.run.curves()
            table = self.run.table(curves)
            return (
                table.to_csv(index=False),
                curves.to_csv(index=False),
                json.dumps(self.run.cfg.as_dict(), indent=2),
            )
