"""The MLP, its initialisation schemes, and the output head + loss chosen by the pairing rules.

The network is a plain loop over (linear, optional batch norm, activation) blocks so that a probe
can capture every layer's pre- and post-activation in the same forward pass that trains it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from playground import activations

INITS: dict[str, str] = {
    "default": "PyTorch default (Kaiming-uniform with a=sqrt(5), uniform biases)",
    "he": "He/Kaiming normal, fan-in, ReLU-family gain",
    "he_uniform": "He/Kaiming uniform, fan-in, ReLU-family gain",
    "xavier": "Xavier/Glorot normal, gain 1",
    "xavier_uniform": "Xavier/Glorot uniform, gain 1",
    "lecun": "LeCun normal, std 1/sqrt(fan-in)",
    "small": "Too small on purpose: normal, std 0.01",
    "large": "Too large on purpose: normal, std 1 whatever the fan-in",
}


@dataclass(frozen=True)
class Pairing:
    """An output activation + loss for a task, with what it costs when it is a mistake."""

    key: str
    task: str
    label: str
    output: str | None  # activation applied in the model's last layer, or None for raw outputs
    loss: Callable[[], nn.Module]
    output_kind: str  # what the model emits: "logit", "prob", "logprob" or "value"
    note: str = ""
    warning: str | None = None  # set for pairings that are real mistakes, chosen on purpose


PAIRINGS: dict[str, Pairing] = {
    p.key: p
    for p in (
        Pairing(
            "bce_logits",
            "binary",
            "One logit + BCEWithLogitsLoss",
            None,
            nn.BCEWithLogitsLoss,
            "logit",
            note="Recommended: the loss applies the sigmoid itself, in a numerically stable "
            "form (log-sum-exp), so even extreme logits give exact gradients.",
        ),
        Pairing(
            "sigmoid_bce",
            "binary",
            "Sigmoid + BCELoss",
            "sigmoid",
            nn.BCELoss,
            "prob",
            note="The classic pairing. It works, but once a logit passes about +16.6 the "
            "sigmoid rounds to exactly 1 in float32 (and to exactly 0 only below about -88.7); "
            "BCELoss then clamps log(0) at -100, so a confidently wrong point gets a capped loss "
            "and no gradient at all. BCEWithLogitsLoss has neither problem.",
        ),
        Pairing(
            "ce_logits",
            "multiclass",
            "Logits + CrossEntropyLoss",
            None,
            nn.CrossEntropyLoss,
            "logit",
            note="Recommended: CrossEntropyLoss applies log-softmax internally, so the model "
            "outputs raw scores.",
        ),
        Pairing(
            "log_softmax_nll",
            "multiclass",
            "Log-softmax + NLLLoss",
            "log_softmax",
            nn.NLLLoss,
            "logprob",
            note="Equivalent to logits + CrossEntropyLoss. NLLLoss expects log-probabilities: "
            "pair it with log-softmax, not softmax.",
        ),
        Pairing(
            "softmax_ce",
            "multiclass",
            "Softmax + CrossEntropyLoss (mistake)",
            "softmax",
            nn.CrossEntropyLoss,
            "prob",
            warning="Softmax is applied twice: CrossEntropyLoss already applies log-softmax. "
            "The probabilities are squashed into [0, 1] before the loss, so the loss can "
            "never get near 0 and the gradients shrink: training is slow and stalls.",
        ),
        Pairing(
            "softmax_nll",
            "multiclass",
            "Softmax + NLLLoss (mistake)",
            "softmax",
            nn.NLLLoss,
            "prob",
            warning="NLLLoss expects log-probabilities. Fed plain probabilities it just "
            "maximises the probability itself, not its log: a wrong, poorly scaled loss "
            "(it goes negative, down to -1). Use log-softmax.",
        ),
        Pairing(
            "mse",
            "regression",
            "Linear + MSE",
            None,
            nn.MSELoss,
            "value",
            note="Recommended for regression: unbounded output, mean squared error.",
        ),
        Pairing(
            "l1",
            "regression",
            "Linear + L1 (MAE)",
            None,
            nn.L1Loss,
            "value",
            note="Mean absolute error: less pulled by outliers than MSE.",
        ),
        Pairing(
            "smooth_l1",
            "regression",
            "Linear + Smooth L1",
            None,
            nn.SmoothL1Loss,
            "value",
            note="Quadratic near zero, linear far away: MSE's smoothness, L1's robustness.",
        ),
        Pairing(
            "tanh_mse",
            "regression",
            "Tanh output + MSE (mistake)",
            "tanh",
            nn.MSELoss,
            "value",
            warning="A bounded output on a regression target: the network can never predict "
            "outside (-1, 1), so targets beyond that are out of reach and their gradients "
            "vanish as the output saturates.",
        ),
        Pairing(
            "sigmoid_mse",
            "regression",
            "Sigmoid output + MSE (mistake)",
            "sigmoid",
            nn.MSELoss,
            "value",
            warning="A bounded output on a regression target: predictions are stuck in "
            "(0, 1), so every negative target (about half of standardised data) is out of "
            "reach.",
        ),
    )
}
_DEFAULT_PAIRING = {"binary": "bce_logits", "multiclass": "ce_logits", "regression": "mse"}
_OUTPUTS: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "softmax": lambda: nn.Softmax(dim=-1),
    "log_softmax": lambda: nn.LogSoftmax(dim=-1),
}


def output_module(name: str | None) -> nn.Module:
    """A pairing's output activation over the last dimension (the classes), or identity."""
    return _OUTPUTS[name]() if name else nn.Identity()


def default_pairing(task: str) -> str:
    return _DEFAULT_PAIRING[task]


class MLP(nn.Module):
    """Hidden blocks of Linear -> [BatchNorm] -> activation, then a linear head."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        width: int,
        hidden: list[nn.Module],
        batch_norm: bool = False,
        output: nn.Module | None = None,
    ) -> None:
        super().__init__()
        sizes = [n_in] + [width] * len(hidden)
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm1d(width) for _ in hidden) if batch_norm else None
        self.acts = nn.ModuleList(hidden)
        self.head = nn.Linear(sizes[-1], n_out)
        self.output = output if output is not None else nn.Identity()

    def forward(
        self, x: torch.Tensor, capture: list[tuple[torch.Tensor, torch.Tensor]] | None = None
    ) -> torch.Tensor:
        """Run the network; with `capture`, append each hidden layer's (pre, post) activation."""
        for i, (linear, act) in enumerate(zip(self.linears, self.acts)):
            z = linear(x)
            if self.norms is not None:
                z = self.norms[i](z)
            x = act(z)
            if capture is not None:
                capture.append((z, x))
        return self.output(self.head(x))


@dataclass(frozen=True)
class ModelSpec:
    """Everything that decides a network's architecture and initial weights, in one value.

    Two equal specs build bit-identical networks, so a spec can key a cache or a comparison.
    """

    n_in: int
    n_out: int
    width: int
    layer_keys: tuple[str, ...]
    alphas: tuple[float, ...]
    init: str
    seed: int
    batch_norm: bool = False
    output: str | None = None  # output activation (a key of the pairing table), None for raw

    def __post_init__(self) -> None:
        # accept lists for convenience but store tuples, so the spec stays hashable
        object.__setattr__(self, "layer_keys", tuple(self.layer_keys))
        object.__setattr__(self, "alphas", tuple(self.alphas))
        if len(self.alphas) != len(self.layer_keys):
            raise ValueError(
                f"{len(self.layer_keys)} hidden layers need as many alphas (got {len(self.alphas)})"
            )


def build_model(spec: ModelSpec) -> MLP:
    """Build the MLP and initialise it from `spec.seed` alone (never the global RNG)."""
    pairs = list(zip(spec.layer_keys, spec.alphas))
    hidden = [activations.get(k).module(a) for k, a in pairs]
    head = output_module(spec.output) if spec.output else None
    with torch.random.fork_rng(devices=[]):  # nn.Linear draws a throw-away init from global RNG
        model = MLP(spec.n_in, spec.n_out, spec.width, hidden, spec.batch_norm, head)
    slopes = [activations.get(k).negative_slope(a) for k, a in pairs]
    init_weights(model, spec.init, slopes, torch.Generator().manual_seed(spec.seed))
    return model


def init_weights(model: MLP, scheme: str, slopes: list[float], gen: torch.Generator) -> None:
    """Apply `scheme` to every linear layer; each hidden layer's He gain uses its own slope."""
    if scheme not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)} (got {scheme!r})")
    layers = [*model.linears, model.head]
    # the head follows the last hidden activation, so it takes that layer's slope for He
    for linear, slope in zip(layers, [*slopes, slopes[-1] if slopes else 0.0]):
        _init_linear(linear, scheme, slope, gen)


@torch.no_grad()
def _init_linear(linear: nn.Linear, scheme: str, slope: float, gen: torch.Generator) -> None:
    w, b = linear.weight, linear.bias
    fan_in = w.shape[1]
    if scheme == "default":  # nn.Linear.reset_parameters, but from our generator
        nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=gen)
        bound = 1 / math.sqrt(fan_in)
        nn.init.uniform_(b, -bound, bound, generator=gen)
        return
    if scheme == "he":
        nn.init.kaiming_normal_(w, a=slope, nonlinearity="leaky_relu", generator=gen)
    elif scheme == "he_uniform":
        nn.init.kaiming_uniform_(w, a=slope, nonlinearity="leaky_relu", generator=gen)
    elif scheme == "xavier":
        nn.init.xavier_normal_(w, gain=1.0, generator=gen)
    elif scheme == "xavier_uniform":
        nn.init.xavier_uniform_(w, gain=1.0, generator=gen)
    elif scheme == "lecun":
        nn.init.normal_(w, 0.0, 1 / math.sqrt(fan_in), generator=gen)
    elif scheme == "small":
        nn.init.normal_(w, 0.0, 0.01, generator=gen)
    elif scheme == "large":
        nn.init.normal_(w, 0.0, 1.0, generator=gen)
    nn.init.zeros_(b)
