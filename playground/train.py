"""A training run: model, optimiser, data and probes, stepped on demand.

The step loop never synchronises with the device: batch losses stay on the device (a list of
scalars) and are read out only at probe time or every 4096 steps. Divergence is therefore seen at
the next probe, and the run rolls back to the last checkpoint known to be finite.

Under the default time schedule the test set is measured on every k-th probe only, about every
TEST_MS (see `Run._test_due`); the history leaves test_* NaN on the other probes, while
`Run.latest` always carries the most recent measured test values.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from playground.config import DEVICES, MOMENTUM, RunConfig
from playground.data import Dataset, make_dataset
from playground.history import PROBE_KEYS, History
from playground.model import MLP, PAIRINGS, ModelSpec, Pairing, build_model
from playground.probes import (
    LayerSpec,
    LayerStats,
    ProbePass,
    layer_columns,
    layer_stats,
    predict,
    probe_pass,
    probe_rows,
    read_back,
    stats_tensor,
    unpack_stats,
)
from playground.results import Results

LOSS_BUFFER = 4096
TEST_MS = 500.0  # the test set's interval under the time schedule: the page's refresh (2 Hz)
CHUNK = 16  # steps per call of `step` within `train_for`, at most
PROBE_BUDGET = 0.02  # under the time schedule, probes take at most this share of training time


def resolve_device(name: str) -> tuple[torch.device, str | None]:
    """The device to use, and why it differs from the request when it does."""
    if name == "cuda":
        if torch.cuda.is_available():
            return torch.device("cuda"), None
        return torch.device(
            "cpu"
        ), "CUDA was requested but no CUDA GPU is available here; training on the CPU instead."
    if name == "mps":
        if torch.backends.mps.is_available():
            return torch.device("mps"), None
        return torch.device(
            "cpu"
        ), "Apple MPS was requested but is not available here; training on the CPU instead."
    return torch.device("cpu"), None


def available_devices() -> dict[str, str | None]:
    """Each device name -> None when usable, else the reason it is not."""
    return {name: resolve_device(name)[1] for name in DEVICES}


@dataclass(frozen=True)
class Divergence:
    """Why a run stopped, where, and what to try."""

    step: int
    rolled_back_to: int
    reason: str
    suggestion: str

    def message(self) -> str:
        return (
            f"Training diverged near step {self.step}: {self.reason} The weights were rolled "
            f"back to step {self.rolled_back_to}, the last finite state. {self.suggestion}"
        )


@dataclass
class Probe:
    """One probe's results, all at the same weights.

    train_* are on the probe set, a fixed subset of up to 512 training rows (all of them for
    the 2-D toys), not the whole training set; test_* are on the whole test set, measured at
    step `test_step`: this probe's own step, or that of the last probe that measured the test
    set when this one did not (see `Run._test_due`). Per-layer statistics and gradient norms
    are on the probe set too.
    """

    step: int
    epoch: float
    time: float
    lr: float
    train_loss: float
    test_loss: float
    train_metric: float  # accuracy, or R^2 for regression
    test_metric: float
    test_step: int
    layers: LayerStats
    grad_norm: np.ndarray
    signal_norm: np.ndarray
    weight_norm: np.ndarray

    def layer_columns(self) -> dict[str, np.ndarray]:
        norms = np.stack([self.grad_norm, self.signal_norm, self.weight_norm])
        return layer_columns(self.layers, norms)


@dataclass
class Checkpoint:
    """The last state known to be finite, test loss included: what a divergence rolls back to."""

    step: int
    probe: Probe
    model: dict[str, torch.Tensor]
    shuffle: torch.Tensor
    pos: int
    order: torch.Tensor | None
    dead_since: np.ndarray


def model_spec(cfg: RunConfig, data: Dataset, pairing: Pairing, seed: int) -> ModelSpec:
    """The network a config asks for on this data, initialised from `seed`."""
    keys = tuple(cfg.hidden_activations())
    return ModelSpec(
        n_in=data.n_features,
        n_out=data.n_classes if data.task == "multiclass" else 1,
        width=cfg.width,
        layer_keys=keys,
        alphas=tuple(cfg.alpha_for(k) for k in keys),
        init=cfg.init,
        seed=seed,
        batch_norm=cfg.batch_norm,
        output=pairing.output,
    )


class Run:
    """Owns one network's training; `step(n)` advances it, probes measure it on a schedule."""

    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg.validate()
        self.device, self.device_note = resolve_device(cfg.device)
        self.data: Dataset = make_dataset(cfg.data_config())
        self.pairing: Pairing = PAIRINGS[cfg.resolved_pairing()]
        keys = cfg.hidden_activations()
        self.specs = [LayerSpec(k, cfg.alpha_for(k)) for k in keys]
        spec = model_spec(cfg, self.data, self.pairing, cfg.init_seed)
        self.model: MLP = build_model(spec).to(self.device)
        self.loss_fn = self.pairing.loss()
        self._initial = _clone(self.model.state_dict())
        self.x_train, self.y_train = self._tensors(self.data.x_train, self.data.y_train)
        self.x_test, self.y_test = self._tensors(self.data.x_test, self.data.y_test)
        probe = torch.as_tensor(probe_rows(len(self.x_train), cfg.data_seed), device=self.device)
        self.x_probe, self.y_probe = self.x_train[probe], self.y_train[probe]
        # With batch norm, losses come from one inference pass over both sets (see _evals).
        self._x_eval = torch.cat([self.x_probe, self.x_test])
        self._n_train = len(self.x_train)
        self.batch_size = min(cfg.batch_size, self._n_train)
        self.steps_per_epoch = len(self.x_train) // self.batch_size
        self.reset()

    # ---- public API -------------------------------------------------------------------------
    @property
    def task(self) -> str:
        return self.data.task

    @property
    def epoch(self) -> float:
        return self.step_count / self.steps_per_epoch

    @property
    def dead_since(self) -> list[np.ndarray]:
        """Per hidden layer, per unit: the step of the first probe from which it has stayed dead.

        -1 where the unit is not dead now; 0 for a unit dead at every probe since step 0. As
        precise as the probe schedule: a unit that died between two probes gets the later one.
        """
        return [row.copy() for row in self._dead_since]

    def reset(self) -> None:
        """Back to step 0 with the same initial weights and the same batch order."""
        self.model.load_state_dict(self._initial)
        self.opt = self._optimizer()
        self._shuffle = torch.Generator().manual_seed(stream_seed(self.cfg.init_seed))
        self._order: torch.Tensor | None = None
        self._pos = self.steps_per_epoch  # forces a fresh shuffle on the first step
        self.step_count = 0
        self.train_seconds = 0.0
        self.diverged: Divergence | None = None
        self.history = History(len(self.specs))
        self._reset_losses()
        self._dead_since = np.full((len(self.specs), self.cfg.width), -1, dtype=np.int64)
        self._untested = 0  # probes since the test set was last measured
        self._probe_cost_ms = 0.0  # a probe's recent cost, which stretches the interval
        self._step_s: float | None = None  # time per step in the last chunk (`train_for`)
        self.latest: Probe = self._probe(with_test=True)[0]
        self._checkpoint = self._save_checkpoint()

    def resume(self, weights: dict[str, torch.Tensor], step: int = 0) -> None:
        """Go on from weights saved at `step` of a run of this config: the same weights, and
        the batches that run would take next (the shuffle replayed to `step`), so plain SGD
        takes exactly the step it would have. The optimiser's own state (momentum, Adam's
        averages) is not in a weights file and starts afresh; the history starts at `step`.
        Weights of another network raise ValueError saying which tensor does not fit."""
        mine = self.model.state_dict()
        for name, tensor in mine.items():
            theirs = weights.get(name)
            if theirs is None or tuple(theirs.shape) != tuple(tensor.shape):
                got = "missing" if theirs is None else f"shaped {tuple(theirs.shape)}"
                raise ValueError(
                    f"these weights are for another network: {name} is {got}, this run's is "
                    f"{tuple(tensor.shape)}"
                )
        extra = sorted(set(weights) - set(mine))
        if extra:
            raise ValueError(
                f"these weights are for another network: {extra[0]} is not in this one"
            )
        self.reset()
        self.model.load_state_dict({k: weights[k].to(mine[k].dtype) for k in mine})
        self._replay_shuffle(max(0, int(step)))
        self.step_count = max(0, int(step))
        self.latest = self._probe(with_test=True)[0]
        self._checkpoint = self._save_checkpoint()

    def _replay_shuffle(self, steps: int) -> None:
        """Draw the batch orders `steps` steps would have drawn, and stand where they stood."""
        if steps == 0 or self.batch_size == self._n_train:
            return
        epochs = -(-steps // self.steps_per_epoch)  # a fresh order opens each epoch
        for _ in range(epochs):
            order = torch.randperm(self._n_train, generator=self._shuffle)
        self._order = order.to(self.device)
        self._xs, self._ys = self.x_train[self._order], self.y_train[self._order]
        self._pos = steps - (epochs - 1) * self.steps_per_epoch

    def set_lr(self, lr: float) -> None:
        """Change the learning rate mid-run; also clears a divergence stop so training can go on."""
        self.cfg = self.cfg.replace(lr=lr).validate()
        for group in self.opt.param_groups:
            group["lr"] = lr
        self.diverged = None

    def step(self, n: int = 1, probe_at_end: bool = False) -> int:
        """Train up to `n` steps (fewer if the run diverges); returns how many were taken."""
        taken = 0
        start = time.perf_counter()
        while taken < n and self.diverged is None:
            final = probe_at_end and taken == n - 1
            due = final or self._probe_due()
            self._train_step()
            taken += 1
            if due:
                self._probe_and_check(with_test=final or self._test_due())
        self.train_seconds += time.perf_counter() - start
        return taken

    def train_for(self, seconds: float, max_steps: int = 1_000_000) -> int:
        """Train for about `seconds` of wall time; the unit of work of a live UI tick.

        Steps go in chunks of up to CHUNK (a call per step would cost a small network its
        speed), each sized from the last chunk's time per step to end by the deadline: a big
        network's slice, and so a Pause waiting for it, then runs over by one step at most
        (fixed chunks of 16 held a 4 x 512 network's Pause for most of a second).
        """
        deadline = time.perf_counter() + seconds
        taken = 0
        while self.diverged is None and taken < max_steps:
            now = time.perf_counter()
            if now >= deadline:
                break
            fit = 1 if self._step_s is None else (deadline - now) / self._step_s
            n = self.step(max(1, min(CHUNK, int(fit), max_steps - taken)))
            if n:
                self._step_s = (time.perf_counter() - now) / n
            taken += n
        return taken

    def flush(self) -> None:
        """Move buffered batch losses into the history (one sync); checks them for divergence."""
        if self._n_losses == 0:
            return
        on_device = (
            torch.cat([*self._loss_chunks, torch.stack(self._losses)])
            if self._losses
            else torch.cat(self._loss_chunks)
        )
        losses = on_device.float().cpu().numpy().astype(np.float64)
        first = self.step_count - len(losses) + 1
        self._reset_losses()
        bad = ~np.isfinite(losses)
        if bad.any():
            self._diverge(
                first + int(np.argmax(bad)),
                f"the loss became {losses[bad][0]} (not a finite number).",
            )
            return
        self.history.steps.extend(step=np.arange(first, first + len(losses)), loss=losses)

    def boundary(self, resolution: int = 100, pad: float = 0.5) -> dict[str, np.ndarray] | None:
        """The model's output over a grid covering the 2-D data, in one batched forward pass.

        Returns grid axes and, per cell, the value to colour: P(class 1) for binary data, the
        predicted class and its probability for multi-class, the prediction for regression.
        """
        plane = self.data.plane
        if plane is None:
            return None
        both = np.concatenate([plane.train, plane.test])
        lo, hi = both.min(0) - pad, both.max(0) + pad
        gx = np.linspace(lo[0], hi[0], resolution, dtype=np.float32)
        gy = np.linspace(lo[1], hi[1], resolution, dtype=np.float32)
        xx, yy = np.meshgrid(gx, gy)
        points = np.stack([xx.ravel(), yy.ravel()], 1)
        grid = torch.as_tensor(plane.inputs(points), device=self.device)
        probs = self._probabilities(predict(self.model, grid))
        out = {"x": gx, "y": gy}
        if self.task == "multiclass":
            conf, cls = probs.max(1)
            out["class"] = cls.cpu().numpy().reshape(resolution, resolution)
            out["value"] = conf.float().cpu().numpy().reshape(resolution, resolution)
        else:
            out["value"] = probs.float().cpu().numpy().reshape(resolution, resolution)
        return out

    def results(self) -> Results:
        """The network's predictions on the whole test set at the current weights, one
        inference pass: what the confusion matrix and the residuals are drawn from."""
        probs = self._probabilities(predict(self.model, self.x_test)).float()
        confidence = None
        if self.task == "regression":
            predicted = probs.cpu().numpy().astype(np.float64)
            actual = self.data.y_test.astype(np.float64)
        else:
            if self.task == "binary":
                cls = (probs >= 0.5).long()
                conf = torch.where(cls == 1, probs, 1 - probs)
            else:
                conf, cls = probs.max(1)
            predicted, confidence = cls.cpu().numpy(), conf.cpu().numpy()
            actual = self.data.y_test.astype(np.int64)
        names = list(self.data.class_names)
        if self.task == "binary" and len(names) < 2:
            names = ["0", "1"]
        images = self.data.images_test
        return Results(self.task, self.step_count, actual, predicted, confidence, names, images)

    def histograms(self) -> LayerStats:
        """Per-layer statistics with histograms, on the probe set, for the current weights.

        Histograms are drawn, not logged: computing them at every probe would double a probe's
        cost for numbers nobody reads, so a page asks for them at its own refresh rate.
        """
        return layer_stats(self.model, self.x_probe, self.specs, histograms=True)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}

    # ---- training ---------------------------------------------------------------------------
    def _tensors(self, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        xt = torch.as_tensor(x, dtype=torch.float32)
        if self.task == "multiclass":
            yt = torch.as_tensor(y, dtype=torch.long)
        else:
            yt = torch.as_tensor(y, dtype=torch.float32).view(-1, 1)
        return xt.to(self.device), yt.to(self.device)

    def _optimizer(self) -> torch.optim.Optimizer:
        """The optimiser with L2 weight decay on weights only, on the fast multi-tensor path."""
        groups: list[dict] = [{"params": list(self.model.parameters())}]
        if self.cfg.l2 > 0:  # a second group costs a second kernel launch per step: only if used
            weights = [lin.weight for lin in [*self.model.linears, self.model.head]]
            ids = {id(w) for w in weights}
            others = [p for p in self.model.parameters() if id(p) not in ids]
            groups = [{"params": weights, "weight_decay": self.cfg.l2}, {"params": others}]
        name, lr = self.cfg.optimizer, self.cfg.lr
        fast = {"foreach": True}
        if name == "adam":
            return torch.optim.Adam(groups, lr=lr, **fast)
        if name == "rmsprop":
            return torch.optim.RMSprop(groups, lr=lr, **fast)
        momentum = MOMENTUM if name == "momentum" else 0.0
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, **fast)

    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        b = self.batch_size
        if b == self._n_train:  # full batch: order does not matter, skip the shuffle
            return self.x_train, self.y_train
        if self._pos >= self.steps_per_epoch:
            self._order = torch.randperm(self._n_train, generator=self._shuffle).to(self.device)
            self._xs, self._ys = self.x_train[self._order], self.y_train[self._order]
            self._pos = 0
        i = self._pos * b
        self._pos += 1
        return self._xs[i : i + b], self._ys[i : i + b]

    def _train_step(self) -> None:
        """One optimiser step; it measures nothing (probes do, on their own pass)."""
        xb, yb = self._next_batch()
        loss = self.loss_fn(self.model(xb), yb)
        total = loss + self._l1_penalty() if self.cfg.l1 > 0 else loss
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        self.opt.step()
        self._record_loss(loss.detach())
        self.step_count += 1
        if self._n_losses == LOSS_BUFFER:
            self.flush()

    def _record_loss(self, loss: torch.Tensor) -> None:
        """Keep a step's loss on the device, stacked 64 at a time.

        Thousands of live scalar tensors make Python's garbage collector slow every step; a few
        stacked chunks do not.
        """
        self._losses.append(loss)
        self._n_losses += 1
        if len(self._losses) == 64:
            self._loss_chunks.append(torch.stack(self._losses))
            self._losses = []

    def _reset_losses(self) -> None:
        self._losses: list[torch.Tensor] = []
        self._loss_chunks: list[torch.Tensor] = []
        self._n_losses = 0

    def _l1_penalty(self) -> torch.Tensor:
        weights = [lin.weight for lin in [*self.model.linears, self.model.head]]
        return self.cfg.l1 * torch.stack([w.abs().sum() for w in weights]).sum()

    # ---- probes and divergence --------------------------------------------------------------
    def _probe_due(self) -> bool:
        if self.cfg.probe_every > 0:
            return (self.step_count + 1) % self.cfg.probe_every == 0
        return time.perf_counter() >= self._next_probe_t  # checked every step: keep it cheap

    def probe_interval_ms(self) -> float:
        """Training time between probes under the time schedule: `probe_ms`, or longer when a
        probe costs more than PROBE_BUDGET of that (a big network, real data), so watching a
        run never takes more than a few per cent of its speed, whatever its size."""
        return max(self.cfg.probe_ms, self._probe_cost_ms / PROBE_BUDGET)

    def _test_due(self) -> bool:
        """Whether a probe on the schedule measures the test set too.

        On real data the test pass is a quarter of a probe (900 digits rows against the probe
        set's 512), yet its curve is drawn at the page's 2 Hz refresh: so the time schedule
        measures it on every k-th probe, k probe intervals spanning at least TEST_MS. The step
        schedule measures it at every probe, its history reproducible row for row. Probes a
        person reads on their own (step 0, the last of `step(n, probe_at_end=True)`: a Step,
        the CLI's final state) always measure it.
        """
        if self.cfg.probe_every > 0:
            return True
        return self._untested + 1 >= math.ceil(TEST_MS / self.probe_interval_ms())

    def _probe_and_check(self, with_test: bool) -> None:
        """Probe; roll back when anything measured is not finite, else maybe keep a checkpoint.

        Only a probe that measured the test set keeps a checkpoint, so a rollback lands on
        weights whose test loss was seen finite too (about TEST_MS further back at most). A test
        loss carried from an earlier probe was checked when it was measured.
        """
        self.flush()
        if self.diverged is not None:
            return
        start = time.perf_counter()
        self.latest, weights_finite = self._probe(with_test)
        cost = (time.perf_counter() - start) * 1000
        # smoothed over a few probes, from the first one measured
        self._probe_cost_ms += (0.2 if self._probe_cost_ms else 1.0) * (cost - self._probe_cost_ms)
        self._next_probe_t = self._last_probe_t + self.probe_interval_ms() / 1000  # re-planned
        if not weights_finite:  # measured anyway: the rollback drops the row and restores latest
            self._diverge(
                self.step_count,
                "the weights (or batch norm's running statistics) overflowed to infinity or NaN.",
            )
            return
        p = self.latest
        for split, loss in (("training", p.train_loss), ("test", p.test_loss)):
            if not np.isfinite(loss):
                self._diverge(self.step_count, f"the loss on the {split} set is not finite.")
                return
        if with_test:
            self._checkpoint = self._save_checkpoint()

    def _probe(self, with_test: bool) -> tuple[Probe, bool]:
        """Measure at the current weights, in one host sync; and are the weights (and the
        running statistics) finite?

        One forward pass over the probe rows with autograd gives the training loss and accuracy,
        every layer statistic and the gradients (of the data loss on the probe rows, see
        `probe_pass`), so every probe measures them alike, step 0 included; `with_test`, one
        pass without autograd gives the test loss and accuracy (see `_evals`).

        Training loss and accuracy are those of the probe set: every training point for the
        2-D toys (up to 512 of them), a fixed random 512 for larger data.
        """
        self._last_probe_t = time.perf_counter()
        self._next_probe_t = self._last_probe_t + self.probe_interval_ms() / 1000
        batch_stats = self.model.norms is not None
        measured = probe_pass(self.model, self.x_probe, self.y_probe, self.loss_fn, batch_stats)
        flat = stats_tensor(measured.capture, self.specs, histograms=False)
        # batch norm's running statistics too: a variance that overflows leaves every output
        # finite (x / sqrt(inf) is 0) while inference is broken, and a checkpoint would keep it
        params = [p.detach() for p in self.model.parameters()]
        params += [b for b in self.model.buffers() if b.is_floating_point()]
        host, norms, evals, param_norms = read_back(
            flat,
            measured.norms,
            self._evals(measured, with_test),
            torch.stack(torch._foreach_norm(params)),
        )
        stats = unpack_stats(host, self.specs, self.cfg.width, histograms=False)
        self._track_dead(stats)
        return self._record(evals.tolist(), stats, norms), bool(np.isfinite(param_norms).all())

    def _evals(self, measured: ProbePass, with_test: bool) -> torch.Tensor:
        """[train loss, train metric] on the probe set, then test loss and metric `with_test`.

        Without batch norm the probe pass's own outputs and loss are the training ones: no
        second pass. (Measured cheaper than riding the test rows along in the probe pass: the
        backward through them costs more than a forward of their own.) With batch norm the
        probe pass uses the probe set's batch statistics, as a training step would, and the
        losses the running statistics, as inference would, in one pass over both sets.
        """
        n = len(self.x_probe)
        if self.model.norms is None:
            out_train, train_loss = measured.out, measured.loss
            out_test = predict(self.model, self.x_test) if with_test else None
        else:
            out = predict(self.model, self._x_eval if with_test else self.x_probe)
            out_train, out_test = out[:n], (out[n:] if with_test else None)
            train_loss = self.loss_fn(out_train, self.y_probe)
        evals = [train_loss, self._metric(out_train, self.y_probe)]
        if out_test is not None:
            evals += [self.loss_fn(out_test, self.y_test), self._metric(out_test, self.y_test)]
        return torch.stack(evals).float()

    def _record(self, evals: list[float], stats: LayerStats, norms: np.ndarray) -> Probe:
        """This probe as a Probe, and as a history row that keeps only what it measured.

        A probe that skipped the test set carries the last measured test values in its Probe,
        so `latest` never shows a gap, and NaN in its row, which the charts leave out.
        """
        train_loss, train_metric, *test = evals
        self._untested = 0 if test else self._untested + 1
        if test:
            tested = {"test_loss": test[0], "test_metric": test[1], "test_step": self.step_count}
        else:
            tested = {k: getattr(self.latest, k) for k in ("test_loss", "test_metric", "test_step")}
        probe = Probe(
            step=self.step_count,
            epoch=self.epoch,
            time=self.train_seconds,
            lr=self.cfg.lr,
            train_loss=train_loss,
            train_metric=train_metric,
            **tested,
            layers=stats,
            grad_norm=norms[0],
            signal_norm=norms[1],
            weight_norm=norms[2],
        )
        row = {k: getattr(probe, k) for k in PROBE_KEYS}
        if not test:
            row.update(test_loss=np.nan, test_metric=np.nan)
        self.history.probes.append(**row, **layer_columns(stats, norms))
        return probe

    def _track_dead(self, stats: LayerStats) -> None:
        """Carry each unit's dead-since step forward by one probe; count those dead from step 0."""
        mask = stats.dead_mask if stats.dead_mask is not None else False
        since = self._dead_since
        self._dead_since = np.where(mask, np.where(since >= 0, since, self.step_count), -1)
        from_start = (self._dead_since == 0).sum(1).astype(np.float64)
        stats.dead_from_start = np.where(np.isnan(stats.dead), np.nan, from_start)

    @torch.no_grad()
    def _metric(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Accuracy, or R^2 for regression, of outputs `out`, on the device."""
        if self.task == "regression":
            resid = ((out - y) ** 2).sum()
            total = ((y - y.mean()) ** 2).sum().clamp_min(1e-12)
            return 1 - resid / total
        if self.task == "multiclass":
            return (out.argmax(1) == y).float().mean()
        return ((self._probabilities(out) > 0.5).float() == y.view(-1)).float().mean()

    def _probabilities(self, out: torch.Tensor) -> torch.Tensor:
        kind = self.pairing.output_kind
        if kind == "logit":
            return torch.sigmoid(out).view(-1) if self.task == "binary" else out.softmax(1)
        if kind == "logprob":
            return out.exp()
        return out.view(-1) if out.shape[1] == 1 else out

    def _save_checkpoint(self) -> Checkpoint:
        return Checkpoint(
            self.step_count,
            self.latest,
            _clone(self.model.state_dict()),
            self._shuffle.get_state(),
            self._pos,
            self._order,
            self._dead_since.copy(),
        )

    def _diverge(self, step: int, reason: str) -> None:
        """Stop, keep the history up to the checkpoint, restore the checkpoint's state."""
        ckpt = self._checkpoint
        self.model.load_state_dict(ckpt.model)
        self.opt = self._optimizer()  # its moments may hold inf/NaN too: start them afresh
        self._shuffle.set_state(ckpt.shuffle)
        self._pos, self._order = ckpt.pos, ckpt.order
        if ckpt.order is not None:
            self._xs, self._ys = self.x_train[ckpt.order], self.y_train[ckpt.order]
        self.step_count = ckpt.step
        self.latest = ckpt.probe  # the measurements of the weights now in place
        self._untested = 0  # a checkpoint's probe measured the test set
        self._dead_since = ckpt.dead_since.copy()
        self._reset_losses()
        self.history.truncate(ckpt.step)
        self.diverged = Divergence(step, ckpt.step, reason, self._suggestion())

    def _suggestion(self) -> str:
        tips = [
            f"Lower the learning rate (it is {self.cfg.lr:g}; try {self.cfg.lr / 10:g}) and "
            "press Play to go on from here, or Reset."
        ]
        if self.cfg.init == "large":
            tips.append("The 'large' initialisation makes outputs explode: try He or Xavier.")
        if self.cfg.optimizer in ("sgd", "momentum") and self.task == "regression":
            tips.append(
                "Switching to Adam stops the overflow but not the problem: at a learning rate "
                "of 1 or more it learns nothing either (it usually wants 0.001 to 0.01)."
            )
        return " ".join(tips)


def _clone(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in state.items()}


def stream_seed(init_seed: int) -> int:
    """The batch-order seed: derived from the weight seed but a separate random stream."""
    return int(np.random.SeedSequence([init_seed, 0x5EED]).generate_state(1)[0])


def run_to_end(run: Run, steps: int) -> Run:
    """Train `steps` steps (or until divergence), probing at the last one; for the CLI and tests."""
    run.step(steps, probe_at_end=True)
    return run
