"""Measurements of a network on a fixed probe set, cheap enough to take ten times a second.

Everything is computed as tensors on the run's device and read back to the host in one transfer,
so a probe costs one synchronisation however many layers there are. Kernels are chosen for speed:
for ReLU outputs (never negative) a zero column sum means every output is exactly zero, which is
far cheaper than `(a == 0).all(0)`, and histograms are quantise + `bincount` rather than `histc`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from playground import activations
from playground.model import MLP

N_BINS = 30
SATURATION_THRESHOLD = 0.01  # |f'(z)| below this for every probe input counts as saturated
PROBE_ROWS = 512


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
    hist_pre: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (edges, counts)
    hist_post: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    @property
    def dead_fraction(self) -> np.ndarray:
        return self.dead / self.width

    @property
    def saturated_fraction(self) -> np.ndarray:
        return self.saturated / self.width


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
)


def layer_columns(stats: LayerStats, norms: np.ndarray) -> dict[str, np.ndarray]:
    """Every per-layer measurement under its LAYER_KEYS name; `norms` is grad_norms' [3, L]."""
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
    }


def probe_rows(n_train: int, data_seed: int) -> np.ndarray:
    """Indices of the probe set: at most 512 training rows, drawn once from the data seed.

    Its own generator, so drawing it never touches the training stream.
    """
    rng = np.random.default_rng([data_seed, 0x9E0BE])
    if n_train <= PROBE_ROWS:
        return np.arange(n_train)
    return np.sort(rng.choice(n_train, PROBE_ROWS, replace=False))


def _unit_flags(specs: list[LayerSpec], pre: torch.Tensor, post: torch.Tensor) -> torch.Tensor:
    """Dead and saturated unit counts per layer, as a [2, L] tensor (NaN = not applicable).

    Layers that share an activation are measured together, in a few kernels over [G, N, W]
    rather than a few per layer.
    """
    out = torch.full((2, len(specs)), float("nan"), device=pre.device, dtype=pre.dtype)
    groups: dict[LayerSpec, list[int]] = {}
    for i, spec in enumerate(specs):
        groups.setdefault(spec, []).append(i)
    for spec, idx in groups.items():
        z, a = (pre, post) if len(idx) == len(specs) else (pre[idx], post[idx])
        act = spec.act
        if act.dead_rule == "zero" and act.output_range(spec.alpha)[0] >= 0:
            # outputs are never negative: a zero column sum means every output is exactly 0
            out[0, idx] = (a.sum(1) == 0).sum(1).to(pre.dtype)
        elif act.dead_rule == "zero":
            out[0, idx] = (a == 0).all(1).sum(1).to(pre.dtype)
        elif act.dead_rule == "negative":  # stuck on the negative side for every input
            out[0, idx] = (z.amax(1) <= 0).sum(1).to(pre.dtype)
        if act.saturates != "no":
            slope = act.derivative(z, spec.alpha).abs().amax(1)
            out[1, idx] = (slope < SATURATION_THRESHOLD).sum(1).to(pre.dtype)
    return out


def _bin_range(values: torch.Tensor, bounds: tuple[float, float] | None) -> torch.Tensor:
    """[L, 2] bin ranges: the activation's finite bounds where it has them, else the data's."""
    lo, hi = values.amin(dim=(1, 2)), values.amax(dim=(1, 2))
    if bounds is not None:
        if np.isfinite(bounds[0]):
            lo = torch.full_like(lo, bounds[0])
        if np.isfinite(bounds[1]):
            hi = torch.full_like(hi, bounds[1])
    hi = torch.maximum(hi, lo + 1e-6)
    return torch.stack([lo, hi], dim=1)


def _mean_std(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-layer mean and std from the first two moments: ~10x faster than `Tensor.std` here."""
    n = values[0].numel()
    mean = values.mean((1, 2))
    var = ((values * values).mean((1, 2)) - mean * mean).clamp_min(0) * (n / max(n - 1, 1))
    return mean, var.sqrt()


def _histograms(values: torch.Tensor, ranges: torch.Tensor) -> torch.Tensor:
    """Counts per layer, [L, N_BINS], in one bincount over all layers."""
    n_layers = values.shape[0]
    lo, hi = ranges[:, 0].view(-1, 1, 1), ranges[:, 1].view(-1, 1, 1)
    idx = ((values - lo) * (N_BINS / (hi - lo))).to(torch.int32).clamp_(0, N_BINS - 1)
    idx += torch.arange(n_layers, device=values.device, dtype=torch.int32).view(-1, 1, 1) * N_BINS
    return torch.bincount(idx.flatten(), minlength=n_layers * N_BINS).view(n_layers, N_BINS)


def _common_bounds(specs: list[LayerSpec]) -> tuple[float, float] | None:
    """The post-activation range shared by all layers, or None when layers differ."""
    ranges = {spec.act.output_range(spec.alpha) for spec in specs}
    return ranges.pop() if len(ranges) == 1 else None


@torch.no_grad()
def forward_capture(
    model: MLP, x: torch.Tensor, batch_stats: bool = False
) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
    """The network's output and each hidden layer's (pre, post), leaving its state untouched.

    Without batch norm there is one way to run. With it, `batch_stats` normalises by the
    statistics of `x` itself, as a training step does (what the layer statistics should show),
    and otherwise by the running statistics, as inference does (what test loss should use);
    either way the running statistics are left as they were.
    """
    capture: list[tuple[torch.Tensor, torch.Tensor]] = []
    if model.norms is None:
        return model(x, capture), capture
    was_training = model.training
    saved = [(bn, {k: v.clone() for k, v in bn.named_buffers()}) for bn in model.norms]
    model.train(batch_stats)
    try:
        return model(x, capture), capture
    finally:
        model.train(was_training)
        for bn, buffers in saved:
            for k, v in buffers.items():
                getattr(bn, k).copy_(v)


def layer_stats(
    model: MLP, x: torch.Tensor, specs: list[LayerSpec], histograms: bool = True
) -> LayerStats:
    """Forward the probe set and measure every hidden layer as training sees it."""
    return capture_stats(forward_capture(model, x, batch_stats=True)[1], specs, histograms)


@torch.no_grad()
def capture_stats(
    capture: list[tuple[torch.Tensor, torch.Tensor]],
    specs: list[LayerSpec],
    histograms: bool = True,
) -> LayerStats:
    """Measure every hidden layer from its captured (pre, post) activations."""
    pre = torch.stack([z for z, _ in capture])  # [L, N, W]
    post = torch.stack([a for _, a in capture])
    moments = torch.stack([*_mean_std(pre), *_mean_std(post)])
    parts = [moments, _unit_flags(specs, pre, post)]
    if histograms:
        pre_r, post_r = _bin_range(pre, None), _bin_range(post, _common_bounds(specs))
        parts += [
            pre_r.T,
            post_r.T,
            _histograms(pre, pre_r).T.to(pre.dtype),
            _histograms(post, post_r).T.to(pre.dtype),
        ]
    host = torch.cat(parts).float().cpu().numpy().astype(np.float64)  # the one host sync
    stats = LayerStats(*host[:6], width=pre.shape[2])
    if histograms:
        pre_lo, pre_hi, post_lo, post_hi = host[6:10]
        counts_pre, counts_post = host[10 : 10 + N_BINS].T, host[10 + N_BINS :].T
        for i in range(len(specs)):
            stats.hist_pre.append((np.linspace(pre_lo[i], pre_hi[i], N_BINS + 1), counts_pre[i]))
            stats.hist_post.append(
                (np.linspace(post_lo[i], post_hi[i], N_BINS + 1), counts_post[i])
            )
    return stats


def grad_norms(model: MLP, signals: list[torch.Tensor]) -> torch.Tensor:
    """[3, L] tensor: weight-gradient norm, back-propagated signal norm, weight norm per layer.

    Read from the gradients the training step just computed: no extra backward pass. The signal
    is dL/dz, the gradient arriving at each layer's pre-activation.
    """
    weights = [lin.weight for lin in model.linears]
    grads = [w.grad if w.grad is not None else torch.zeros_like(w) for w in weights]
    sig = [s.grad if s.grad is not None else torch.zeros_like(s) for s in signals]
    return torch.stack(
        [
            torch.stack(torch._foreach_norm(grads)),
            torch.stack(torch._foreach_norm(sig)),
            torch.stack(torch._foreach_norm([w.detach() for w in weights])),
        ]
    )
