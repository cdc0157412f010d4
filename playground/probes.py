"""Measurements of a network on a fixed probe set, cheap enough to take ten times a second.

Everything is computed as tensors on the run's device and read back to the host in one transfer,
so a probe costs one synchronisation however many layers there are. Kernels are chosen for speed:
for ReLU outputs (never negative) a zero column sum means every output is exactly zero, which is
far cheaper than `(a == 0).all(0)`, and histograms are quantise + `bincount` rather than `histc`.
Gradients come from `probe_pass`: one forward and backward over the probe set through
`torch.autograd.grad`, so measuring never touches what the optimiser sees.
"""

from __future__ import annotations

import functools
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
# A unit's states, one rule for every activation, in order of precedence (see `unit_masks`)
STATE_RULES = {
    "dead": "its slope is exactly 0 for every probe input (in float32, as autograd computes "
    "it), so no gradient reaches its weights",
    "resting": "a Leaky ReLU or PReLU unit on its negative side for every probe input: its "
    "slope there is alpha (for PReLU, what training has made of it), not 0, so it still learns",
    "saturated": f"its slope is below {SATURATION_THRESHOLD:g}, but not 0, for every probe "
    "input, so almost no gradient gets through",
}

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
    dead: np.ndarray  # count of dead units (NaN where the activation cannot die)
    saturated: np.ndarray  # count of saturated units (NaN where the activation cannot saturate)
    width: int
    resting: np.ndarray = field(default_factory=_empty)  # count resting (NaN where none can)
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
    def resting_fraction(self) -> np.ndarray:
        return self.resting / self.width

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
    "resting_fraction",
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
        "resting_fraction": stats.resting_fraction,
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


def can_reach(spec: LayerSpec) -> tuple[bool, bool, bool]:
    """Whether a unit of this activation can be (dead, resting, saturated) at all.

    ReLU's slope is 0 or 1, so its units die but never saturate; Leaky ReLU's and PReLU's
    is 1 or alpha, so a unit stuck on the negative side rests (dies only when alpha is 0 in
    float32); the identity's is always 1. Every other activation's slope takes all values down
    to exactly 0 in float32, so its units can be either. A state a layer cannot reach is shown
    as "not applicable", never as 0 %.
    """
    kind = spec.act.slope_kind
    if kind == "relu":
        return True, False, False
    if kind == "leaky":
        stuck = _f32(spec.alpha) == 0
        return stuck, not stuck, False
    if kind == "identity":
        return False, False, False
    return True, False, True


def _f32(x: float) -> float:
    return float(np.float32(x))


@functools.cache
def _module(key: str, alpha: float) -> torch.nn.Module:
    return activations.get(key).module(alpha)


def slopes(spec: LayerSpec, z: torch.Tensor) -> torch.Tensor:
    """f'(z) elementwise as autograd computes it in training: the activation's own backward
    kernel on a tensor of z's shape and dtype, so exact zeros are the ones training sees (a
    1-element tensor can take another kernel and round differently)."""
    with torch.enable_grad():
        x = z.detach().requires_grad_(True)
        y = _module(spec.key, spec.alpha)(x)
        (grad,) = torch.autograd.grad(y, x, torch.ones_like(y))
    return grad


def _states(spec: LayerSpec, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """[G, W] dead, resting and saturated masks of `z` [G, N, W], each unit in one state at most.

    Piecewise-linear activations are read off the sign of z (far cheaper than a backward
    pass, and the same answer: their slope is 0, alpha or 1 by sign alone).
    """
    none = torch.zeros((z.shape[0], z.shape[2]), dtype=torch.bool, device=z.device)
    kind = spec.act.slope_kind
    if kind in ("relu", "leaky"):
        negative = z.amax(1) <= 0
        dies, rests, _ = can_reach(spec)
        return (negative if dies else none), (negative if rests else none), none
    if kind == "identity":
        return none, none, none
    top = slopes(spec, z).abs().amax(1)
    dead = top == 0
    return dead, none, (top < SATURATION_THRESHOLD) & ~dead


def unit_flags(
    specs: list[LayerSpec], pre: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-unit dead masks [L, W], then resting and saturated counts [L] and a dead-rule flag
    [L], the counts NaN and the flag 0 where the layer's activation cannot reach that state."""
    states = unit_masks(specs, pre)
    nan = torch.tensor(float("nan"), device=pre.device, dtype=pre.dtype)
    reach = torch.tensor([can_reach(s) for s in specs], device=pre.device)
    resting, saturated = (
        torch.where(reach[:, i], mask.sum(1).to(pre.dtype), nan)
        for i, mask in ((1, states.resting), (2, states.saturated))
    )
    return states.dead, resting, saturated, reach[:, 0].to(pre.dtype)


@dataclass
class UnitStates:
    """Which units are in which state, [L, W] masks that never overlap."""

    dead: torch.Tensor  # slope exactly 0 for every probe input: no gradient reaches it
    resting: torch.Tensor  # Leaky ReLU / PReLU on its negative side for every input: slope alpha
    saturated: torch.Tensor  # |slope| < 0.01 (not exactly 0) for every probe input


def unit_masks(specs: list[LayerSpec], pre: torch.Tensor) -> UnitStates:
    """Every unit's state by one rule for every activation, in order of precedence: dead (its
    slope, as autograd computes it in float32, is exactly 0 for every probe input), resting (a
    Leaky ReLU or PReLU unit on its negative side for every input, still learning through slope
    alpha) and saturated (|slope| below SATURATION_THRESHOLD, not exactly 0, for every input).
    Layers that share an activation are measured together, over [G, N, W] at once.
    """
    n_layers, _, width = pre.shape
    masks = [torch.zeros((n_layers, width), dtype=torch.bool, device=pre.device) for _ in range(3)]
    for spec, idx in _groups(specs).items():
        whole = len(idx) == n_layers
        found = _states(spec, pre if whole else pre[idx])
        for mask, part in zip(masks, found, strict=True):
            if whole:
                mask.copy_(part)
            else:
                mask[idx] = part
    return UnitStates(*masks)


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
    dead, resting, saturated, rule = unit_flags(specs, pre)
    tail = [saturated, resting, rule, dead.flatten().to(pre.dtype)]
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
    moments, rest = host[: 7 * n_layers].reshape(7, n_layers), host[7 * n_layers :]
    dead_mask = rest[: n_layers * width].reshape(n_layers, width) > 0.5
    dead = np.where(moments[6] > 0.5, dead_mask.sum(1), np.nan)
    stats = LayerStats(
        *moments[:4], dead, moments[4], width=width, dead_mask=dead_mask, resting=moments[5]
    )
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
