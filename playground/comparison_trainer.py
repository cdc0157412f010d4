"""A comparison behind the trainer contract (`runner.Worker`: Play, Pause, Step, Reset, the
host's cap, the heartbeat), for the Compare and Labs pages. Its snapshots carry the curves
already reduced to bands over seeds (median, min, max) and the results table, so what crosses a
process boundary stays small whatever the number of models.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pandas as pd

from playground.comparison import STOPPED_NOTE, Comparison, Stopped
from playground.comparison_config import CompareConfig
from playground.runner import LOCAL_SLOTS, Cursor, SlotKeeper, Worker


@dataclass(frozen=True)
class CompareInfo:
    """What a comparison's page shows that stays fixed while it trains."""

    task: str
    vary: str
    labels: list[str]
    seeds: int
    n_models: int
    n_groups: int
    device: str
    device_note: str | None
    warnings: list[str]

    @property
    def metric_label(self) -> str:
        return "R²" if self.task == "regression" else "accuracy"

    @classmethod
    def of(cls, run: Comparison) -> CompareInfo:
        return cls(
            task=run.data.task,
            vary=run.cfg.vary,
            labels=run.cfg.labels(),
            seeds=run.cfg.seeds,
            n_models=run.n_models,
            n_groups=len(run.groups),
            device=run.device.type,
            device_note=run.device_note,
            warnings=run.pairing_warnings(),
        )


@dataclass
class CompareSnapshot:
    """Everything the Compare page shows, as plain data."""

    info: CompareInfo
    cfg: CompareConfig
    playing: bool
    step: int
    epoch: float
    steps_per_s: float
    bands: pd.DataFrame  # metric, variant, step, median, lo, hi
    profile: pd.DataFrame  # metric, variant, layer, median, lo, hi: by layer, now
    table: pd.DataFrame  # one row per variant
    frozen: dict[str, list[str]]  # variant -> why each of its diverged seeds froze
    divergence: Stopped | None
    message: str | None
    queue_place: int | None = None


class CompareTrainer(Worker[CompareConfig, Comparison, CompareInfo, CompareSnapshot]):
    """A comparison behind the trainer contract: it counts all its models against the cap."""

    diverged_note = STOPPED_NOTE

    def __init__(self, cfg: CompareConfig, slots: SlotKeeper = LOCAL_SLOTS) -> None:
        self._memo: tuple[Any, Any] = (None, None)  # (what it was made from, what was made)
        super().__init__(cfg, slots=slots)

    def _build(self, cfg: CompareConfig) -> Comparison:
        return Comparison(cfg)

    def _info_of(self, run: Comparison) -> CompareInfo:
        return CompareInfo.of(run)

    @property
    def models(self) -> int:
        return self.info.n_models

    def apply(self, cfg: CompareConfig) -> str | None:
        """Match `cfg`: "rebuilt" (paused at step 0), "display" (the target loss), or None."""
        current = self.run.cfg
        if cfg.needs_rebuild(current):
            self._rebuild(cfg)
            return "rebuilt"
        if cfg != current:
            with self._lock:
                self.run.cfg = cfg
            return "display"
        return None

    def changes(
        self, visuals: bool | Collection[str] = True, since: Cursor | None = None
    ) -> tuple[CompareSnapshot, None, bool]:
        """A whole snapshot every time: bands and table are already small."""
        self.heartbeat()
        with self._lock:
            run = self.run
            bands, profile, table, frozen = self._reduced(run)
            message, self._message = self._message, None
            snap = CompareSnapshot(
                info=self.info,
                cfg=run.cfg,
                playing=self._playing,
                step=run.step_count,
                epoch=run.epoch,
                steps_per_s=self._speed(),
                bands=bands,
                profile=profile,
                table=table,
                frozen=frozen,
                divergence=run.diverged,
                message=message,
                queue_place=self.slots.place(self._key) if self._queued else None,
            )
        return snap, None, False

    def _reduced(self, run: Comparison) -> tuple[Any, ...]:
        """Bands, profile, table and frozen seeds, made once per probe rather than at every
        poll: two fragments poll a comparison several times between its probes. Caller
        holds the lock."""
        key = (id(run), len(run.steps), run.steps[-1], run.cfg.target, len(run.reasons()))
        if self._memo[0] != key:
            curves = run.curves()
            frozen: dict[str, list[str]] = {}
            labels, s = run.cfg.labels(), run.cfg.seeds
            for i, why in sorted(run.reasons().items()):
                frozen.setdefault(labels[i // s], []).append(f"seed {i % s}: {why}")
            made = (run.bands(curves), run.profile(), run.table(curves), frozen)
            self._memo = (key, made)
        return self._memo[1]

    def export(self) -> tuple[str, str, str]:
        """Results table CSV, every model's curves CSV, and the config as JSON."""
        with self._lock:
            curves = self.run.curves()
            table = self.run.table(curves)
            return (
                table.to_csv(index=False),
                curves.to_csv(index=False),
                json.dumps(self.run.cfg.as_dict(), indent=2),
            )
