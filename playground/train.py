"""A training run: model, optimiser, data and probes, stepped on demand.

The step loop never synchronises with the device: batch losses stay on the device (a list of
scalars) and are read out only at probe time or every 4096 steps. Divergence is therefore seen at
the next probe, and the run rolls back to the last snapshot known to be finite.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from playground.config import RunConfig
from playground.data import Dataset, make_dataset
from playground.history import History
from playground.model import MLP, PAIRINGS, Pairing, build_model
from playground.probes import (
    LayerSpec,
    LayerStats,
    capture_stats,
    forward_capture,
    grad_norms,
    layer_columns,
    layer_stats,
    probe_rows,
)

LOSS_BUFFER = 4096


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
    return {name: resolve_device(name)[1] for name in ("cpu", "cuda", "mps")}


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
    """One probe's results: metrics on the whole train and test sets plus per-layer stats."""

    step: int
    epoch: float
    time: float
    lr: float
    train_loss: float
    test_loss: float
    train_metric: float  # accuracy, or R^2 for regression
    test_metric: float
    layers: LayerStats
    grad_norm: np.ndarray
    signal_norm: np.ndarray
    weight_norm: np.ndarray

    def layer_columns(self) -> dict[str, np.ndarray]:
        norms = np.stack([self.grad_norm, self.signal_norm, self.weight_norm])
        return layer_columns(self.layers, norms)


@dataclass
class _Snapshot:
    step: int
    probe: Probe
    model: dict[str, torch.Tensor]
    shuffle: torch.Tensor
    pos: int
    order: torch.Tensor | None


class Run:
    """Owns one network's training; `step(n)` advances it, probes measure it on a schedule."""

    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg.validate()
        self.device, self.device_note = resolve_device(cfg.device)
        self.data: Dataset = make_dataset(cfg.data_config())
        self.pairing: Pairing = PAIRINGS[cfg.resolved_pairing()]
        keys = cfg.hidden_activations()
        self.specs = [LayerSpec(k, cfg.alpha_for(k)) for k in keys]
        self.model: MLP = build_model(
            self.data.n_features,
            1 if self.task != "multiclass" else self.data.n_classes,
            cfg.width,
            keys,
            [s.alpha for s in self.specs],
            cfg.init,
            cfg.init_seed,
            cfg.batch_norm,
            self.pairing.output,
        ).to(self.device)
        self.loss_fn = self.pairing.loss()
        self._initial = _clone(self.model.state_dict())
        self.x_train, self.y_train = self._tensors(self.data.x_train, self.data.y_train)
        self.x_test, self.y_test = self._tensors(self.data.x_test, self.data.y_test)
        probe = torch.as_tensor(probe_rows(len(self.x_train), cfg.data_seed), device=self.device)
        self.x_probe, self.y_probe = self.x_train[probe], self.y_train[probe]
        # One forward pass per probe: the probe rows (training loss, accuracy and every layer
        # statistic) followed by the test set (test loss and accuracy).
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

    def reset(self) -> None:
        """Back to step 0 with the same initial weights and the same batch order."""
        self.model.load_state_dict(self._initial)
        self.opt = self._optimizer()
        self._shuffle = torch.Generator().manual_seed(_stream_seed(self.cfg.init_seed))
        self._order: torch.Tensor | None = None
        self._pos = self.steps_per_epoch  # forces a fresh shuffle on the first step
        self.step_count = 0
        self.train_seconds = 0.0
        self.diverged: Divergence | None = None
        self.history = History(len(self.specs))
        self._reset_losses()
        self._signals: list[torch.Tensor] = []
        self._last_probe_t = time.perf_counter()
        self._initial_gradients()
        self.latest: Probe = self._probe()
        self._snapshot = self._take_snapshot()

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
            due = self._probe_due() or (probe_at_end and taken == n - 1)
            self._train_step(capture=due)
            taken += 1
            if due:
                self._probe_and_check()
        self.train_seconds += time.perf_counter() - start
        return taken

    def train_for(self, seconds: float, max_steps: int = 1_000_000) -> int:
        """Train for about `seconds` of wall time; the unit of work of a live UI tick."""
        deadline = time.perf_counter() + seconds
        taken = 0
        chunk = 16
        while self.diverged is None and taken < max_steps and time.perf_counter() < deadline:
            taken += self.step(min(chunk, max_steps - taken))
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
        if not self.data.is_2d:
            return None
        both = np.concatenate([self.data.x_train, self.data.x_test])
        lo, hi = both.min(0) - pad, both.max(0) + pad
        gx = np.linspace(lo[0], hi[0], resolution, dtype=np.float32)
        gy = np.linspace(lo[1], hi[1], resolution, dtype=np.float32)
        xx, yy = np.meshgrid(gx, gy)
        grid = torch.as_tensor(np.stack([xx.ravel(), yy.ravel()], 1), device=self.device)
        probs = self._probabilities(self._eval(grid))
        out = {"x": gx, "y": gy}
        if self.task == "multiclass":
            conf, cls = probs.max(1)
            out["class"] = cls.cpu().numpy().reshape(resolution, resolution)
            out["value"] = conf.float().cpu().numpy().reshape(resolution, resolution)
        else:
            out["value"] = probs.float().cpu().numpy().reshape(resolution, resolution)
        return out

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
        momentum = 0.9 if name == "momentum" else 0.0
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

    def _train_step(self, capture: bool) -> None:
        xb, yb = self._next_batch()
        layers: list[tuple[torch.Tensor, torch.Tensor]] | None = [] if capture else None
        out = self.model(xb, layers)
        if layers:
            self._signals = [z for z, _ in layers]
            for z in self._signals:
                z.retain_grad()
        loss = self.loss_fn(out, yb)
        total = loss + self._l1_penalty() if self.cfg.l1 > 0 else loss
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        if capture:
            self._norms = grad_norms(self.model, self._signals)
            self._signals = []
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

    def _initial_gradients(self) -> None:
        """Gradients at step 0 on the whole training set, so the first probe can show them."""
        layers: list[tuple[torch.Tensor, torch.Tensor]] = []
        out = self.model(self.x_train, layers)
        signals = [z for z, _ in layers]
        for z in signals:
            z.retain_grad()
        self.model.zero_grad(set_to_none=True)
        self.loss_fn(out, self.y_train).backward()
        self._norms = grad_norms(self.model, signals)
        self.model.zero_grad(set_to_none=True)
        self.model.load_state_dict(self._initial)  # undo the batch-norm statistics it updated

    # ---- probes and divergence --------------------------------------------------------------
    def _probe_due(self) -> bool:
        if self.cfg.probe_every > 0:
            return (self.step_count + 1) % self.cfg.probe_every == 0
        return (time.perf_counter() - self._last_probe_t) * 1000 >= self.cfg.probe_ms

    def _probe_and_check(self) -> None:
        self.flush()
        if self.diverged is not None:
            return
        if not self._weights_finite():
            self._diverge(self.step_count, "the weights overflowed to infinity or NaN.")
            return
        self.latest = self._probe()
        if not (np.isfinite(self.latest.train_loss) and np.isfinite(self.latest.test_loss)):
            self._diverge(self.step_count, "the loss on the training set is not finite.")
            return
        self._snapshot = self._take_snapshot()

    def _probe(self) -> Probe:
        """Measure everything in one forward pass over the probe set and the test set.

        With batch norm a second pass over the probe set gives the layer statistics as a
        training step sees them (batch statistics); losses use the running statistics.

        Training loss and accuracy are those of the probe set: every training point for the
        2-D toys (up to 512 of them), a fixed random 512 for larger data.
        """
        self._last_probe_t = time.perf_counter()
        n = len(self.x_probe)
        out, capture = forward_capture(self.model, self._x_eval)
        if self.model.norms is not None:  # layers as training sees them: batch statistics
            capture = forward_capture(self.model, self.x_probe, batch_stats=True)[1]
        stats = capture_stats([(z[:n], a[:n]) for z, a in capture], self.specs, histograms=False)
        train_loss, train_metric = self._evaluate(out[:n], self.y_probe)
        test_loss, test_metric = self._evaluate(out[n:], self.y_test)
        norms = self._norms.float().cpu().numpy().astype(np.float64)
        probe = Probe(
            self.step_count,
            self.epoch,
            self.train_seconds,
            self.cfg.lr,
            train_loss,
            test_loss,
            train_metric,
            test_metric,
            stats,
            *norms,
        )
        self.history.probes.append(
            step=probe.step,
            epoch=probe.epoch,
            time=probe.time,
            lr=probe.lr,
            train_loss=train_loss,
            test_loss=test_loss,
            train_metric=train_metric,
            test_metric=test_metric,
            **layer_columns(stats, norms),
        )
        return probe

    @torch.no_grad()
    def _eval(self, x: torch.Tensor) -> torch.Tensor:
        return forward_capture(self.model, x)[0]

    @torch.no_grad()
    def _evaluate(self, out: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        """Loss and metric (accuracy, or R^2 for regression) of outputs `out`, in one sync."""
        loss = self.loss_fn(out, y)
        if self.task == "regression":
            resid = ((out - y) ** 2).sum()
            total = ((y - y.mean()) ** 2).sum().clamp_min(1e-12)
            metric = 1 - resid / total
        elif self.task == "multiclass":
            metric = (out.argmax(1) == y).float().mean()
        else:
            metric = ((self._probabilities(out) > 0.5).float() == y.view(-1)).float().mean()
        pair = torch.stack([loss.float(), metric.float()]).cpu().numpy()
        return float(pair[0]), float(pair[1])

    def _probabilities(self, out: torch.Tensor) -> torch.Tensor:
        kind = self.pairing.output_kind
        if kind == "logit":
            return torch.sigmoid(out).view(-1) if self.task == "binary" else out.softmax(1)
        if kind == "logprob":
            return out.exp()
        return out.view(-1) if out.shape[1] == 1 else out

    def _weights_finite(self) -> bool:
        norms = torch._foreach_norm([p.detach() for p in self.model.parameters()])
        return bool(torch.isfinite(torch.stack(norms)).all())

    def _take_snapshot(self) -> _Snapshot:
        return _Snapshot(
            self.step_count,
            self.latest,
            _clone(self.model.state_dict()),
            self._shuffle.get_state(),
            self._pos,
            self._order,
        )

    def _diverge(self, step: int, reason: str) -> None:
        """Stop, keep the history up to the snapshot, restore the snapshot's weights."""
        snap = self._snapshot
        self.model.load_state_dict(snap.model)
        self.opt = self._optimizer()  # its moments may hold inf/NaN too: start them afresh
        self._shuffle.set_state(snap.shuffle)
        self._pos, self._order = snap.pos, snap.order
        if snap.order is not None:
            self._xs, self._ys = self.x_train[snap.order], self.y_train[snap.order]
        self.step_count = snap.step
        self.latest = snap.probe  # the measurements of the weights now in place
        self._reset_losses()
        self.history.truncate(snap.step)
        self.diverged = Divergence(step, snap.step, reason, self._suggestion())

    def _suggestion(self) -> str:
        tips = [
            f"Lower the learning rate (it is {self.cfg.lr:g}; try {self.cfg.lr / 10:g}) and "
            "press Play to go on from here, or Reset."
        ]
        if self.cfg.init == "large":
            tips.append("The 'large' initialisation makes outputs explode: try He or Xavier.")
        if self.cfg.optimizer in ("sgd", "momentum") and self.task == "regression":
            tips.append("Adam is far less sensitive to the learning rate on regression targets.")
        return " ".join(tips)


def _clone(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in state.items()}


def _stream_seed(init_seed: int) -> int:
    """The batch-order seed: derived from the weight seed but a separate random stream."""
    return int(np.random.SeedSequence([init_seed, 0x5EED]).generate_state(1)[0])


def run_to_end(run: Run, steps: int) -> Run:
    """Train `steps` steps (or until divergence), probing at the last one; for the CLI and tests."""
    run.step(steps, probe_at_end=True)
    return run
