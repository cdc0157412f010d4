"""What one run may cost a shared host: limits a server sets, and the runs they refuse.

The sliders allow 32 layers of 512 units, and a batch of 5,000 points. On a small host such a
network freezes the page instead of training: a forward pass at every one of the decision
map's 1,600 cells takes 13 G multiply-adds (about 0.4 s here, under the trainer's lock, at
every redraw), and one step at batch 5,000 several seconds. So a server refuses, with the cost
named, what is over its limits, and keeps the current run. The limits are settings (read from
the environment, or a `[limits]` table in `.streamlit/secrets.toml`), with defaults for a small
shared host; the command line has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from playground.comparison_config import CompareConfig
from playground.config import RunConfig

MAP_CELLS = 40 * 40  # the decision map's forward pass per redraw (runner's default resolution)
BACKWARD = 3  # a training step costs about 3 forward passes: forward, and twice that back
ENV = {  # setting -> environment variable
    "max_network_madds": "PLAYGROUND_MAX_NETWORK_MADDS",
    "max_step_madds": "PLAYGROUND_MAX_STEP_MADDS",
    "max_compare_models": "PLAYGROUND_MAX_COMPARE_MODELS",
}


@dataclass(frozen=True)
class HostLimits:
    """A server's limits on one run, in multiply-adds (the work of a dense layer)."""

    # per input point through the network: 1 M lets through 16 x 256 or 4 x 512, and keeps
    # the map's pass per redraw under about 50 ms on a small host
    max_network_madds: int = 1_000_000
    # per training step (the batch through the network, forward and back)
    max_step_madds: int = 300_000_000
    # models in one comparison (variants x seeds): 8 activations x 4 seeds
    max_compare_models: int = 32

    @classmethod
    def from_settings(cls, env: Mapping[str, str], secrets: Mapping[str, Any]) -> HostLimits:
        """Environment variables first, then `secrets` (the `[limits]` table), then defaults.

        Raises ValueError naming the setting when a value is not a whole number >= 1.
        """
        values: dict[str, int] = {}
        for f in fields(cls):
            raw = env.get(ENV[f.name], secrets.get(f.name))
            if raw is None:
                continue
            try:
                value = int(str(raw).replace("_", ""))
            except ValueError:
                value = 0
            if value < 1:
                raise ValueError(
                    f"{ENV[f.name]} (or limits.{f.name}) = {raw!r}: not a whole number >= 1"
                )
            values[f.name] = value
        return cls(**values)


def network_madds(cfg: RunConfig) -> int:
    """Multiply-adds to take one input point through the network (its dense layers)."""
    n_in, n_classes = cfg.io_sizes()
    n_out = n_classes if n_classes > 2 else 1
    return n_in * cfg.width + (cfg.depth - 1) * cfg.width**2 + cfg.width * n_out


def over(cfg: RunConfig | CompareConfig, limits: HostLimits) -> list[tuple[str, str]]:
    """Why this host will not train `cfg`, as (setting key, message): empty when it will.

    A comparison counts its models: V variants x S seeds against `max_compare_models`, and
    its step is every model's step."""
    if isinstance(cfg, CompareConfig):
        return _over_comparison(cfg, limits)
    return _over_run(cfg, limits, models=1)


def _over_comparison(cfg: CompareConfig, limits: HostLimits) -> list[tuple[str, str]]:
    n = cfg.n_models
    if n > limits.max_compare_models:
        return [
            (
                "seeds",
                f"{len(cfg.values)} variants x {cfg.seeds} seeds is {n} models, over this "
                f"server's limit of {limits.max_compare_models} models in one comparison. Use "
                "fewer values or seeds",
            )
        ]
    found = [p for v in cfg.values for p in _over_run(cfg.variant(v), limits, models=n)]
    return list(dict.fromkeys(found))  # variants of one shape cost the same: said once


def _over_run(cfg: RunConfig, limits: HostLimits, models: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    per_point = network_madds(cfg)
    shape = f"{cfg.depth} x {cfg.width}"
    if per_point > limits.max_network_madds:
        out.append(
            (
                "width",
                f"a {shape} network takes {_short(per_point)} multiply-adds per input point, "
                f"over this server's limit of {_short(limits.max_network_madds)}: its decision "
                f"map alone would cost {_short(per_point * MAP_CELLS)} at every redraw. Use "
                "fewer or narrower layers",
            )
        )
    per_step = BACKWARD * per_point * cfg.batch_size * models
    if per_step > limits.max_step_madds:
        networks = f"{models} {shape} networks" if models > 1 else f"a {shape} network"
        out.append(
            (
                "batch_size",
                f"a step at batch {cfg.batch_size} through {networks} takes about "
                f"{_short(per_step)} multiply-adds, over this server's limit of "
                f"{_short(limits.max_step_madds)} a step. Use a smaller batch or network",
            )
        )
    return out


def _short(n: float) -> str:
    for size, unit in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:.0f}"
