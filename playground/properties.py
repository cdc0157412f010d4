"""Measured properties of each hidden activation: what the function really does, in numbers.

Comparison tables describe activations in words ("zero-centred", "saturates", "unbounded
below"). Here each claim is measured on the function PyTorch actually runs, so the Explorer can
set the two side by side and say where the words are loose:

- output mean and std for standard-normal input: is it really zero-centred?
- the least value and where it is reached (none for a bound that is only approached);
- f'(0) as autograd returns it (a kink's convention, not the textbook's);
- how flat each side is: the share of [-10, 0] and of [0, 10] where |f'| < 0.01, the
  probes' saturation threshold, telling an exactly-zero side (ReLU's) from a slope that
  only tends to 0;
- on each side, the float32 input beyond which the slope is exactly 0, where training can
  no longer move a unit at all;
- forward plus backward time per element against ReLU's, on the chosen device.

Everything but the timing is deterministic. The moments and the minimum describe the function
itself and are taken in float64 on the CPU (Apple's MPS has no float64); f'(0), the flat shares,
the exact-zero slopes and the timing are float32 on the chosen device, where training runs.
Single slopes are read off a whole batch filled with one value (`batch_slopes`): PyTorch
computes a 1-element tensor with other code than a batch, and the two can disagree.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from playground import activations

FLAT_SLOPE = 0.01  # |f'| below this is flat: the probes' saturation threshold
SIDE = 10.0  # the flat shares are measured on [-SIDE, 0] and [0, SIDE]
WINDOW = 10.0  # a minimum reached inside [-WINDOW, WINDOW] counts as reached
FAR = 1e6  # where the limit of f at -infinity is read, in float64
COST_ELEMENTS = 1_000_000
COST_REPEATS = 15
KINK_GRID = 1 / 1024  # candidate kinks: every multiple of this (0 and +-3 included, exactly)
_GRID = 200_001  # points on [-12, 12] for the normal integrals: the kinks land on grid points
BATCH = (512, 8)  # a batch of pre-activations: 4096 elements, whole SIMD blocks on every CPU


@dataclass(frozen=True)
class Properties:
    """One activation's measured properties (None where a quantity does not exist)."""

    activation: str
    label: str
    alpha: float | None
    min_value: float  # the infimum: -inf when unbounded below
    argmin: float | None  # where it is reached; None when only approached
    mean_out: float  # E f(Z), Z ~ N(0, 1)
    std_out: float
    d_at_0: float  # autograd's f'(0) in float32
    flat_share_neg: float  # share of [-10, 0] with |f'| < 0.01
    flat_share_pos: float
    flat_kind_neg: str  # "none", "exactly 0", "tends to 0" or "both" (see `_flat_kind`)
    flat_kind_pos: str
    zero_slope_below: float | None  # float32: f' is exactly 0 for every input at or below it
    zero_slope_above: float | None  # and at or above this one
    derivative_error: float  # max |analytic f' - autograd f'| on [-10, 10], float64
    cost_vs_relu: float | None  # forward+backward time per element over ReLU's; None if untimed

    def record(self) -> dict[str, Any]:
        """A JSON-ready dict: non-finite numbers become None."""
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in asdict(self).items()
        }


def _alpha(key: str, alpha: float | None) -> float:
    """The parameter to use: the one given, else the entry's default (0 for none)."""
    entry = activations.get(key)
    if alpha is not None:
        return alpha
    return entry.param.default if entry.param else 0.0


def _module(key: str, alpha: float | None, dtype: torch.dtype, device: str) -> torch.nn.Module:
    return activations.get(key).module(_alpha(key, alpha)).to(device=device, dtype=dtype)


def slopes(
    key: str, x: torch.Tensor, alpha: float | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """f(x) and autograd's f'(x), elementwise, in x's dtype and on x's device."""
    f = _module(key, alpha, x.dtype, str(x.device))
    xg = x.detach().clone().requires_grad_(True)
    y = f(xg)
    (grad,) = torch.autograd.grad(y.sum(), xg)
    return y.detach(), grad


def batch_slopes(
    key: str,
    value: float,
    alpha: float | None = None,
    device: str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Autograd's f' for a BATCH-shaped tensor filled with `value`: the slope as training
    computes it.

    PyTorch's CPU kernels run a scalar loop over a 1-element tensor and over the tail of a
    tensor that does not fill a last SIMD block, and vectorised code elsewhere; the two round
    differently far out. A 1-element GELU still has a slope at -14.3, a batch has exactly 0
    below -6.15; on an AVX CPU, Mish's slope ends at -102.87 vectorised, -103.97 scalar.
    Every element of BATCH falls in a whole block, so all of them get the vectorised code, as
    a training batch's elements do (but for that tail).
    """
    x = torch.full(BATCH, value, dtype=dtype, device=device)
    return slopes(key, x, alpha)[1]


def derivative_error(key: str, lo: float, hi: float, alpha: float | None = None) -> float:
    """Largest |analytic f' - autograd f'| over [lo, hi] in float64, on the grid `kinks`
    searches, so every kink is among the points."""
    x = _kink_grid(lo, hi)
    _, auto = slopes(key, x, alpha)
    analytic = activations.get(key).derivative(x, _alpha(key, alpha))
    return float((analytic - auto).abs().max())


def _normal_moments(key: str, alpha: float | None) -> tuple[float, float]:
    """Mean and std of f(Z), Z ~ N(0, 1), by the trapezoid rule on [-12, 12] in float64."""
    x = torch.linspace(-12.0, 12.0, _GRID, dtype=torch.float64)
    f = _module(key, alpha, torch.float64, "cpu")
    with torch.no_grad():
        y = f(x)
    w = torch.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
    dx = float(x[1] - x[0])
    total = float(torch.trapezoid(w, dx=dx))  # the rule's own mass: symmetric errors cancel
    mean = float(torch.trapezoid(y * w, dx=dx)) / total
    second = float(torch.trapezoid(y * y * w, dx=dx)) / total
    return mean, math.sqrt(max(second - mean * mean, 0.0))


def _minimum(key: str, alpha: float | None) -> tuple[float, float | None]:
    """The infimum of f and where it is reached (None if only approached, or unbounded).

    The limit at -infinity is read at -1e6 in float64; f still falling between -1e3 and -1e6
    means unbounded below. A least value inside [-10, 10] at or under that limit is reached
    there (the largest such x, for a flat minimum such as ReLU's); otherwise the bound is only
    approached (sigmoid's 0, tanh's -1, ELU's -alpha).
    """
    f = _module(key, alpha, torch.float64, "cpu")
    with torch.no_grad():
        far = f(torch.tensor([-1e3, -FAR], dtype=torch.float64)).tolist()
        if far[1] < far[0] - 1.0:
            return -math.inf, None
        limit = far[1]
        # k / 20000: 0 and every other kink here lie exactly on the grid
        x = torch.arange(-200_000, 200_001, dtype=torch.float64) * (WINDOW / 200_000)
        y = f(x)
        least = float(y.min())
        if least > limit:
            return limit, None
        at = x[y == y.min()]
        where = float(at.max())
        step = float(x[1] - x[0])
        fine = where + torch.arange(-10_000, 10_001, dtype=torch.float64) * (step / 10_000)
        fy = f(fine)
        if float(fy.min()) < least:  # a smooth minimum between two grid points
            least, where = float(fy.min()), float(fine[fy == fy.min()].max())
    return min(least, limit), where + 0.0  # + 0.0: no -0.0


def _flat_kind(flat: torch.Tensor, slope: torch.Tensor) -> str:
    """How a side is flat: "exactly 0" (every flat point has slope 0), "tends to 0" (none
    has), "both" (a zero stretch and a shallow one), or "none" (no flat points)."""
    if not bool(flat.any()):
        return "none"
    zero = slope[flat] == 0
    if bool(zero.all()):
        return "exactly 0"
    return "both" if bool(zero.any()) else "tends to 0"


def _flat(key: str, alpha: float | None, device: str) -> tuple[float, float, str, str]:
    """Share of [-10, 0) and (0, 10] where |f'| < 0.01 in float32, and the kind of each.

    0 itself belongs to neither side: ReLU'(0) = 0 is a convention at the kink, not a flat
    stretch of the positive side.
    """
    out: list[Any] = []
    x = torch.linspace(0.0, SIDE, 100_001, dtype=torch.float32, device=device)[1:]
    for side in (-x, x):
        _, g = slopes(key, side, alpha)
        flat = g.abs() < FLAT_SLOPE
        out.append((float(flat.double().mean()), _flat_kind(flat, g)))
    (neg, neg_kind), (pos, pos_kind) = out
    return neg, pos, neg_kind, pos_kind


_F32_MAX_BITS = 0x7F7FFFFF  # the largest finite float32, as its bit pattern


def _f32(bits: int, sign: float) -> float:
    value = float(np.array([bits], dtype=np.uint32).view(np.float32)[0])
    return sign * value


def _zero_slope_from(key: str, alpha: float | None, sign: float, device: str) -> float | None:
    """The float32 input nearest 0 on one side from which every input further out has slope
    exactly 0; None if the slope far out is not 0.

    Non-negative float32 values order like their bit patterns, so a bisection on the bits
    finds the exact boundary in about 32 steps (assuming, as for every activation here, that
    once the slope has become exactly 0 it stays 0 further out). Each candidate fills a whole
    batch (`batch_slopes`) and counts as zero only if every element's slope is.
    """

    def zero(bits: int) -> bool:
        return bool((batch_slopes(key, _f32(bits, sign), alpha, device) == 0).all())

    if not zero(_F32_MAX_BITS):
        return None
    if zero(0):
        return 0.0
    lo, hi = 0, _F32_MAX_BITS  # slope at lo is not 0, at hi it is
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if zero(mid) else (mid, hi)
    return _f32(hi, sign)


def _time_once(f: torch.nn.Module, x: torch.Tensor) -> float:
    xg = x.detach().requires_grad_(True)
    if x.is_cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    f(xg).sum().backward()
    if x.is_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def cost_vs_relu(key: str, alpha: float | None = None, device: str = "cpu") -> float:
    """Forward plus backward time over a million float32 elements, over ReLU's.

    The two are timed in alternation and the ratio of their fastest runs taken: a busy moment
    on a shared machine only ever adds time, so the fastest run is the function's own cost.
    """
    x = torch.randn(COST_ELEMENTS, generator=torch.Generator().manual_seed(0)).to(device)
    pair = tuple(_module(k, a, torch.float32, device) for k, a in ((key, alpha), ("relu", None)))
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(COST_REPEATS + 2):
        for f, seen in zip(pair, times, strict=True):
            t = _time_once(f, x)
            if i >= 2:  # two warm-up rounds: allocator, kernels, caches
                seen.append(t)
    return min(times[0]) / min(times[1])


def measure(
    key: str, alpha: float | None = None, device: str = "cpu", timed: bool = True
) -> Properties:
    """Every property of one hidden activation; `timed=False` leaves out the cost column,
    the one measurement that takes time and varies from run to run."""
    entry = activations.get(key)
    if not entry.hidden:
        raise ValueError(f"{entry.label} is an output-layer function: it has no such table row")
    mean, std = _normal_moments(key, alpha)
    least, where = _minimum(key, alpha)
    neg, pos, neg_kind, pos_kind = _flat(key, alpha, device)
    zero_dx = batch_slopes(key, 0.0, alpha, device)
    cost = cost_vs_relu(key, alpha, device) if timed else None
    return Properties(
        activation=key,
        label=entry.label,
        alpha=_alpha(key, alpha) if entry.param else None,
        min_value=least,
        argmin=where,
        mean_out=mean,
        std_out=std,
        d_at_0=float(zero_dx[0, 0]),
        flat_share_neg=neg,
        flat_share_pos=pos,
        flat_kind_neg=neg_kind,
        flat_kind_pos=pos_kind,
        zero_slope_below=_zero_slope_from(key, alpha, -1.0, device),
        zero_slope_above=_zero_slope_from(key, alpha, 1.0, device),
        derivative_error=derivative_error(key, -WINDOW, WINDOW, alpha),
        cost_vs_relu=cost,
    )


def table(
    keys: list[str] | None = None, device: str = "cpu", timed: bool = True
) -> list[Properties]:
    """`measure` for each hidden activation (all by default), at each one's default alpha."""
    return [measure(k, device=device, timed=timed) for k in keys or activations.HIDDEN_KEYS]


# ---- the Explorer's curves --------------------------------------------------------------------


def curve(key: str, lo: float, hi: float, alpha: float | None = None, n: int = 401) -> dict:
    """f, the registry's hand-written f' and autograd's f' on n points of [lo, hi] (float64),
    and the largest gap between the two derivatives there."""
    x = torch.linspace(lo, hi, n, dtype=torch.float64)
    y, auto = slopes(key, x, alpha)
    analytic = activations.get(key).derivative(x, _alpha(key, alpha))
    return {
        "x": x.numpy(),
        "f": y.numpy(),
        "slope": analytic.numpy(),
        "gap": float((analytic - auto).abs().max()),
    }


def _kink_grid(lo: float, hi: float) -> torch.Tensor:
    """Every multiple of KINK_GRID in [lo, hi], exactly, in float64."""
    k = torch.arange(math.ceil(lo / KINK_GRID), math.floor(hi / KINK_GRID) + 1)
    return k.to(torch.float64) * KINK_GRID


@dataclass(frozen=True)
class Kink:
    """A point where f' jumps: its one-sided limits, and what autograd returns there."""

    x: float
    left: float
    right: float
    autograd: float


def kinks(key: str, alpha: float | None = None, lo: float = -10.0, hi: float = 10.0) -> list[Kink]:
    """Where f is not differentiable in [lo, hi]: the hand-written f' just left and just right
    of each multiple of 1/1024 differ by more than 1e-6 (a smooth f' moves far less in 2e-12).

    Every kink of the functions here (0 for the ReLU family, +-3 for Hardswish) is such a
    multiple; ELU's at 0 exists only for alpha != 1.
    """
    x = _kink_grid(lo, hi)
    d = activations.get(key).derivative
    a = _alpha(key, alpha)
    left, right = d(x - 1e-12, a), d(x + 1e-12, a)
    found = ((left - right).abs() > 1e-6).nonzero().flatten().tolist()
    if not found:
        return []
    return [
        Kink(float(x[j]), float(left[j]), float(right[j]), _batch_slope64(key, float(x[j]), a))
        for j in found
    ]


def _batch_slope64(key: str, value: float, alpha: float) -> float:
    """Autograd's f' at one point, in float64 like the kink search, read off a whole batch."""
    return float(batch_slopes(key, value, alpha, dtype=torch.float64)[0, 0])


# ---- where the usual tables and the measurements part ways ------------------------------------
ZERO_MEAN = 0.05  # |E f(Z)| below this reads as zero-centred
FLAT_CLAIM = 0.3  # a side flat over this share of its 10 units is not "non-saturating"
# How the table's cost words read as forward+backward time over ReLU's: "very low" is ReLU's own
# class, "none" the identity, which computes nothing of its own.
COST_WORDS = {"none": 0.5, "very low": 1.0, "low": 1.5, "medium": 3.0, "high": 6.0}
COST_SLACK = 2.5  # a word is contradicted only by a ratio more than this factor from its figure


@dataclass(frozen=True)
class Check:
    """A claim of the usual comparison table set against the measurement, and which holds."""

    activation: str
    claim: str
    measured: str
    verdict: str


def checks(p: Properties) -> list[Check]:
    """The table's claims about `p`'s activation that its measurements contradict or qualify.

    Range, centring and saturation are the subject's claims, checked for its activations only
    (the registry describes the others itself). The cost word stands in the table's column for
    every activation, so it is checked for all of them, when `p` was timed.
    """
    entry = activations.get(p.activation)
    out = _subject_checks(p) if entry.in_subject else []
    extra = (dying_check(p), cost_check(p))
    return [*out, *(c for c in extra if c is not None)]


def dying_check(p: Properties) -> Check | None:
    """Where the table says units cannot die but float32 has a slope of exactly 0 far out: a
    unit pushed past it for every input gets no gradient at all, which the app counts dead."""
    if activations.get(p.activation).dying:
        return None
    sides = [
        f"{word} x = {x:.4g}"
        for word, x in (("below", p.zero_slope_below), ("above", p.zero_slope_above))
        if x is not None
    ]
    if not sides:
        return None
    return Check(
        p.activation,
        "units do not die",
        f"slope exactly 0 in float32 {' and '.join(sides)}",
        "Qualified: in float32, as training computes it, a unit pushed that far for every "
        "input gets no gradient at all, and the app counts it dead. Nearer in it only "
        "saturates.",
    )


def _subject_checks(p: Properties) -> list[Check]:
    """Where the subject's range, centring and saturation claims part from the measurements."""
    entry = activations.get(p.activation)
    out = []
    claimed = entry.table_range or entry.range_latex
    if claimed.startswith(r"(-\infty") and math.isfinite(p.min_value):
        where = f" at x = {p.argmin:.4f}" if p.argmin is not None else ""
        out.append(
            Check(
                p.activation,
                "range (-inf, inf): unbounded below",
                f"least value {p.min_value:.4f}{where}",
                "The measurement: it is bounded below, however negative the input.",
            )
        )
    centred = abs(p.mean_out) < ZERO_MEAN
    if entry.zero_centred != "no" and not centred:
        out.append(
            Check(
                p.activation,
                "zero-centred" if entry.zero_centred == "yes" else "roughly zero-centred",
                f"mean output {p.mean_out:.3f} for standard-normal input (ReLU: 0.399)",
                "Both, loosely: the negative side pulls the mean towards 0, but not to 0.",
            )
        )
    if entry.zero_centred == "no" and centred:
        out.append(
            Check(
                p.activation,
                "not zero-centred",
                f"mean output {p.mean_out:.3f} for standard-normal input",
                "The measurement: it is zero-centred.",
            )
        )
    for side, span, share, kind in (
        ("negative", f"[-{SIDE:g}, 0)", p.flat_share_neg, p.flat_kind_neg),
        ("positive", f"(0, {SIDE:g}]", p.flat_share_pos, p.flat_kind_pos),
    ):
        if entry.saturates == "no" and share >= FLAT_CLAIM:
            exact = kind == "exactly 0"
            out.append(
                Check(
                    p.activation,
                    "does not saturate",
                    f"|f'| < {FLAT_SLOPE:g} on {share:.0%} of {span}",
                    "The measurement, and worse: that side is exactly flat, so a unit kept "
                    "there gets no gradient at all (a dead unit), rather than a small one."
                    if exact
                    else f"The measurement: its {side} side saturates, the slope tending to 0.",
                )
            )
    return out


def cost_word(ratio: float) -> str:
    """The cost word whose figure is nearest `ratio` on a log scale (ratios compare by factors)."""
    return min(COST_WORDS, key=lambda w: abs(math.log(ratio / COST_WORDS[w])))


def cost_disagrees(word: str, ratio: float) -> bool:
    """Whether a measured time ratio clearly contradicts the table's cost word.

    Timing on a shared machine moves by tens of percent from run to run (sigmoid: 1.3x to 1.9x
    ReLU's), and the words are coarse, so only a ratio more than COST_SLACK times above or
    below the word's figure counts: one step along the scale never does. A word at or under
    ReLU's own figure is not undercut: a ratio below it is timing, not a cheaper kernel.
    """
    figure = COST_WORDS[word]
    return ratio > figure * COST_SLACK or (figure > 1.0 and ratio < figure / COST_SLACK)


def cost_check(p: Properties) -> Check | None:
    """The table's cost word set against the measured ratio; None when it holds or was not
    timed (a word the scale does not know is not judged)."""
    word, ratio = activations.get(p.activation).cost, p.cost_vs_relu
    if ratio is None or word not in COST_WORDS or not cost_disagrees(word, ratio):
        return None
    cheaper = ratio < COST_WORDS[word]
    why = (
        "it is cheaper than the table says. Such words reflect scalar code on older "
        "hardware, where exp and division were dear; PyTorch's vectorised kernel costs far "
        "less here."
        if cheaper
        else "it is dearer than the table says: PyTorch's kernels for it, forward and "
        "backward, do more work here than the word allows for."
    )
    return Check(
        p.activation,
        f"cost: {word}",
        f"forward plus backward {ratio:.1f}x ReLU's time, a {cost_word(ratio)} cost "
        f"('{word}' reads as about {COST_WORDS[word]:g}x)",
        f"The measurement: {why}",
    )
