"""What a comparison races: one setting over 2 to 16 values (activation, initialisation,
learning rate, optimiser, batch norm, or the output/loss pairing) or a lab's own variants, each
over 1 to 16 weight seeds, on the Playground's dataset and network.

`CompareConfig` is read from a link as the Playground's settings are (`compare_from_query`:
anything unusable falls back to its default with a notice, so a link always opens).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from playground import activations
from playground.config import (
    SCHEMA_VERSION,
    SETTING,
    ConfigError,
    RunConfig,
    first_value,
    plain_dict,
)
from playground.model import PAIRINGS

VARIES = {  # what a comparison may vary -> its words on the page
    "activation": "Activation",
    "init": "Initialisation",
    "lr": "Learning rate",
    "optimizer": "Optimiser",
    "batch_norm": "Batch norm",
    "pairing": "Output and loss",
}
DEFAULT_VALUES = {
    "activation": ("relu", "tanh", "gelu"),
    "init": ("he", "xavier", "small"),
    "lr": ("0.003", "0.03", "0.3"),
    "optimizer": ("sgd", "momentum", "adam"),
    "batch_norm": ("0", "1"),
}
COMPARE_KEYS = ("vary", "values", "seeds", "target")  # a comparison's own link parameters
MIN_VARIANTS, MAX_VARIANTS, MAX_SEEDS = 2, 16, 16


def pairing_values(task: str) -> tuple[str, ...]:
    """The output/loss pairings of a task, the recommended one first."""
    return tuple(k for k, p in PAIRINGS.items() if p.task == task)


def value_text(vary: str, value: Any) -> str:
    """A value as link text (the form `parse_values` reads back)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(float(value)) if isinstance(value, float) else str(value)


def value_label(vary: str, value: Any) -> str:
    """A variant's name on the page: the activation's label, "lr 0.03", "batch norm on"."""
    if vary == "lr":
        return f"lr {value:g}"
    if vary == "batch_norm":
        return "batch norm on" if value else "batch norm off"
    if vary == "activation":
        return activations.get(value).label
    if vary == "pairing":
        return PAIRINGS[value].label
    return str(value)


@dataclass(frozen=True)
class Variant:
    """A lab's variant: settings over the shared ones, under a key and a label of its own
    (a lab's variants may differ in several settings at once: a cure for dying ReLU is a
    lower learning rate, or another activation, or batch norm)."""

    key: str
    label: str
    settings: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class CompareConfig:
    """Everything that defines a comparison: the Playground's config, and what varies.

    Either one setting varies over `values` (the Compare page), or `custom` lists variants
    with settings of their own (a lab, named by `lab`; `values` are then their keys)."""

    base: RunConfig = field(default_factory=RunConfig)
    vary: str = "activation"
    values: tuple[Any, ...] = DEFAULT_VALUES["activation"]
    seeds: int = 4
    target: float = 0.1  # display only: the loss the table counts steps to
    custom: tuple[Variant, ...] = ()
    lab: str = ""

    @property
    def n_models(self) -> int:
        return len(self.values) * self.seeds

    @property
    def task(self) -> str:
        return self.base.task

    @property
    def device(self) -> str:
        return self.base.device

    def variant(self, value: Any) -> RunConfig:
        """The Playground config of one variant (one activation per network: no per-layer
        list; an activation's own parameter at its default unless the variant sets it)."""
        if self.custom:
            changes = dict(next(v.settings for v in self.custom if v.key == value))
        else:
            changes = {self.vary: value}
        if "activation" in changes and "alpha" not in changes:
            changes["alpha"] = None
        return self.base.replace(layer_activations="", **changes)

    def labels(self) -> list[str]:
        if self.custom:
            return [v.label for v in self.custom]
        return [value_label(self.vary, v) for v in self.values]

    def problems(self) -> list[tuple[str, str]]:
        """Every reason this comparison cannot run, as (key, message); empty when it can."""
        if not self.custom and self.vary not in VARIES:
            return [("vary", f"vary must be one of {', '.join(VARIES)} (got {self.vary!r})")]
        out: list[tuple[str, str]] = []
        n = len(self.values)
        if not MIN_VARIANTS <= n <= MAX_VARIANTS:
            out.append(
                ("values", f"a comparison needs {MIN_VARIANTS} to {MAX_VARIANTS} values (got {n})")
            )
        if len(set(self.values)) != n:
            out.append(("values", "each value may appear once"))
        if not 1 <= self.seeds <= MAX_SEEDS:
            out.append(("seeds", f"seeds must be between 1 and {MAX_SEEDS} (got {self.seeds})"))
        if not (math.isfinite(self.target) and self.target > 0):
            out.append(("target", f"target loss must be a number above 0 (got {self.target})"))
        if out:
            return out
        seen: set[str] = set()
        for value in self.values:
            for key, message in self.variant(value).problems():
                if message not in seen:  # one shared problem (the data) said once
                    seen.add(message)
                    out.append((key, message))
        for key in ("depth", "width"):  # their by-layer and by-unit measurements line up
            sizes = {getattr(self.variant(v), key) for v in self.values}
            if len(sizes) > 1:
                out.append((key, f"the variants must share one {key} (got {sorted(sizes)})"))
        return out

    def validate(self) -> CompareConfig:
        problems = self.problems()
        if problems:
            raise ConfigError("; ".join(m for _, m in problems))
        return self

    def replace(self, **changes: Any) -> CompareConfig:
        return replace(self, **changes)

    def needs_rebuild(self, other: CompareConfig) -> bool:
        """Anything but the target loss and the base's display settings changes the run."""
        same_run = replace(self, target=other.target, base=self.base.replace(
            **{s: getattr(other.base, s) for s in ("log_loss", "dead_threshold")}
        ))  # fmt: skip
        return same_run != other

    def query(self) -> dict[str, str]:
        """The comparison's own link parameters (the base's are `config.to_query`'s)."""
        if self.lab:
            return {"lab": self.lab, "seeds": str(self.seeds), "target": repr(self.target)}
        return {
            "vary": self.vary,
            "values": ",".join(value_text(self.vary, v) for v in self.values),
            "seeds": str(self.seeds),
            "target": repr(float(self.target)),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "base": plain_dict(self.base),
            **({"lab": self.lab} if self.lab else {"vary": self.vary}),
            "values": list(self.values),
            "seeds": self.seeds,
            "target": self.target,
        }


def parse_values(vary: str, text: str) -> tuple[Any, ...]:
    """Comma-separated values for `vary`, each read as its setting reads a link's text."""
    setting = SETTING[vary]
    return tuple(setting.parse(part) for part in text.split(",") if part.strip())


def compare_from_query(params: Mapping[str, Any], base: RunConfig) -> tuple[CompareConfig, list]:
    """A comparison from link parameters over `base`; anything unusable falls back to its
    default with a notice, so a link always opens."""
    notices: list[str] = []
    vary = _text(params, "vary") or "activation"
    if vary not in VARIES:
        notices.append(f"vary must be one of {', '.join(VARIES)} (got {vary!r}); using activation.")
        vary = "activation"
    cfg = CompareConfig(base=base, vary=vary, values=default_values(vary, base.task))
    text = _text(params, "values")
    if text:
        try:
            cfg = cfg.replace(values=_fitting_values(vary, parse_values(vary, text), base, notices))
        except ConfigError as e:
            notices.append(f"values: {e}; using the default values.")
    for key, kind in (("seeds", int), ("target", float)):
        raw = _text(params, key)
        if raw:
            try:
                cfg = cfg.replace(**{key: kind(raw)})
            except ValueError:
                notices.append(f"{key} must be a number (got {raw!r}); using the default.")
    default = CompareConfig(base=base, vary=vary, values=default_values(vary, base.task))
    for _ in range(3):  # a fix can uncover the next check's problem (they stop at the first kind)
        fixable = [(k, m) for k, m in cfg.problems() if k in (*COMPARE_KEYS, vary)]
        for key, message in fixable:
            notices.append(f"{message}; using the default {key}.")
            field_name = "values" if key == vary else key
            cfg = cfg.replace(**{field_name: getattr(default, field_name)})
        if not fixable:
            break
    return cfg, notices


def _fitting_values(
    vary: str, values: tuple[Any, ...], base: RunConfig, notices: list[str]
) -> tuple[Any, ...]:
    """A pairing comparison races the output/loss pairings of the data's task: 'auto' (the
    recommended one, already among them) and another task's are left out with a notice."""
    if vary != "pairing":
        return values
    fits = pairing_values(base.task)
    left_out = [v for v in values if v not in fits]
    if left_out:
        notices.append(
            f"values: {', '.join(map(str, left_out))} left out: a {base.task} comparison "
            f"races the output/loss pairings {', '.join(fits)}."
        )
    return tuple(v for v in values if v in fits)


def default_values(vary: str, task: str) -> tuple[Any, ...]:
    if vary == "pairing":
        return pairing_values(task)
    return parse_values(vary, ",".join(DEFAULT_VALUES[vary]))


def _text(params: Mapping[str, Any], key: str) -> str:
    return first_value(params.get(key, "")).strip()
