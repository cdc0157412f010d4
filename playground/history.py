"""Bounded time series: memory stays flat however long a run goes, recent points stay dense.

Each row gets a sequence number. When a series fills up, older rows are kept only where their
sequence number is a multiple of a stride (doubled as the run grows), while rows among the newest
half of the capacity stay at full resolution. So the whole run is always covered evenly (its
shape) and the present in detail, at a fixed memory cost.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd

from playground.probes import LAYER_KEYS


class Series:
    """Named numeric columns with a fixed row capacity; a column may hold a vector per row."""

    def __init__(self, shapes: dict[str, tuple[int, ...]], capacity: int = 2000) -> None:
        if capacity < 8:
            raise ValueError("capacity must be at least 8")
        self.capacity = capacity
        self._cols = {k: np.empty((capacity, *s), dtype=np.float64) for k, s in shapes.items()}
        self._seq = np.empty(capacity, dtype=np.int64)
        self._next_seq = 0
        self._stride = 1
        self.n = 0
        self.version = 0  # bumped whenever rows go (thinning, truncation): see `after`

    def __len__(self) -> int:
        return self.n

    def append(self, **row: float | np.ndarray) -> None:
        if self.n == self.capacity:
            self._thin()
        for k, col in self._cols.items():
            col[self.n] = row[k]
        self._seq[self.n] = self._next_seq
        self._next_seq += 1
        self.n += 1

    def extend(self, **cols: np.ndarray) -> None:
        """Append many rows at once (all columns the same length)."""
        total = len(next(iter(cols.values())))
        start = 0
        while start < total:
            if self.n == self.capacity:
                self._thin()
            take = min(total - start, self.capacity - self.n)
            for k, col in self._cols.items():
                col[self.n : self.n + take] = cols[k][start : start + take]
            self._seq[self.n : self.n + take] = np.arange(self._next_seq, self._next_seq + take)
            self._next_seq += take
            self.n += take
            start += take

    def _thin(self) -> None:
        """Drop old rows off the stride, doubling it until at most 3/4 of the capacity is used.

        Rows among the newest half of the capacity are always kept, so the recent past stays at
        full resolution; older rows are every `stride`-th row of the run, evenly spread.
        """
        seq = self._seq[: self.n]
        recent = seq >= self._next_seq - self.capacity // 2
        keep = recent | (seq % self._stride == 0)
        while keep.sum() > 3 * self.capacity // 4:
            self._stride *= 2
            keep = recent | (seq % self._stride == 0)
        idx = np.flatnonzero(keep)
        for col in self._cols.values():
            col[: len(idx)] = col[idx]
        self._seq[: len(idx)] = seq[idx]
        self.n = len(idx)
        self.version += 1

    def truncate(self, last_step: float) -> None:
        """Drop rows whose `step` is beyond `last_step` (after a rollback)."""
        n = int(np.searchsorted(self._cols["step"][: self.n], last_step, side="right"))
        if n < self.n:
            self.n = n
            self.version += 1

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest row (-1 while empty)."""
        return int(self._seq[self.n - 1]) if self.n else -1

    def after(self, version: int, seq: int) -> int:
        """The first row a reader holding every row up to `seq` at `version` lacks; 0 when it
        must start over (rows it holds have gone since: its copy would show them)."""
        if version != self.version:
            return 0
        return int(np.searchsorted(self._seq[: self.n], seq, side="right"))

    def column(self, key: str) -> np.ndarray:
        return self._cols[key][: self.n]

    def frame(self, scalar_only: bool = False, start: int = 0) -> pd.DataFrame:
        """Scalar columns as they are; vector columns spread as `key_1 .. key_L`; rows from
        `start` on."""
        data: dict[str, np.ndarray] = {}
        for k, col in self._cols.items():
            if col.ndim == 1:
                data[k] = col[start : self.n].copy()
            elif not scalar_only:
                for j in range(col.shape[1]):
                    data[f"{k}_{j + 1}"] = col[start : self.n, j].copy()
        return pd.DataFrame(data)

    def layer_frame(self, keys: list[str], start: int = 0) -> pd.DataFrame:
        """Vector columns in long form: one row per (step, layer), for per-layer charts."""
        steps = self._cols["step"][start : self.n]
        n_layers = self._cols[keys[0]].shape[1]
        out = {
            "step": np.repeat(steps, n_layers),
            "layer": np.tile(np.arange(1, n_layers + 1), len(steps)),
        }
        for k in keys:
            out[k] = self._cols[k][start : self.n].reshape(-1)
        return pd.DataFrame(out)


PROBE_KEYS = (
    "step",
    "epoch",
    "time",
    "lr",
    "train_loss",
    "test_loss",
    "train_metric",
    "test_metric",
)


_history_ids = itertools.count()


class History:
    """A run's record: the batch loss at (nearly) every step, and every probe's measurements."""

    def __init__(self, n_layers: int, capacity: int = 2000) -> None:
        self.id = next(_history_ids)  # tells a reader's copy of an older history apart
        self.steps = Series({"step": (), "loss": ()}, capacity=4 * capacity)
        shapes: dict[str, tuple[int, ...]] = {k: () for k in PROBE_KEYS}
        shapes.update({k: (n_layers,) for k in LAYER_KEYS})
        self.probes = Series(shapes, capacity=capacity)

    def truncate(self, last_step: int) -> None:
        self.steps.truncate(last_step)
        self.probes.truncate(last_step)

    def to_csv(self) -> str:
        """Every probe, one row each, with per-layer columns; what the download button offers.

        Cells that hold NaN are left empty: test_* on the probes that skipped the test set (see
        `playground.train.Run._test_due`), and layer measurements that do not apply. Left so,
        not filled in from the last measurement, so every number is one measured at its step.
        """
        buf = io.StringIO()
        self.probes.frame().to_csv(buf, index=False)
        return buf.getvalue()


def thin_index(n: int, max_rows: int) -> np.ndarray:
    """Every k-th index from 0 plus the last one, at most `max_rows` in all.

    The stride is anchored at the first row, so as a series grows the same rows stay picked
    (until the stride changes) and a redrawn line does not shimmer.
    """
    if max_rows < 2:
        raise ValueError("max_rows must be at least 2")
    if n <= max_rows:
        return np.arange(n)
    stride = -(-(n - 1) // (max_rows - 1))  # ceil
    idx = np.arange(0, n, stride)
    if idx[-1] != n - 1:
        idx = np.append(idx, n - 1)
    return idx
