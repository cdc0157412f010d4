"""Claims: what a lab, a preset or a piece of advice says training does, as data a run checks.

A sentence such as "at learning rate 0.1 almost no unit dies" is a claim about numbers the app
measures. Written beside the sentence as a `Claim` (which variant, which measurement, which
layer, compared with what, over which seeds), it is checked by running the experiment headless
(`python -m playground lab NAME --check`), so the words cannot drift from what the runs show.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from playground.comparison import Comparison
from playground.comparison_config import CompareConfig, Variant
from playground.config import SETTING, from_query

# measured per model at the latest probe ("test_loss_rise": the test loss now over its lowest;
# the shares: of all hidden units)
PER_MODEL = ("train_loss", "test_loss", "train_metric", "test_metric", "dead_share",
             "resting_share", "saturated_share", "test_loss_rise")  # fmt: skip
# measured per model and hidden layer ("revivals": a unit dead at one probe, alive at the next)
PER_LAYER = (
    "dead_fraction",
    "resting_fraction",
    "saturated_fraction",
    "grad_norm",
    "revivals",
    "spread",
    "input_spread",
)
MEASURES = (*PER_MODEL, *PER_LAYER, "diverged")  # diverged: how many seeds, per variant
OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
OVER = ("every", "median")
AT = ("end", "start")

Measured = dict[str, dict[str, np.ndarray]]  # variant -> measure -> [seeds] or [seeds, layers]


class ClaimError(ValueError):
    """A claim that cannot be checked as written."""


@dataclass(frozen=True)
class Claim:
    """One checkable statement: `variant`'s `measure` `op` a value, or `factor` times another
    variant's. Per-layer measures read one hidden `layer` (1 = first), else every layer must
    hold it (the worst layer decides; revivals are summed over layers instead), divided by
    layer `per_layer`'s where given (a ratio between layers). `over` "every": every seed that
    did not diverge must hold it (the worst seed decides; against another variant, its best
    seed); "median": the medians over seeds. `at` "start": after the first training step (the
    first gradients), else at the end."""

    says: str
    variant: str
    measure: str
    op: str
    value: float | None = None
    than: str | None = None
    factor: float = 1.0
    layer: int | None = None
    per_layer: int | None = None
    over: str = "every"
    at: str = "end"  # "start": at step 0, before any training

    def problems(self, variants: tuple[str, ...], depth: int) -> list[str]:
        """What makes the claim uncheckable, in words."""
        found = []
        if self.measure not in MEASURES:
            found.append(f"measure must be one of {', '.join(MEASURES)}")
        if self.op not in OPS:
            found.append(f"op must be one of {', '.join(OPS)}")
        if (self.value is None) == (self.than is None):
            found.append("give either value or than (another variant)")
        for key in (self.variant, self.than):
            if key is not None and key not in variants:
                found.append(f"no variant {key!r}")
        for layer in (self.layer, self.per_layer):
            if layer is not None and not 1 <= layer <= depth:
                found.append(f"layer {layer} is not a hidden layer (1 to {depth})")
        if self.over not in OVER or self.at not in AT:
            found.append(f"over must be one of {OVER} and at one of {AT}")
        return found


def parse(raw: Any, variants: tuple[str, ...], depth: int) -> tuple[Claim, ...]:
    """Claims from a list of tables (a TOML file's [[claims]]), refused with the reason."""
    names = {f.name for f in fields(Claim)}
    claims = []
    for i, row in enumerate(raw or []):
        if not isinstance(row, Mapping) or not set(row) <= names:
            unknown = sorted(set(row) - names) if isinstance(row, Mapping) else row
            raise ClaimError(f"claim {i + 1}: unknown fields {unknown}")
        try:
            claim = Claim(**row)
        except TypeError as e:
            raise ClaimError(f"claim {i + 1}: {e}") from None
        problems = claim.problems(variants, depth)
        if problems:
            raise ClaimError(f"claim {i + 1} ({claim.says!r}): {problems[0]}")
        claims.append(claim)
    return tuple(claims)


@dataclass(frozen=True)
class Verdict:
    """A claim checked: what was measured, what it had to beat, and by how much it did."""

    claim: Claim
    steps: int
    measured: float
    threshold: float

    @property
    def passed(self) -> bool:
        return math.isfinite(self.measured) and OPS[self.claim.op](self.measured, self.threshold)

    @property
    def margin(self) -> float:
        """Headroom as a share of the threshold (of 1 when the threshold is 0): > 0 holds."""
        gap = self.threshold - self.measured
        if self.claim.op in (">", ">="):
            gap = -gap
        return gap / (abs(self.threshold) or 1.0) + 0.0  # + 0.0: no "-0%" when exactly met

    def line(self) -> str:
        c = self.claim
        mark = "PASS" if self.passed else "FAIL"
        other = f"{c.factor:g} x {c.than}" if c.than else "value"
        where = f" layer {c.layer}" if c.layer else ""
        ratio = f" / layer {c.per_layer}" if c.per_layer else ""
        return (
            f"{mark}  {c.says}\n      {c.variant} {c.measure}{where}{ratio} ({c.over} seed, "
            f"{c.at} of {self.steps} steps) = {_num(self.measured)} {c.op} {_num(self.threshold)}"
            f" ({other}); margin {self.margin:+.0%}"
        )


def _num(x: float) -> str:
    return f"{x:.3g}" if math.isfinite(x) else str(x)


def measured(comparison: Comparison, keys: list[str]) -> Measured:
    """Every measurement of a comparison's models now, by variant key; a diverged seed's
    values are NaN (a broken network's units are not alive or dead), counted in `diverged`."""
    s = comparison.cfg.seeds
    frozen = comparison.reasons()
    out: Measured = {}
    for v, key in enumerate(keys):
        rows = range(v * s, (v + 1) * s)
        live = np.array([i not in frozen for i in rows])
        found = {m: comparison.history[m][-1][list(rows)] for m in PER_MODEL[:5]}
        found["test_loss_rise"] = _rise(np.array(comparison.history["test_loss"])[:, list(rows)])
        found |= {m: comparison.layers_now[m][list(rows)] for m in PER_LAYER[:4]}
        for state in ("resting", "saturated"):  # every layer is as wide: the mean is the share
            found[f"{state}_share"] = found[f"{state}_fraction"].mean(1)
        found["revivals"] = comparison.revivals[list(rows)].astype(np.float64)
        out[key] = {m: _live_only(v, live) for m, v in found.items()}
        out[key]["diverged"] = np.array([float((~live).sum())])
    return out


def _live_only(values: np.ndarray, live: np.ndarray) -> np.ndarray:
    """A copy with the diverged seeds' rows NaN."""
    values = values.astype(np.float64)  # a copy
    values[~live] = np.nan
    return values


def _rise(losses: np.ndarray) -> np.ndarray:
    """Per model, the last probe's loss over the lowest it reached ([probes, models] in)."""
    with np.errstate(all="ignore"):
        return losses[-1] / np.nanmin(losses, 0)


def _reduce(claim: Claim, values: np.ndarray, high: bool) -> np.ndarray:
    """Per seed, the claim's number: one layer or the worst layer (high: the largest), each
    over layer `per_layer` where given; revivals summed over layers."""
    if values.ndim == 1:
        return values
    with np.errstate(all="ignore"):
        if claim.per_layer is not None:
            values = values / values[:, claim.per_layer - 1 : claim.per_layer]
        if claim.layer is not None:
            return values[:, claim.layer - 1]
        if claim.measure == "revivals":
            return values.sum(1)
        worst = np.max(values, 1) if high else np.min(values, 1)  # a NaN layer fails the claim
    return worst


def _side(values: np.ndarray, over: str, high: bool) -> float:
    """The median, or the worst (high=True: largest) seed; NaN when no seed is left."""
    live = values[np.isfinite(values)]
    if not live.size:
        return math.nan
    if over == "median":
        return float(np.median(live))
    return float(live.max() if high else live.min())


def verdict(claim: Claim, found: Measured, steps: int) -> Verdict:
    """Check one claim against a run's measurements."""
    below = claim.op in ("<", "<=")  # then the largest seed decides, and the other's smallest
    mine = _side(_reduce(claim, found[claim.variant][claim.measure], below), claim.over, below)
    if claim.than is None:
        assert claim.value is not None
        return Verdict(claim, steps, mine, float(claim.value))
    theirs = _reduce(claim, found[claim.than][claim.measure], not below)
    other = _side(theirs, claim.over, not below)
    return Verdict(claim, steps, mine, claim.factor * other)


def check(
    claims: tuple[Claim, ...], at_end: Measured, at_start: Measured | None, steps: int
) -> list[Verdict]:
    """Every claim checked, those `at` "start" against the measurements after step 1."""
    return [
        verdict(c, at_start if c.at == "start" and at_start else at_end, 1 if c.at == "start"
                else steps)
        for c in claims
    ]  # fmt: skip


def verify(
    cfg: CompareConfig, keys: list[str], claims: tuple[Claim, ...], steps: int
) -> list[Verdict]:
    """Train the comparison `steps` steps and check every claim (a copy trained one step for
    those `at` "start")."""
    start = None
    if any(c.at == "start" for c in claims):
        first = Comparison(cfg)
        first.step(1, probe_at_end=True)
        start = measured(first, keys)
    comparison = Comparison(cfg)
    comparison.step(steps, probe_at_end=True)
    return check(claims, measured(comparison, keys), start, comparison.step_count)


@dataclass(frozen=True)
class Experiment:
    """What a preset or a piece of advice says, as a race to check it on: its settings (link
    text), variants over them (key -> changed settings, link text), seeds, steps and claims."""

    settings: Mapping[str, str]
    variants: Mapping[str, Mapping[str, str]]
    seeds: int
    steps: int
    claims: tuple[Claim, ...]

    def config(self, seeds: int | None = None) -> CompareConfig:
        base, notices = from_query(self.settings)
        if notices:
            raise ClaimError(notices[0])
        custom = tuple(
            Variant(k, k, tuple((s, SETTING[s].parse(t)) for s, t in changes.items()))
            for k, changes in self.variants.items()
        )
        return CompareConfig(
            base=base, values=tuple(self.variants), seeds=seeds or self.seeds, custom=custom
        )

    def check(self, seeds: int | None = None, steps: int | None = None) -> list[Verdict]:
        cfg = self.config(seeds)
        for claim in self.claims:
            problems = claim.problems(tuple(self.variants), cfg.base.depth)
            if problems:
                raise ClaimError(f"{claim.says!r}: {problems[0]}")
        return verify(cfg, list(self.variants), self.claims, steps or self.steps)
