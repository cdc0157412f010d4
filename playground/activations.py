"""The activations registry: one declarative entry per activation function.

Everything the app shows or uses about an activation lives in its entry: the torch module the model
is built from, a hand-written derivative (so the Explorer can plot f' without autograd and the tests
can check it against autograd), LaTeX, range, the comparison-table properties and our notes. Adding
an activation means adding one ``Activation(...)`` to ``_ENTRIES``.

Derivatives at kinks follow PyTorch's autograd convention (ReLU'(0) = 0, Leaky ReLU'(0) = alpha,
ELU'(0) = alpha, Hardswish' = 0 at -3 and 1 at 3), so the plotted derivative is the one training
uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

INF = math.inf

# Minimums of the activations that are bounded below but not monotonic. Found by solving f'(x) = 0
# to 30 digits and rounded away from zero at the 15th significant digit, so each is a valid
# lower bound and within 1e-15 of the true minimum.
SILU_ARGMIN = -1.27846454276107  # where 1 + x (1 - sigmoid(x)) = 0, so there SiLU(x) = x + 1
SILU_MIN = -0.278464542761074
GELU_MIN = -0.169971207479904  # at x = -0.751791524693564
MISH_MIN = -0.308843413017251  # at x = -1.19243121451550
HARDSWISH_MIN = -0.375  # at x = -1.5, exactly

# SELU's fixed constants, as PyTorch defines them (Klambauer et al., 2017).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SELU_MIN = -SELU_SCALE * SELU_ALPHA  # approx -1.7581, approached but never reached

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Param:
    """The activation's one tunable number, shown as a number box."""

    name: str
    default: float
    low: float
    high: float
    help: str
    step: float = 0.01  # what the box's +/- buttons add


Bounds = Callable[[float], tuple[float, float]]


def _no_slope(alpha: float) -> float:
    """He gain slope for activations without a negative-side slope."""
    return 0.0


def _unbounded(alpha: float) -> tuple[float, float]:
    """Default numeric range: the whole real line."""
    return (-INF, INF)


@dataclass(frozen=True)
class Activation:
    """One activation: how to build it, how to draw it, and what to say about it."""

    key: str
    label: str
    module: Callable[[float], nn.Module]
    derivative: Callable[[torch.Tensor, float], torch.Tensor]
    formula: str
    derivative_formula: str
    range_latex: str
    zero_centred: str
    saturates: str
    dying: bool  # the usual table's "dying neurons" column (the probes' rule is `slope_kind`)
    cost: str
    best_for: str
    uses: str
    param: Param | None = None
    negative_slope: Callable[[float], float] = _no_slope
    hidden: bool = True
    in_subject: bool = True
    correction: str | None = None
    table_range: str | None = None  # the usual table's range, where range_latex corrects it
    bounds: Bounds = _unbounded  # numeric (lo, hi) of f for a given alpha; read via output_range
    # Which slopes it has, for the probes' unit states: "relu" (0 or 1), "leaky" (alpha or 1),
    # "identity" (always 1) or "curved" (every value down to exactly 0 in float32).
    slope_kind: str = "curved"

    def output_range(self, alpha: float | None = None) -> tuple[float, float]:
        """Numeric (lo, hi) of the outputs, +-inf allowed; alpha defaults to the slider default."""
        if alpha is None:
            alpha = self.param.default if self.param else 0.0
        return self.bounds(alpha)


# --- analytic derivatives (elementwise, by hand; the tests compare them with autograd) ---


def _d_sigmoid(x: torch.Tensor, alpha: float) -> torch.Tensor:
    s = torch.sigmoid(x)
    return s * (1 - s)


def _d_tanh(x: torch.Tensor, alpha: float) -> torch.Tensor:
    return 1 - torch.tanh(x) ** 2


def _d_relu(x: torch.Tensor, alpha: float) -> torch.Tensor:
    return (x > 0).to(x.dtype)


def _d_leaky(x: torch.Tensor, alpha: float) -> torch.Tensor:
    # full_like keeps alpha in x's dtype (a scalar-only where would round it through float32)
    return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, alpha))


def _d_elu(x: torch.Tensor, alpha: float) -> torch.Tensor:
    # clamp keeps exp() finite in the branch torch.where throws away
    return torch.where(x > 0, 1.0, alpha * torch.exp(x.clamp(max=0)))


def _d_selu(x: torch.Tensor, alpha: float) -> torch.Tensor:
    return SELU_SCALE * _d_elu(x, SELU_ALPHA)


def _d_silu(x: torch.Tensor, alpha: float) -> torch.Tensor:
    s = torch.sigmoid(x)
    return s * (1 + x * (1 - s))


def _d_gelu(x: torch.Tensor, alpha: float) -> torch.Tensor:
    cdf = 0.5 * (1 + torch.erf(x / _SQRT2))
    pdf = _INV_SQRT_2PI * torch.exp(-0.5 * x * x)
    return cdf + x * pdf


def _d_mish(x: torch.Tensor, alpha: float) -> torch.Tensor:
    t = torch.tanh(F.softplus(x))
    return t + x * (1 - t * t) * torch.sigmoid(x)


def _d_softplus(x: torch.Tensor, alpha: float) -> torch.Tensor:
    # nn.Softplus turns exactly linear above x = 20; sigmoid(20) differs from 1 by 2e-9
    return torch.sigmoid(x)


def _d_hardswish(x: torch.Tensor, alpha: float) -> torch.Tensor:
    inner = x / 3 + 0.5
    return torch.where(x <= -3, 0.0, torch.where(x >= 3, 1.0, inner))


def _d_softmax(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """Diagonal of the softmax Jacobian along the last dim: ds_i/dx_i = s_i (1 - s_i)."""
    s = torch.softmax(x, dim=-1)
    return s * (1 - s)


def _d_linear(x: torch.Tensor, alpha: float) -> torch.Tensor:
    return torch.ones_like(x)


# --- the registry ---

_LEAKY_ALPHA = Param(
    "alpha", 0.01, 0.0, 1.0, "Slope for negative inputs. 0 turns it back into ReLU."
)
_PRELU_ALPHA = Param(
    "alpha",
    0.25,
    0.0,
    1.0,
    "Starting slope for negative inputs; training then learns it (one per layer).",
)
_ELU_ALPHA = Param(
    "alpha",
    1.0,
    0.01,
    5.0,
    "How far below zero the output can go: the negative side levels off at -alpha.",
)

_ENTRIES: tuple[Activation, ...] = (
    Activation(
        key="sigmoid",
        label="Sigmoid",
        module=lambda a: nn.Sigmoid(),
        derivative=_d_sigmoid,
        formula=r"\sigma(x) = \frac{1}{1 + e^{-x}}",
        derivative_formula=r"\sigma'(x) = \sigma(x)\,\bigl(1 - \sigma(x)\bigr)",
        range_latex=r"(0, 1)",
        zero_centred="no",
        saturates="both",
        dying=False,
        cost="high",
        best_for="Output: binary classification",
        uses="Squashes a score into a probability, so it belongs on the output of a yes/no "
        "classifier. In deep hidden stacks its gradient (at most 0.25) shrinks layer by layer.",
        bounds=lambda a: (0.0, 1.0),
        correction="Comparison tables say sigmoid units saturate but do not die. In float32, "
        "as training computes it, they can do both. Above x of about +16.64 the output rounds "
        "to exactly 1 and the slope to exactly 0: a unit pushed past that for every input gets "
        "no gradient at all, and the app counts it dead, as it would a ReLU unit on its flat "
        "side. Below 0 the slope stays tiny but positive (saturated: the unit can still "
        "recover, slowly) down to about -88.7, where it too becomes exactly 0.",
    ),
    Activation(
        key="tanh",
        label="Tanh",
        module=lambda a: nn.Tanh(),
        derivative=_d_tanh,
        formula=r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
        derivative_formula=r"\tanh'(x) = 1 - \tanh^2(x)",
        range_latex=r"(-1, 1)",
        zero_centred="yes",
        saturates="both",
        dying=False,
        cost="high",
        best_for="RNNs, LSTMs",
        uses="A zero-centred squashing function: a good fit for shallow nets, recurrent cells "
        "and outputs that must stay in (-1, 1). Its slope falls towards 0 at both ends, so "
        "units pushed far out learn slowly; with Xavier initialisation its gradient keeps its "
        "size far better than sigmoid's.",
        bounds=lambda a: (-1.0, 1.0),
        correction="Saturates at both ends, as the tables say, and in float32 it can also die: "
        "beyond x of about +-9.01 the output rounds to exactly +-1 and the slope to exactly 0, "
        "so a unit pushed past that for every input gets no gradient at all and the app counts "
        "it dead. Closer in, the slope is tiny but positive: saturated, not dead.",
    ),
    Activation(
        key="relu",
        label="ReLU",
        module=lambda a: nn.ReLU(),
        derivative=_d_relu,
        formula=r"\mathrm{ReLU}(x) = \max(0, x)",
        derivative_formula=r"\mathrm{ReLU}'(x) = "
        r"\begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}",
        range_latex=r"[0, \infty)",
        zero_centred="no",
        saturates="no",
        dying=True,
        cost="very low",
        best_for="Hidden layers (default)",
        uses="The first thing to try in hidden layers: nearly free to compute and its gradient "
        "is exactly 1 for positive inputs. Watch for units that stop firing altogether.",
        bounds=lambda a: (0.0, INF),
        slope_kind="relu",
        correction="Listed as non-saturating, which is right for positive inputs; for x <= 0 it "
        "is not saturation (a slow approach to a limit) but a flat region where the gradient is "
        "exactly 0. That flat region is what lets a ReLU unit die.",
    ),
    Activation(
        key="leaky_relu",
        label="Leaky ReLU",
        module=lambda a: nn.LeakyReLU(a),
        derivative=_d_leaky,
        formula=r"f(x) = \begin{cases} x & x > 0 \\ \alpha x & x \le 0 \end{cases}",
        derivative_formula=r"f'(x) = \begin{cases} 1 & x > 0 \\ \alpha & x \le 0 \end{cases}",
        range_latex=r"(-\infty, \infty)",
        zero_centred="no",
        saturates="no",
        dying=False,
        cost="very low",
        best_for="When ReLU neurons die",
        uses="ReLU with a small slope on the negative side, so a unit pushed below zero still gets "
        "a gradient and can come back. Try it when many ReLU units have died.",
        param=_LEAKY_ALPHA,
        negative_slope=lambda a: a,
        slope_kind="leaky",
        bounds=lambda a: (-INF if a > 0 else 0.0, INF),
    ),
    Activation(
        key="elu",
        label="ELU",
        module=lambda a: nn.ELU(alpha=a),
        derivative=_d_elu,
        formula=r"f(x) = \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases}",
        derivative_formula=r"f'(x) = \begin{cases} 1 & x > 0 \\ \alpha e^{x} & x \le 0 \end{cases}",
        range_latex=r"(-\alpha, \infty)",
        zero_centred="approx",
        saturates="negative",
        dying=False,
        cost="medium",
        best_for="Smoother gradients needed",
        uses="A ReLU whose negative side curves down to -alpha, which pulls mean activations "
        "towards zero. Smooth at 0 only when alpha = 1. Costs an exponential per unit.",
        param=_ELU_ALPHA,
        bounds=lambda a: (-a, INF),
        correction="Often called smooth everywhere, unlike ReLU. That holds only for alpha = 1: "
        "for any other alpha the curve is continuous at 0 but its slope jumps from alpha to 1 "
        "there.",
    ),
    Activation(
        key="silu",
        label="Swish/SiLU",
        module=lambda a: nn.SiLU(),
        derivative=_d_silu,
        formula=r"\mathrm{SiLU}(x) = x\,\sigma(x) = \frac{x}{1 + e^{-x}}",
        derivative_formula=r"\mathrm{SiLU}'(x) = \sigma(x)\,\bigl(1 + x\,(1 - \sigma(x))\bigr)",
        range_latex=r"[-0.27846\ldots, \infty)",
        zero_centred="no",
        saturates="no",
        dying=False,
        cost="medium",
        best_for="Very deep networks (40+ layers)",
        uses="A smooth, slightly non-monotonic ReLU: the input gates itself through a sigmoid. "
        "A common choice in modern deep vision and language models.",
        bounds=lambda a: (SILU_MIN, INF),
        table_range=r"(-\infty, \infty)",
        correction="Usual tables give the range as (-inf, inf) and say Swish does not saturate. "
        "SiLU is bounded below: its minimum is about -0.27846, at x of about -1.2785, where the "
        "slope is 0 (a minimum, not saturation). And its negative side does saturate: below "
        "its steepest descent, at x of about -2.40, the slope shrinks towards 0 (below 0.01 in "
        "size from about -6.26). In float32 the slope is exactly 0 only below about -88.7, so "
        "a unit can die only that far out. The tables' 'very deep networks (40+ layers)' "
        "assumes normalisation and skip connections: in the Playground's plain stacks, 32 "
        "layers of 8 SiLU units stay at chance on the spiral (see the advice).",
    ),
    Activation(
        key="softmax",
        label="Softmax",
        module=lambda a: nn.Softmax(dim=-1),
        derivative=_d_softmax,
        formula=r"\mathrm{softmax}(x)_i = \frac{e^{x_i}}{\sum_{j} e^{x_j}}",
        derivative_formula=r"\frac{\partial\,\mathrm{softmax}(x)_i}{\partial x_j}"
        r" = s_i\,(\delta_{ij} - s_j),\quad \text{diagonal: } s_i\,(1 - s_i)",
        range_latex=r"(0, 1),\ \textstyle\sum_i \mathrm{softmax}(x)_i = 1",
        zero_centred="no",
        saturates="both",
        dying=False,
        cost="high",
        best_for="Output: multi-class",
        uses="Turns a vector of scores into probabilities that sum to 1, for the output of a "
        "multi-class classifier. With CrossEntropyLoss, leave it out: the loss applies it.",
        hidden=False,
        bounds=lambda a: (0.0, 1.0),
    ),
    Activation(
        key="linear",
        label="Linear",
        module=lambda a: nn.Identity(),
        derivative=_d_linear,
        formula=r"f(x) = x",
        derivative_formula=r"f'(x) = 1",
        range_latex=r"(-\infty, \infty)",
        zero_centred="yes",
        saturates="no",
        dying=False,
        cost="none",
        slope_kind="identity",
        best_for="Output: regression",
        uses="Leaves values untouched: the right output for predicting an unbounded number. "
        "In hidden layers it adds nothing, since stacked linear layers collapse into one.",
    ),
    Activation(
        key="prelu",
        label="PReLU",
        module=lambda a: nn.PReLU(init=a),
        derivative=_d_leaky,
        formula=r"f(x) = \begin{cases} x & x > 0 \\ a\,x & x \le 0 \end{cases}"
        r",\quad a \text{ learned, starts at } \alpha",
        derivative_formula=r"f'(x) = \begin{cases} 1 & x > 0 \\ a & x \le 0 \end{cases}",
        range_latex=r"(-\infty, \infty)",
        zero_centred="no",
        saturates="no",
        dying=False,
        cost="very low",
        best_for="Letting the net learn the leak",
        uses="Leaky ReLU whose negative slope is a trained parameter instead of a fixed choice. "
        "The curve shown is the one at initialisation.",
        param=_PRELU_ALPHA,
        negative_slope=lambda a: a,
        slope_kind="leaky",
        in_subject=False,
        bounds=lambda a: (-INF if a > 0 else 0.0, INF),
    ),
    Activation(
        key="gelu",
        label="GELU",
        module=lambda a: nn.GELU(),
        derivative=_d_gelu,
        formula=r"\mathrm{GELU}(x) = x\,\Phi(x) = "
        r"\frac{x}{2}\bigl(1 + \mathrm{erf}(x/\sqrt{2})\bigr)",
        derivative_formula=r"\mathrm{GELU}'(x) = \Phi(x) + x\,\varphi(x),"
        r"\quad \varphi(x) = \frac{e^{-x^2/2}}{\sqrt{2\pi}}",
        range_latex=r"[-0.16997\ldots, \infty)",
        zero_centred="no",
        saturates="negative",
        dying=False,
        cost="medium",
        best_for="Transformers",
        uses="Weights each input by the chance a standard normal falls below it: a smooth ReLU "
        "that is the usual choice inside transformer blocks.",
        in_subject=False,
        bounds=lambda a: (GELU_MIN, INF),
        correction="Goes beyond the usual tables. Like SiLU it dips below zero and is bounded "
        "below, with minimum about -0.16997 at x of about -0.7518, and its negative side "
        "saturates: below x of about -1.41 the slope shrinks towards 0. In float32 the output "
        "is exactly 0 below about -5.54 and the slope autograd computes in training is exactly "
        "0 below about -6.15: a unit pushed below that for every input is dead and gets no "
        "gradient to recover with (between the two its output is 0 but its slope is not). "
        "This is the exact GELU, x times the normal CDF; many transformers use "
        "its tanh approximation, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (PyTorch's "
        "GELU(approximate='tanh')), which differs from it by at most about 5e-4.",
    ),
    Activation(
        key="selu",
        label="SELU",
        module=lambda a: nn.SELU(),
        derivative=_d_selu,
        formula=r"f(x) = \lambda "
        r"\begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases}"
        r",\quad \lambda \approx 1.0507,\ \alpha \approx 1.6733",
        derivative_formula=r"f'(x) = \lambda \begin{cases} 1 & x > 0 \\ \alpha e^{x} & x \le 0 "
        r"\end{cases}",
        range_latex=r"(-\lambda\alpha, \infty) \approx (-1.7581, \infty)",
        zero_centred="approx",
        saturates="negative",
        dying=False,
        cost="medium",
        best_for="Self-normalising deep MLPs",
        uses="A scaled ELU with fixed constants chosen so activations drift towards mean 0 and "
        "variance 1 on their own. Pair it with LeCun-normal initialisation and no batch norm.",
        in_subject=False,
        bounds=lambda a: (SELU_MIN, INF),
    ),
    Activation(
        key="mish",
        label="Mish",
        module=lambda a: nn.Mish(),
        derivative=_d_mish,
        formula=r"\mathrm{Mish}(x) = x \tanh\bigl(\ln(1 + e^{x})\bigr)",
        derivative_formula=r"\mathrm{Mish}'(x) = \tanh(\zeta(x)) + x\,\sigma(x)\,"
        r"\bigl(1 - \tanh^2(\zeta(x))\bigr),\quad \zeta(x) = \ln(1 + e^{x})",
        range_latex=r"[-0.30884\ldots, \infty)",
        zero_centred="no",
        saturates="negative",
        dying=False,
        cost="medium",
        best_for="Deep CNNs",
        uses="Another smooth, self-gated ReLU, close in shape to SiLU with a slightly deeper dip. "
        "Popular in some object-detection networks.",
        in_subject=False,
        bounds=lambda a: (MISH_MIN, INF),
        correction="Goes beyond the usual tables. Bounded below, with minimum about -0.30884 at "
        "x of about -1.1924, and its negative side saturates: below x of about -2.26 the slope "
        "shrinks towards 0. In float32 its slope in training is exactly 0 only below about "
        "-103, so a unit can die only that far out.",
    ),
    Activation(
        key="softplus",
        label="Softplus",
        module=lambda a: nn.Softplus(beta=1.0),
        derivative=_d_softplus,
        formula=r"\mathrm{softplus}(x) = \ln(1 + e^{x})",
        derivative_formula=r"\mathrm{softplus}'(x) = \sigma(x)",
        range_latex=r"(0, \infty)",
        zero_centred="no",
        saturates="negative",
        dying=False,
        cost="medium",
        best_for="Smooth positive outputs",
        uses="A smooth ReLU whose output is positive (in float32 it rounds to exactly 0 only "
        "below about -102.9), handy for predicting scales or rates. Its derivative is exactly "
        "the sigmoid.",
        in_subject=False,
        bounds=lambda a: (0.0, INF),
    ),
    Activation(
        key="hardswish",
        label="Hardswish",
        module=lambda a: nn.Hardswish(),
        derivative=_d_hardswish,
        formula=r"f(x) = x\,\frac{\min(\max(x + 3, 0), 6)}{6}",
        derivative_formula=r"f'(x) = \begin{cases} 0 & x \le -3 \\ \frac{2x + 3}{6} & -3 < x < 3 "
        r"\\ 1 & x \ge 3 \end{cases}",
        range_latex=r"[-0.375, \infty)",
        zero_centred="no",
        saturates="no",
        dying=True,
        cost="low",
        best_for="Mobile / low-power networks",
        uses="A piecewise approximation of SiLU built from clamps, with no exponentials, made for "
        "networks that run on phones.",
        in_subject=False,
        bounds=lambda a: (HARDSWISH_MIN, INF),
        correction="Goes beyond the usual tables. For x <= -3 the slope is exactly 0, a flat "
        "region like ReLU's: a unit there for every input gets no gradient and counts as "
        "dead.",
    ),
)


def _index(entries: tuple[Activation, ...]) -> dict[str, Activation]:
    """Key the entries, refusing duplicates so a copy-paste slip fails at import."""
    registry: dict[str, Activation] = {}
    for entry in entries:
        if entry.key in registry:
            raise ValueError(f"duplicate activation key {entry.key!r}")
        registry[entry.key] = entry
    return registry


REGISTRY: dict[str, Activation] = _index(_ENTRIES)
HIDDEN_KEYS: tuple[str, ...] = tuple(k for k, a in REGISTRY.items() if a.hidden)


def get(key: str) -> Activation:
    """Look an activation up by key, with an error that tells the user what exists."""
    try:
        return REGISTRY[key]
    except KeyError:
        raise KeyError(f"unknown activation {key!r}; valid keys: {', '.join(REGISTRY)}") from None
