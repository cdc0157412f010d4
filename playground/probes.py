"""Measurements of a network on a fixed probe set, cheap enough to take ten times a second.

Everything is computed as tensors on the run's device and read back to the host in one transfer,
so a probe costs one synchronisation however many layers there are. Kernels are chosen for speed:
for ReLU outputs (never negative) a zero column sum means every output is exactly zero, which is
far cheaper than `(a == 0).all(0)`, and histograms are quantise + `bincount` rather than `histc`.
Gradients come from `probe_pass`: one forward and backward over the probe set through
`torch.autograd.grad`, so measuring never touches what the optimiser sees.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from playground import activations
from playground.model import MLP

N_BINS = 30
SATURATION_THRESHOLD = 0.01  # |f'(z)| below this for every probe input counts as saturated
PROBE_ROWS = 512

Capture = list[tuple[torch.Tensor, torch.Tensor]]


def _empty() -> np.ndarray:
    return np.empty(0)


@dataclass
class LayerStats:
    """Per-hidden-layer numbers, each an array of length L (NaN where not applicable)."""

    pre_mean: np.ndarray
    pre_std: np.ndarray
    post_mean: np.ndarray
    post_std: np.ndarray
    dead: np.ndarray  # count of dead units (NaN when the activation has no dead rule)
    saturated: np.ndarray  # count of saturated units (NaN when the activation does not saturate)
    width: int
    # (edges, counts) per layer; exact zeros are left out of the counts and kept in zeros_*
    hist_pre: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    hist_post: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    zeros_pre: np.ndarray = field(default_factory=_empty)  # exact zeros per layer (histograms)
    zeros_post: np.ndarray = field(default_factory=_empty)
    dead_mask: np.ndarray | None = None  # bool [L, W]: which units are dead (False if no rule)
    # units dead at every probe since step 0, per layer (None when no run tracks it)
    dead_from_start: np.ndarray | None = None

    @property
    def dead_fraction(self) -> np.ndarray:
        return self.dead / self.width

    @property
    def saturated_fraction(self) -> np.ndarray:
        return self.saturated / self.width

    @property
    def dead_from_start_fraction(self) -> np.ndarray:
        if self.dead_from_start is None:
            return np.full(len(self.dead), np.nan)
        return self.dead_from_start / self.width


@dataclass(frozen=True)
class LayerSpec:
    """What the probes need to know about one hidden layer's activation."""

    key: str
    alpha: float

    @property
    def act(self) -> activations.Activation:
        return activations.get(self.key)


LAYER_KEYS = (
    "pre_mean",
    "pre_std",
    "post_mean",
    "post_std",
    "dead_fraction",
    "saturated_fraction",
    "grad_norm",
    "signal_norm",
    "weight_norm",
    "dead_from_start_fraction",
)


def layer_columns(stats: LayerStats, norms: np.ndarray) -> dict[str, np.ndarray]:
    """Every per-layer measurement under its LAYER_KEYS name; `norms` is probe_pass's [3, L]."""
    return {
        "pre_mean": stats.pre_mean,
        "pre_std": stats.pre_std,
        "post_mean": stats.post_mean,
        "post_std": stats.post_std,
        "dead_fraction": stats.dead_fraction,
        "saturated_fraction": stats.saturated_fraction,
        "grad_norm": norms[0],
        "signal_norm": norms[1],
        "weight_norm": norms[2],
        "dead_from_start_fraction": stats.dead_from_start_fraction,
    }


def probe_rows(n_train: int, data_seed: int) -> np.ndarray:
    """Indices of the probe set: at most 512 training rows, drawn once from the data seed.

    Its own generator, so drawing it never touches the training stream.
    """
    rng = np.random.default_rng([data_seed, 0x9E0BE])
    if n_train <= PROBE_ROWS:
        return np.arange(n_train)
    return np.sort(rng.choice(n_train, PROBE_ROWS, replace=False))


def _groups(specs: list[LayerSpec]) -> dict[LayerSpec, list[int]]:
    """Layer indices by activation, so layers that share one are measured together."""
    groups: dict[LayerSpec, list[int]] = {}
    for i, spec in enumerate(specs):
        groups.setdefault(spec, []).append(i)
    return groups


def _dead_units(
    act: activations.Activation,
    alpha: float,
    z: torch.Tensor,
    a: torch.Tensor,
    top: torch.Tensor | None,
) -> torch.Tensor | None:
    """[G, W] dead mask under the activation's rule, or None when it has none."""
    if act.dead_rule == "zero" and act.output_range(alpha)[0] >= 0:
        return a.sum(1) == 0  # outputs are never negative: a zero sum means all exactly 0
    if act.dead_rule == "zero":
        return (a == 0).all(1)
    if act.dead_rule == "negative":  # stuck on the negative side for every input
        return (z.amax(1) if top is None else top) <= 0
    return None


def unit_flags(
    specs: list[LayerSpec], pre: torch.Tensor, post: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-unit dead masks [L, W] (False where there is no dead rule) and saturated counts [L]
    (NaN where the activation does not saturate); see `unit_masks`."""
    dead, flat, saturates = unit_masks(specs, pre, post)
    nan = torch.tensor(float("nan"), device=pre.device, dtype=pre.dtype)
    return dead, torch.where(saturates, flat.sum(1).to(pre.dtype), nan)


def unit_masks(
    specs: list[LayerSpec], pre: torch.Tensor, post: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Which units are dead and which saturated ([L, W] each, False where the activation has
    no such rule), and which layers' activations can saturate at all ([L]).

    Saturated: |f'(z)| < SATURATION_THRESHOLD for every probe input and, for one-sided
    activations, every input below the start of the negative tail (`tail_below`). Layers that
    share an activation are measured together, in a few kernels over [G, N, W] rather than a
    few per layer.
    """
    n_layers, _, width = pre.shape
    dead = torch.zeros((n_layers, width), dtype=torch.bool, device=pre.device)
    saturated = torch.zeros((n_layers, width), dtype=torch.bool, device=pre.device)
    saturates = torch.zeros(n_layers, dtype=torch.bool, device=pre.device)
    for spec, idx in _groups(specs).items():
        whole = len(idx) == n_layers
        z, a = (pre, post) if whole else (pre[idx], post[idx])
        act = spec.act
        one_sided = act.saturation_side == "negative" and math.isfinite(act.tail_below)
        top = z.amax(1) if act.dead_rule == "negative" or one_sided else None
        mask = _dead_units(act, spec.alpha, z, a, top)
        if mask is not None:
            dead = mask if whole else dead.index_copy(0, _index(idx, pre.device), mask)
        if act.saturation_side is not None:
            flat = act.derivative(z, spec.alpha).abs().amax(1) < SATURATION_THRESHOLD
            if one_sided:
                flat &= top < act.tail_below
            saturated[idx] = flat
            saturates[idx] = True
    return dead, saturated, saturates


def _index(idx: list[int], device: torch.device) -> torch.Tensor:
    return torch.tensor(idx, device=device)


def _bin_range(values: torch.Tensor, bounds: tuple[float, float] | None) -> torch.Tensor:
    """[L, 2] bin ranges: the activation's finite bounds where it has them, else the data's.

    A layer whose values are all equal (every unit dead, say) gets a unit-wide range, not a
    sliver of 1e-6 that an axis can only label with long runs of zeros.
    """
    lo, hi = values.amin(dim=(1, 2)), values.amax(dim=(1, 2))
    if bounds is not None:
        if np.isfinite(bounds[0]):
            lo = torch.full_like(lo, bounds[0])
        if np.isfinite(bounds[1]):
            hi = torch.full_like(hi, bounds[1])
    hi = torch.where(hi - lo < 1e-6, lo + 1.0, hi)
    return torch.stack([lo, hi], dim=1)


def _mean_std_(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-layer mean and std from the first two moments, shifting `values` in place.

    Raw moments cancel catastrophically when the mean dwarfs the spread (z = 300 +- 0.05 in
    float32 gives a std of 0.09), so each layer is first shifted by one of its own values: the
    variance does not change, and the shifted mean is of the order of the spread. In place
    because a fresh [L, N, W] temporary costs as much as the moments themselves; the callers
    pass their own stacked copy and are done with it. The sum of squares is a squared norm for
    the same reason: `vecdot` multiplies into an [L, N * W] temporary first (0.3 ms of a 4 ms
    probe on digits). Several times faster than `std_mean`.
    """
    flat = values.view(values.shape[0], -1)  # [L, N * W]
    n = flat.shape[1]
    shift = flat[:, :1].clone()
    flat.sub_(shift)
    mean_d = flat.mean(1)
    squares = torch.linalg.vector_norm(flat, dim=1).square()
    var = (squares / n - mean_d * mean_d).clamp_min(0) * (n / max(n - 1, 1))
    return mean_d + shift.view(-1), var.sqrt()


def _histograms(values: torch.Tensor, ranges: torch.Tensor) -> torch.Tensor:
    """Counts per layer, [L, N_BINS + 1], in one bincount over all layers.

    The last column counts exact zeros, which are kept out of the regular bins: a ReLU layer's
    zeros would otherwise swamp its first bin and hide the shape of the live outputs.
    """
    n_layers, width = values.shape[0], N_BINS + 1
    lo, hi = ranges[:, 0].view(-1, 1, 1), ranges[:, 1].view(-1, 1, 1)
    idx = ((values - lo) * (N_BINS / (hi - lo))).to(torch.int32).clamp_(0, N_BINS - 1)
    idx.masked_fill_(values == 0, N_BINS)
    idx += torch.arange(n_layers, device=values.device, dtype=torch.int32).view(-1, 1, 1) * width
    return torch.bincount(idx.flatten(), minlength=n_layers * width).view(n_layers, width)


def _common_bounds(specs: list[LayerSpec]) -> tuple[float, float] | None:
    """The post-activation range shared by all layers, or None when layers differ."""
    ranges = {spec.act.output_range(spec.alpha) for spec in specs}
    return ranges.pop() if len(ranges) == 1 else None


@contextmanager
def _norm_mode(model: MLP, batch_stats: bool) -> Iterator[None]:
    """Batch norm in batch-statistics or running-statistics mode, running statistics untouched."""
    if model.norms is None:
        yield
        return
    was_training = model.training
    saved = [(bn, {k: v.clone() for k, v in bn.named_buffers()}) for bn in model.norms]
    model.train(batch_stats)
    try:
        yield
    finally:
        model.train(was_training)
        for bn, buffers in saved:
            for k, v in buffers.items():
                getattr(bn, k).copy_(v)


@torch.no_grad()
def forward_capture(
    model: MLP, x: torch.Tensor, batch_stats: bool = False
) -> tuple[torch.Tensor, Capture]:
    """The network's output and each hidden layer's (pre, post), leaving its state untouched.

    Without batch norm there is one way to run. With it, `batch_stats` normalises by the
    statistics of `x` itself, as a training step does (what the layer statistics should show),
    and otherwise by the running statistics, as inference does (what test loss should use);
    either way the running statistics are left as they were.
    """
    capture: Capture = []
    with _norm_mode(model, batch_stats):
        return model(x, capture), capture


@torch.no_grad()
def predict(model: MLP, x: torch.Tensor) -> torch.Tensor:
    """The network's output as inference computes it (batch norm on running statistics).

    Nothing is captured, so each layer's activations are freed as the next is computed: a pass
    over a large test set holds two layers' worth of memory, not every layer's.
    """
    with _norm_mode(model, batch_stats=False):
        return model(x)


@dataclass
class ProbePass:
    """One measured forward pass: outputs, the loss rows' activations and gradient norms."""

    out: torch.Tensor  # the network's output for every row forwarded, detached
    capture: Capture  # each hidden layer's (pre, post) on the loss rows only, detached
    norms: torch.Tensor  # [3, L]: weight-gradient norm, signal norm, weight norm per layer
    loss: torch.Tensor  # the data loss on the loss rows, detached


def probe_pass(
    model: MLP,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    batch_stats: bool = False,
) -> ProbePass:
    """Forward `x` once with autograd and measure gradients of the loss on its first len(y) rows.

    Rows beyond len(y) (the test set, for a run's probe) ride along in the same forward pass and
    stay out of the loss, so one pass gives every output and every gradient. The gradients are
    those of the data loss (`loss_fn`, the pairing's) at the current weights; penalties (L1, L2)
    are left out. The signal norm is that of dL/dz, the gradient arriving at each layer's
    pre-activation. `torch.autograd.grad` computes them without touching any `.grad` buffer, so
    measuring never changes what the optimiser sees. `batch_stats` as in `forward_capture`.
    """
    n = len(y)
    weights = [lin.weight for lin in model.linears]
    capture: Capture = []
    with torch.enable_grad(), _norm_mode(model, batch_stats):
        out = model(x, capture)
        loss = loss_fn(out if n == len(out) else out[:n], y)
        grads = torch.autograd.grad(loss, [*weights, *(z for z, _ in capture)])
    signals = [g[:n] for g in grads[len(weights) :]]
    norms = torch.stack(
        [
            torch.stack(torch._foreach_norm(list(grads[: len(weights)]))),
            torch.stack(torch._foreach_norm(signals)),
            torch.stack(torch._foreach_norm([w.detach() for w in weights])),
        ]
    )
    kept = [(z.detach()[:n], a.detach()[:n]) for z, a in capture]
    return ProbePass(out.detach(), kept, norms, loss.detach())


def layer_stats(
    model: MLP, x: torch.Tensor, specs: list[LayerSpec], histograms: bool = True
) -> LayerStats:
    """Forward the probe set and measure every hidden layer as training sees it."""
    return capture_stats(forward_capture(model, x, batch_stats=True)[1], specs, histograms)


def capture_stats(capture: Capture, specs: list[LayerSpec], histograms: bool = True) -> LayerStats:
    """Measure every hidden layer from its captured (pre, post) activations (one host sync)."""
    flat = stats_tensor(capture, specs, histograms)
    return unpack_stats(read_back(flat)[0], specs, capture[0][0].shape[1], histograms)


@torch.no_grad()
def stats_tensor(capture: Capture, specs: list[LayerSpec], histograms: bool) -> torch.Tensor:
    """Every layer measurement as one flat device tensor, for `unpack_stats` after read_back.

    Kept apart from the read-back so a probe can fetch it with its losses in one transfer.
    """
    pre = torch.stack([z for z, _ in capture])  # [L, N, W], our own copies
    post = torch.stack([a for _, a in capture])
    dead, saturated = unit_flags(specs, pre, post)
    tail = [saturated, dead.flatten().to(pre.dtype)]
    if histograms:
        pre_r, post_r = _bin_range(pre, None), _bin_range(post, _common_bounds(specs))
        hists = [_histograms(pre, pre_r), _histograms(post, post_r)]
        tail += [pre_r.flatten(), post_r.flatten(), *(h.flatten().to(pre.dtype) for h in hists)]
    parts = [*_mean_std_(pre), *_mean_std_(post), *tail]  # last: they shift pre and post
    return torch.cat(parts)


def read_back(*tensors: torch.Tensor) -> list[np.ndarray]:
    """Device tensors to float64 host arrays in one transfer: the one sync of a probe."""
    flat = torch.cat([t.detach().reshape(-1).float() for t in tensors]).cpu().numpy()
    host = flat.astype(np.float64)
    sizes = np.cumsum([t.numel() for t in tensors])[:-1]
    return [part.reshape(t.shape) for part, t in zip(np.split(host, sizes), tensors)]


def unpack_stats(
    host: np.ndarray, specs: list[LayerSpec], width: int, histograms: bool
) -> LayerStats:
    """LayerStats from `stats_tensor`'s numbers, read back to the host."""
    n_layers = len(specs)
    moments, rest = host[: 5 * n_layers].reshape(5, n_layers), host[5 * n_layers :]
    dead_mask = rest[: n_layers * width].reshape(n_layers, width) > 0.5
    has_rule = np.array([s.act.dead_rule is not None for s in specs])
    dead = np.where(has_rule, dead_mask.sum(1), np.nan)
    stats = LayerStats(*moments[:4], dead, moments[4], width=width, dead_mask=dead_mask)
    if histograms:
        rest = rest[n_layers * width :]
        ranges = rest[: 4 * n_layers].reshape(2, n_layers, 2)
        counts = rest[4 * n_layers :].reshape(2, n_layers, N_BINS + 1)
        for hist, (lo_hi, c) in zip((stats.hist_pre, stats.hist_post), zip(ranges, counts)):
            hist.extend(
                (np.linspace(lo, hi, N_BINS + 1), row[:N_BINS]) for (lo, hi), row in zip(lo_hi, c)
            )
        stats.zeros_pre, stats.zeros_post = counts[0, :, N_BINS], counts[1, :, N_BINS]
    return stats
