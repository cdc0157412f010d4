"""A person's own table as a dataset: a CSV read as data only, checked, and encoded for a network.

Everything a file can get wrong is refused here with a message that names the problem (the
page shows it and the current run goes on untouched): not text, empty, too few rows, too
large, too wide, a cell of absurd length, missing or infinite values, a target with one class
or hundreds, a non-numeric regression target. The bytes are parsed by pandas' CSV reader and
nothing else: no cell is ever evaluated, and no name from the file reaches a file path.

Encoding: numeric feature columns pass as they are (the dataset standardises them on its
training split, as it does every table); text columns are one-hot encoded up to MAX_CATEGORIES
values each, and a column with more is left out with a note (an ID or free text teaches a
small network nothing). The target is a class for classification, a number for regression;
`auto` picks classification for text and for whole numbers with few distinct values.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_BYTES = 10 * 1024 * 1024  # as server.maxUploadSize (MB) in .streamlit/config.toml
MAX_ROWS = 20_000
MAX_COLUMNS = 200
MAX_FEATURES = 512  # after one-hot encoding
MAX_CELL = 1_000  # characters in one cell
MAX_CATEGORIES = 20  # distinct values a text feature may have to be one-hot encoded
MAX_CLASSES = 50
AUTO_CLASSES = 20  # whole-number targets with at most this many values count as classes
MIN_ROWS = 10
TASKS = ("auto", "classification", "regression")


class UploadError(ValueError):
    """A file that cannot become a dataset; the message says why, in a person's words."""


@dataclass(frozen=True, eq=False)
class Table:
    """A CSV as read: its columns as text-or-number, before a target is chosen."""

    name: str
    frame: pd.DataFrame
    digest: str  # of the bytes: two uploads of one file are the same table

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def default_target(self) -> str:
        """The last column that varies, as most tables put the label last."""
        varied = [c for c in self.columns if self.frame[c].nunique(dropna=False) > 1]
        return (varied or self.columns)[-1]


class Upload:
    """A table with its target chosen: the arrays a dataset is built from, and what was done.

    Immutable, and compared by the file's digest, target and task, never by its arrays, so a
    config holding one stays cheap to compare, hash and copy (a deep copy is the object
    itself). Not a dataclass on purpose: `dataclasses.asdict` of a config would take it apart
    and copy its arrays. A link cannot carry it (see `config.RunConfig.upload`).
    """

    __slots__ = (
        "class_names",
        "digest",
        "feature_names",
        "name",
        "notes",
        "target",
        "task",
        "x",
        "y",
    )

    def __init__(
        self,
        name: str,
        digest: str,
        target: str,
        task: str,
        x: np.ndarray,
        y: np.ndarray,
        feature_names: list[str],
        class_names: list[str],
        notes: tuple[str, ...] = (),
    ) -> None:
        self.name, self.digest, self.target, self.task = name, digest, target, task
        self.x, self.y = x, y  # float64 [rows, features]; class index (int64) or value
        self.x.flags.writeable = self.y.flags.writeable = False
        self.feature_names, self.class_names = list(feature_names), list(class_names)
        self.notes = tuple(notes)  # what encoding left out or changed

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Upload) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __deepcopy__(self, memo: dict) -> Upload:
        return self

    def __repr__(self) -> str:
        return f"Upload({self.label!r}, target={self.target!r})"

    @property
    def key(self) -> tuple[str, str, str]:
        return self.digest, self.target, self.task

    @property
    def n_classes(self) -> int:
        return 1 if self.task == "regression" else len(self.class_names)

    @property
    def label(self) -> str:
        return f"{self.name} ({len(self.y):,} rows, {self.x.shape[1]} features, {self.task})"

    def summary(self) -> dict[str, object]:
        """What a downloaded config records of the file: enough to recognise it, not its data."""
        return {
            "file": self.name,
            "sha256_16": self.digest,
            "target": self.target,
            "task": self.task,
            "rows": len(self.y),
            "features": self.feature_names,
        }


# ---- reading ----------------------------------------------------------------------------------
def read_table(raw: bytes, name: str = "upload.csv") -> Table:
    """Parse CSV bytes into a `Table`, or raise UploadError saying what is wrong with them."""
    if len(raw) > MAX_BYTES:
        raise UploadError(
            f"the file is {len(raw) / 1e6:.1f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB"
        )
    text = _text(raw)
    if not text.strip():
        raise UploadError("the file is empty")
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=_delimiter(text), skipinitialspace=True, engine="c"
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as e:
        raise UploadError(f"this is not a CSV table pandas can read ({_first_line(e)})") from None
    _check_shape(frame)
    frame.columns = _column_names(frame.columns)
    return Table(name, frame, hashlib.sha256(raw).hexdigest()[:16])


def _text(raw: bytes) -> str:
    """The bytes as text; binary files (NUL bytes, or not UTF-8 / Latin-1 text) are refused."""
    head = raw[:8192]
    if b"\x00" in head:
        raise UploadError("this is a binary file, not a CSV text table")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    controls = sum(ch < " " and ch not in "\t\r\n" for ch in text[:8192])
    if controls > len(head) // 100:
        raise UploadError("this is a binary file, not a CSV text table")
    return text


def _delimiter(text: str) -> str:
    """Comma unless the header line says otherwise (semicolons, tabs, pipes)."""
    try:
        return csv.Sniffer().sniff(text[:4096].split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__


def _check_shape(frame: pd.DataFrame) -> None:
    rows, columns = frame.shape
    if columns < 2:
        raise UploadError(
            f"the table has {columns} column; it needs at least one feature and a target"
        )
    if columns > MAX_COLUMNS:
        raise UploadError(f"the table has {columns:,} columns; the limit is {MAX_COLUMNS}")
    if rows < MIN_ROWS:
        raise UploadError(
            f"the table has {rows} data row{'s' if rows != 1 else ''}; "
            f"training needs at least {MIN_ROWS}"
        )
    if rows > MAX_ROWS:
        raise UploadError(f"the table has {rows:,} rows; the limit is {MAX_ROWS:,}")
    text = frame.select_dtypes(exclude="number")
    longest = (
        int(text.apply(lambda c: c.astype(str).str.len().max()).max()) if len(text.columns) else 0
    )
    if longest > MAX_CELL:
        raise UploadError(f"a cell holds {longest:,} characters; the limit is {MAX_CELL:,}")


def _column_names(columns: pd.Index) -> list[str]:
    """Header names as plain, distinct, reasonably short text."""
    names: list[str] = []
    for k, c in enumerate(columns):
        name = " ".join(str(c).split())[:60] or f"column {k + 1}"
        names.append(name if name not in names else f"{name} ({k + 1})")
    return names


# ---- encoding ---------------------------------------------------------------------------------
def prepare(table: Table, target: str | None = None, task: str = "auto") -> Upload:
    """The table as features and a target, or UploadError naming what stops it."""
    target = table.default_target() if target is None else target
    if target not in table.columns:
        raise UploadError(f"there is no column {target!r} to predict")
    if task not in TASKS:
        raise UploadError(f"task must be one of {', '.join(TASKS)} (got {task!r})")
    frame = table.frame
    _check_missing(frame)
    y, kind, class_names = _target(frame[target], task)
    x, names, notes = _features(frame.drop(columns=[target]))
    return Upload(table.name, table.digest, target, kind, x, y, names, class_names, notes)


def _check_missing(frame: pd.DataFrame) -> None:
    for column in frame.columns:
        values = frame[column]
        bad = values.isna()
        if pd.api.types.is_numeric_dtype(values):
            bad |= ~np.isfinite(values.to_numpy(np.float64, na_value=np.nan))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2  # 1-based, after the header line
            raise UploadError(
                f"column {column!r} has {int(bad.sum())} missing or infinite value(s), the "
                f"first on line {row}; fill or remove them and upload again"
            )


def _target(values: pd.Series, task: str) -> tuple[np.ndarray, str, list[str]]:
    numeric = pd.api.types.is_numeric_dtype(values)
    if task == "auto":
        whole = numeric and bool((values == values.round()).all())
        task = (
            "classification"
            if not numeric or (whole and values.nunique() <= AUTO_CLASSES)
            else "regression"
        )
    if task == "regression":
        if not numeric:
            sample = next(v for v in values if not _is_number(v))
            raise UploadError(
                f"the regression target {values.name!r} holds text such as {str(sample)[:40]!r}; "
                "choose a numeric column or the classification task"
            )
        return values.to_numpy(np.float64), "regression", []
    classes = sorted(values.unique(), key=lambda v: (str(type(v)), v))
    if len(classes) < 2:
        raise UploadError(
            f"the target {values.name!r} has one class only ({str(classes[0])[:40]!r}); "
            "there is nothing to tell apart"
        )
    if len(classes) > MAX_CLASSES:
        hint = "; as numbers, try the regression task" if numeric else ""
        raise UploadError(
            f"the target {values.name!r} has {len(classes):,} classes; the limit is "
            f"{MAX_CLASSES}{hint}"
        )
    index = {c: k for k, c in enumerate(classes)}
    y = values.map(index).to_numpy(np.int64)
    kind = "binary" if len(classes) == 2 else "multiclass"
    return y, kind, [_class_name(c) for c in classes]


def _is_number(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _class_name(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)[:40]


def _features(frame: pd.DataFrame) -> tuple[np.ndarray, list[str], tuple[str, ...]]:
    """Numeric columns as they are, text columns one-hot (or left out with a note)."""
    parts, names, notes = [], [], []
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            parts.append(values.to_numpy(np.float64)[:, None])
            names.append(column)
            continue
        levels = sorted(values.astype(str).unique())
        if len(levels) > MAX_CATEGORIES:
            notes.append(
                f"column {column!r} was left out: {len(levels):,} distinct text values, more "
                f"than the {MAX_CATEGORIES} one-hot encoding takes"
            )
            continue
        text = values.astype(str).to_numpy()
        parts.append(np.stack([text == level for level in levels], axis=1).astype(np.float64))
        names += [f"{column}={level[:30]}" for level in levels]
        notes.append(f"column {column!r} was one-hot encoded into {len(levels)} column(s)")
    if not parts:
        raise UploadError("no column is left to learn from once the target is set aside")
    x = np.concatenate(parts, axis=1)
    if x.shape[1] > MAX_FEATURES:
        raise UploadError(
            f"encoded, the table has {x.shape[1]:,} features; the limit is {MAX_FEATURES}"
        )
    return x, names, tuple(notes)
