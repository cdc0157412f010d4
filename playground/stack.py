"""Many networks of one shape trained in lock-step as one batched computation.

A comparison trains V variants (activations, initialisations, learning rates, optimisers) times
S weight seeds on the same data and the same batches. Training them one after another would
cost V x S times one network; here every layer of every model is one slice of a stacked weight
tensor (models, out, in), so a step is a handful of `baddbmm` calls whatever the number of
models. Each model keeps what makes it itself:

- its activation, applied to its own slice (models are ordered variant by variant, so a
  variant's models are one contiguous slice and each activation runs once a step);
- its initial weights, built by `model.build_model` from its seed exactly as the Playground
  builds them, so a variant and the Playground start from the same weights;
- its learning rate and optimiser: the update is written out per slice (SGD, momentum, Adam,
  RMSprop, as `torch.optim` computes them), because scaling Adam's gradient is not changing
  its learning rate;
- its fate: a model whose loss stops being finite freezes at its last finite weights with
  its reason, and the others go on.

Batch norm, when on, normalises each model's pre-activations over the batch on its own
(statistics per model and unit, running averages kept for inference as `nn.BatchNorm1d` does);
models with and without it differ in shape, so a comparison puts them in separate stacks.

Losses are per model (`reduction="none"`, then a mean over the batch), and the step minimises
their sum: models share no parameter, so each one's gradient is that of its own loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from playground import activations
from playground.config import MOMENTUM, OPTIMIZERS
from playground.data import Dataset
from playground.model import MLP, PAIRINGS, ModelSpec, build_model, output_module

ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch.optim.Adam's defaults
RMSPROP_ALPHA, RMSPROP_EPS = 0.99, 1e-8  # torch.optim.RMSprop's defaults
BN_MOMENTUM, BN_EPS = 0.1, 1e-5  # nn.BatchNorm1d's defaults


@dataclass(frozen=True)
class Model:
    """One network of a comparison: what it is and how it learns."""

    activation: str
    alpha: float
    init: str
    seed: int
    lr: float
    optimizer: str


@dataclass
class _Slice:
    """A run of consecutive models sharing an activation (and its alpha) or an optimiser."""

    start: int
    stop: int
    key: str
    alpha: float = 0.0
    state: dict[str, torch.Tensor] = field(default_factory=dict)
    module: nn.Module | None = None  # the activation, built once (not at every layer and step)


def _runs(values: list) -> list[tuple[int, int, object]]:
    """(start, stop, value) for each run of equal consecutive values."""
    out: list[tuple[int, int, object]] = []
    for i, v in enumerate(values):
        if out and out[-1][2] == v:
            out[-1] = (out[-1][0], i + 1, v)
        else:
            out.append((i, i + 1, v))
    return out


class Stack:
    """Models of one shape (input, width, depth, output, pairing) stacked into one computation.

    `step(x, y)` trains every model still finite on one batch; `losses(x, y)` evaluates them.
    """

    def __init__(
        self,
        models: list[Model],
        n_in: int,
        n_out: int,
        width: int,
        depth: int,
        pairing: str,
        device: torch.device | str = "cpu",
        batch_norm: bool = False,
        l1: float = 0.0,
        l2: float = 0.0,
    ) -> None:
        if not models:
            raise ValueError("a comparison needs at least one model")
        bad = {m.optimizer for m in models} - set(OPTIMIZERS)
        if bad:
            raise ValueError(f"optimiser must be one of {', '.join(OPTIMIZERS)} (got {bad})")
        self.models = models
        self.pairing = PAIRINGS[pairing]
        self.device = torch.device(device)
        self.batch_norm, self.l1, self.l2 = batch_norm, l1, l2
        self.training = True  # batch statistics (batch norm) while training, running ones after
        nets = [self._build(m, n_in, n_out, width, depth) for m in models]
        self.weights, self.biases = self._stacked(nets)
        self.norms = self._stacked_norms(nets) if batch_norm else []
        acts = [(m.activation, m.alpha) for m in models]
        self._acts = [
            _Slice(a, b, k, al, module=activations.get(k).module(al))  # type: ignore[misc]
            for a, b, (k, al) in _runs(acts)
        ]
        # PReLU's learnt slope, one per hidden layer and model (unused and untouched by every
        # model of another activation: its gradient there is exactly 0)
        self.slopes = [
            nn.Parameter(
                torch.tensor([m.alpha for m in models], dtype=torch.float32, device=device).view(
                    -1, 1, 1
                )
            )
            for _ in range(depth)
        ]
        self._opts = [_Slice(a, b, str(k)) for a, b, k in _runs([m.optimizer for m in models])]
        self.lr = torch.tensor([m.lr for m in models], dtype=torch.float32, device=device).view(
            -1, 1, 1
        )
        self.output = output_module(self.pairing.output)
        self.loss_fn = self.pairing.loss()
        self.loss_fn.reduction = "none"
        self.active = torch.ones(len(models), dtype=torch.bool, device=device)
        self._all_active = True  # the common case, which needs no masking
        self.alive = True  # any model still training (kept on the host: no sync to ask)
        self.reasons: dict[int, str] = {}
        self.steps = 0

    # ---- building ---------------------------------------------------------------------------
    def _build(self, m: Model, n_in: int, n_out: int, width: int, depth: int) -> MLP:
        spec = ModelSpec(
            n_in=n_in,
            n_out=n_out,
            width=width,
            layer_keys=(m.activation,) * depth,
            alphas=(m.alpha,) * depth,
            init=m.init,
            seed=m.seed,
            batch_norm=self.batch_norm,
            output=self.pairing.output,
        )
        return build_model(spec)

    def _stacked(self, nets: list[MLP]) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
        """Per layer, the models' weights as (models, in, out) and biases as (models, 1, out):
        transposed, so that a layer is `baddbmm(b, x, W)`."""
        layers = [[*n.linears, n.head] for n in nets]
        weights, biases = [], []
        for i in range(len(layers[0])):
            w = torch.stack([ls[i].weight.detach().t() for ls in layers]).to(self.device)
            b = torch.stack([ls[i].bias.detach()[None] for ls in layers]).to(self.device)
            weights.append(nn.Parameter(w.contiguous()))
            biases.append(nn.Parameter(b))
        return weights, biases

    def _stacked_norms(self, nets: list[MLP]) -> list[dict[str, torch.Tensor]]:
        """Per hidden layer, the models' batch-norm scale and shift (parameters) and running
        mean and variance (buffers), each (models, 1, width)."""
        out = []
        for i in range(len(nets[0].linears)):
            bns = [n.norms[i] for n in nets]  # type: ignore[index]

            def stack(name: str, bns: list = bns) -> torch.Tensor:
                return torch.stack([getattr(bn, name).detach()[None] for bn in bns]).to(self.device)

            out.append(
                {
                    "weight": nn.Parameter(stack("weight")),
                    "bias": nn.Parameter(stack("bias")),
                    "mean": stack("running_mean"),
                    "var": stack("running_var"),
                }
            )
        return out

    def parameters(self) -> list[nn.Parameter]:
        norms = [n[k] for n in self.norms for k in ("weight", "bias")]
        return [*self.weights, *self.biases, *self.slopes, *norms]  # type: ignore[list-item]

    # ---- the computation --------------------------------------------------------------------
    def _activate(self, z: torch.Tensor, layer: int) -> torch.Tensor:
        """Each slice through its own activation; one call per run of equal activations.

        One `split` rather than a slice per run: each slice's backward fills a zero tensor the
        size of the whole layer, where the split's is one concatenation."""
        whole = len(self._acts) == 1
        pieces = (z,) if whole else z.split([s.stop - s.start for s in self._acts])
        parts = []
        for s, zs in zip(self._acts, pieces, strict=True):
            if s.key == "prelu":
                slope = self.slopes[layer][s.start : s.stop]
                parts.append(torch.where(zs > 0, zs, slope * zs))
            else:
                assert s.module is not None
                parts.append(s.module(zs))
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def _normalise(self, z: torch.Tensor, layer: int) -> torch.Tensor:
        """Batch norm of each model's (batch, width) block, as nn.BatchNorm1d computes it."""
        bn = self.norms[layer]
        if self.training:
            mean, var = z.mean(1, keepdim=True), z.var(1, keepdim=True, unbiased=False)
            with torch.no_grad():
                n = z.shape[1]
                bn["mean"].lerp_(mean, BN_MOMENTUM)
                bn["var"].lerp_(var * (n / max(n - 1, 1)), BN_MOMENTUM)
        else:
            mean, var = bn["mean"], bn["var"]
        return (z - mean) * torch.rsqrt(var + BN_EPS) * bn["weight"] + bn["bias"]

    def layers(
        self, x: torch.Tensor
    ) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
        """Each hidden layer's (pre-activation, output), (models, batch, width) each, and the
        network's output: what a probe measures dead units on."""
        h = x.expand(len(self.models), *x.shape)
        hidden = []
        for i, (w, b) in enumerate(zip(self.weights[:-1], self.biases[:-1], strict=True)):
            z = torch.baddbmm(b, h, w)
            z = self._normalise(z, i) if self.norms else z
            h = self._activate(z, i)
            hidden.append((z, h))
        return hidden, self.output(torch.baddbmm(self.biases[-1], h, self.weights[-1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Every model's output for the same inputs: (models, batch, outputs)."""
        return self.layers(x)[1]

    def slices(self) -> list[tuple[int, int, str, float]]:
        """(start, stop, activation, alpha) of each run of models sharing an activation."""
        return [(s.start, s.stop, s.key, s.alpha) for s in self._acts]

    def layer_grad_norms(self) -> torch.Tensor:
        """Each model's gradient norm per hidden layer's weights, from the last step:
        (models, layers); NaN before the first step."""
        grads = [w.grad for w in self.weights[:-1]]
        if any(g is None for g in grads):
            return torch.full((len(self.models), len(grads)), float("nan"), device=self.device)
        return torch.stack([g.pow(2).sum((1, 2)).sqrt() for g in grads], 1)  # type: ignore[union-attr]

    def grad_norms(self) -> torch.Tensor:
        """Each model's gradient norm over all its parameters, from the last step: (models,)."""
        squares = [p.grad.pow(2).flatten(1).sum(1) for p in self.parameters() if p.grad is not None]
        if not squares:
            return torch.full((len(self.models),), float("nan"), device=self.device)
        return torch.stack(squares).sum(0).sqrt()

    def losses(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Each model's mean loss on (x, y): shape (models,)."""
        return self.loss_of(self.forward(x), y)

    def loss_of(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Each model's mean loss for outputs `out` (models, batch, outputs) against y."""
        m, b, c = out.shape
        if self.pairing.task == "multiclass":
            per = self.loss_fn(out.reshape(m * b, c), y.repeat(m)).view(m, b)
        else:
            per = self.loss_fn(out, y.expand(m, *y.shape)).view(m, -1)
        return per.mean(dim=1)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One optimiser step of every finite model on the batch; returns the batch losses.

        A model whose loss is not finite is frozen before its update, with its reason."""
        losses = self.losses(x, y)
        seen = losses.detach()
        if self.l1 > 0:  # on weights only, as the Playground's run adds it
            losses = losses + self.l1 * sum(w.abs().sum((1, 2)) for w in self.weights)
        finite = torch.isfinite(seen)
        if not bool(finite.all()):
            for i in (self.active & ~finite).nonzero().flatten().tolist():
                self.reasons[i] = f"loss became {float(seen[i]):g} at step {self.steps + 1}"
            self.active &= finite
            self._all_active = False
            self.alive = bool(self.active.any())
        params = self.parameters()
        for p in params:
            p.grad = None
        if self._all_active:
            losses.sum().backward()
        elif self.alive:
            torch.where(self.active, losses, torch.zeros_like(losses)).sum().backward()
        else:
            params = []
        with torch.no_grad():
            self._update(params)
        self.steps += 1
        return seen

    # ---- optimisers, written out per slice ----------------------------------------------------
    def _update(self, params: list[nn.Parameter]) -> None:
        t = self.steps + 1
        keep = self.active.view(-1, 1, 1)
        whole = len(self._opts) == 1  # one optimiser for all: no slicing
        weights = {id(w) for w in self.weights}
        for p in params:
            if p.grad is None:
                continue
            if self.l2 > 0 and id(p) in weights:  # torch.optim's weight_decay: on the gradient
                p.grad.add_(p, alpha=self.l2)
            for s in self._opts:
                a, b = s.start, s.stop
                delta = self._delta(s, id(p), p.grad if whole else p.grad[a:b], t, a, b)
                if not self._all_active:
                    delta = torch.where(keep[a:b], delta, torch.zeros_like(delta))
                (p if whole else p[a:b]).sub_(delta)

    def _delta(self, s: _Slice, key: int, g: torch.Tensor, t: int, a: int, b: int) -> torch.Tensor:
        """The step to subtract for the models a:b of slice s (its state for the parameter
        `key`), as torch.optim computes it."""
        lr = self.lr[a:b]
        if s.key == "sgd":
            return lr * g
        state = s.state
        if s.key == "momentum":
            buf = state.get(f"buf{key}")
            buf = g.clone() if buf is None else buf.mul_(MOMENTUM).add_(g)
            state[f"buf{key}"] = buf
            return lr * buf
        if s.key == "rmsprop":
            sq = state.setdefault(f"sq{key}", torch.zeros_like(g))
            sq.mul_(RMSPROP_ALPHA).addcmul_(g, g, value=1 - RMSPROP_ALPHA)
            return lr * g / (sq.sqrt() + RMSPROP_EPS)
        b1, b2 = ADAM_BETAS
        m = state.setdefault(f"m{key}", torch.zeros_like(g))
        v = state.setdefault(f"v{key}", torch.zeros_like(g))
        m.lerp_(g, 1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = (v.sqrt() / math.sqrt(1 - b2**t)).add_(ADAM_EPS)
        return (lr / (1 - b1**t)) * m / denom


def batch_order(n: int, batch_size: int, steps: int, seed: int) -> list[torch.Tensor]:
    """The index batches every model of a comparison sees: a fresh shuffle each epoch."""
    gen = torch.Generator().manual_seed(seed)
    per_epoch = n // batch_size
    out: list[torch.Tensor] = []
    while len(out) < steps:
        order = torch.randperm(n, generator=gen)
        out += [order[i * batch_size : (i + 1) * batch_size] for i in range(per_epoch)]
    return out[:steps]


def stack_for(
    data: Dataset, models: list[Model], width: int, depth: int, pairing: str, **options: Any
) -> Stack:
    """A stack shaped for `data`: its features in, one output (or one per class) out."""
    n_out = data.n_classes if data.task == "multiclass" else 1
    return Stack(models, data.n_features, n_out, width, depth, pairing, **options)
