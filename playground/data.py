"""Datasets for the playground: 2-D toys and small real tables, all seeded and standardised.

The four binary toys follow the TensorFlow Playground's ``dataset.ts`` (same shapes, same noise
ranges), with labels 1/0 instead of +1/-1. Real data comes from the copies bundled inside
scikit-learn, so nothing is ever downloaded. Every random draw comes from generators derived from
``np.random.default_rng(cfg.seed)``: the same config gives the same arrays, bit for bit.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from playground.history import thin_index
from playground.upload import Upload

TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class DataConfig:
    """What to generate. Ranges are the settings table's (``playground.config``), checked there;
    ``make_dataset`` checks only what would make generation itself fail."""

    name: str = "circle"
    n_points: int = 500  # total before the split; real data: subsample, capped at its size
    noise: float = 0.0  # the TF Playground's 0..50 % as 0..0.5; meaning per dataset: DATASETS
    train_ratio: float = 0.5
    seed: int = 0
    n_classes: int = 3  # blobs only
    features: tuple[str, ...] = ("x1", "x2")  # the network's inputs, for the 2-D toys: FEATURES
    upload: Upload | None = None  # the table of the "upload" dataset (playground.upload)


@dataclass(frozen=True)
class DatasetSpec:
    """Static facts about a dataset, enough to build widgets and pick a loss before loading it."""

    key: str
    label: str
    task: str
    n_classes: int  # binary: 2, regression: 1; blobs: the default, the Dataset carries the real one
    real: bool
    help: str
    n_features: int


@dataclass
class Dataset:
    """A train/test split ready for a model: float32 features standardised with train statistics."""

    spec: DatasetSpec
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    class_names: list[str]
    plane: Plane | None = None  # the 2-D toys' points as drawn, and their features' recipe
    images_test: np.ndarray | None = None  # digits: the test rows' own pixels, to draw them

    @property
    def task(self) -> str:
        return self.spec.task

    @property
    def n_classes(self) -> int:
        return self.spec.n_classes

    @property
    def n_features(self) -> int:
        """The network's inputs: the dataset's columns, or the features chosen for a 2-D toy."""
        return self.x_train.shape[1]

    @property
    def is_2d(self) -> bool:
        """True when a decision boundary can be drawn over the input plane."""
        return self.plane is not None


@dataclass(frozen=True)
class Feature:
    """One input computed from a 2-D point, as in the TensorFlow Playground's feature toggles."""

    label: str
    of: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (x1, x2) in the data's own units


FEATURES: dict[str, Feature] = {
    "x1": Feature("X₁", lambda a, b: a),
    "x2": Feature("X₂", lambda a, b: b),
    "x1_sq": Feature("X₁²", lambda a, b: a * a),
    "x2_sq": Feature("X₂²", lambda a, b: b * b),
    "x1_x2": Feature("X₁X₂", lambda a, b: a * b),
    "sin_x1": Feature("sin(X₁)", lambda a, b: np.sin(a)),
    "sin_x2": Feature("sin(X₂)", lambda a, b: np.sin(b)),
}
PLAIN = ("x1", "x2")


def lift(points: np.ndarray, features: tuple[str, ...]) -> np.ndarray:
    """The chosen features of raw 2-D points, one column each, in float64."""
    a, b = points[:, 0], points[:, 1]
    return np.column_stack([FEATURES[k].of(a, b) for k in features])


@dataclass(frozen=True)
class Plane:
    """A 2-D toy seen two ways: its points standardised, as the map and the scatter draw them,
    and the recipe that turns any point of that plane into the network's inputs.

    Features are computed in the data's own units (sin(X₁) of a spiral's -5..5 turns about
    once and a half, as in the TensorFlow Playground, where of a standardised -1.7..1.7 it
    would be almost a line), then standardised with the training split's statistics.
    """

    train: np.ndarray  # float32 [n_train, 2]
    test: np.ndarray
    features: tuple[str, ...]
    centre: np.ndarray  # raw mean and std of the training points, per coordinate
    scale: np.ndarray
    f_centre: np.ndarray  # mean and std of each feature over the training points
    f_scale: np.ndarray

    def inputs(self, points: np.ndarray) -> np.ndarray:
        """The network's float32 inputs at standardised plane `points` (the map's grid)."""
        if self.features == PLAIN:
            return np.asarray(points, np.float32)
        raw = np.asarray(points, np.float64) * self.scale + self.centre
        return ((lift(raw, self.features) - self.f_centre) / self.f_scale).astype(np.float32)


def _toy(key: str, label: str, task: str, n_classes: int, help: str) -> DatasetSpec:
    return DatasetSpec(key, label, task, n_classes, real=False, help=help, n_features=2)


def _real(key: str, label: str, task: str, n_classes: int, n_features: int, help: str):
    return DatasetSpec(key, label, task, n_classes, real=True, help=help, n_features=n_features)


# fmt: off
_SPECS = (
    _toy("circle", "Circle", "binary", 2,
         "A disc inside a ring. Noise flips labels, first near the gap: at 0.5 about 40 % "
         "of the disc's points and 10 % of the ring's take the other class."),
    _toy("xor", "XOR", "binary", 2,
         "Opposite corners share a class; no straight line splits it."),
    _toy("gauss", "Two Gaussians", "binary", 2,
         "Two round clouds; noise spreads them into each other."),
    _toy("spiral", "Spiral", "binary", 2,
         "Two interleaved spiral arms, the hardest of the toys."),
    _toy("moons", "Two moons", "binary", 2,
         "Two interlocking half circles; noise blurs them."),
    _toy("blobs", "Blobs", "multiclass", 3,
         "3 to 5 round clouds on a circle, one class each."),
    _toy("spiral3", "Three-arm spiral", "multiclass", 3,
         "Three interleaved spiral arms, one class each."),
    _toy("plane", "Plane", "regression", 1,
         "The target is a tilted plane: x1 + x2, scaled."),
    _toy("multigauss", "Multi-Gaussian", "regression", 1,
         "Six bumps and dips of both signs; the target is the strongest one."),
    _real("digits", "Digits (8x8)", "multiclass", 10, 64,
          "Handwritten digits 0-9, each an 8x8 image of 64 pixels."),
    _real("iris", "Iris", "multiclass", 3, 4,
          "Three iris species told apart by 4 flower measurements."),
    _real("wine", "Wine", "multiclass", 3, 13,
          "Three grape cultivars told apart by 13 chemical measurements."),
    _real("breast_cancer", "Breast cancer", "binary", 2, 30,
          "Malignant or benign tumour, from 30 cell nucleus measurements."),
    _real("diabetes", "Diabetes", "regression", 1, 10,
          "Disease progression one year on, from 10 patient measurements."),
    DatasetSpec("noise", "Noise (10 inputs)", "regression", 1, real=False, n_features=10,
                help="10 standard-normal inputs and a standard-normal target that does not "
                "depend on them: nothing to learn. With more points than a run's steps x "
                "batch, every batch is fresh, as in the classic dying-ReLU script."),
    DatasetSpec("drawn", "Your drawing", "binary", 2, real=False, n_features=2,
                help="Points you place on the plane with clicks, in two colours or as values; "
                "a link carries up to 300 of them."),
    DatasetSpec("upload", "Your CSV", "binary", 2, real=True, n_features=0,
                help="A table you uploaded: its target column and task are yours to choose. "
                "The file stays in this session; a link cannot carry it."),
)
# fmt: on
DATASETS: dict[str, DatasetSpec] = {spec.key: spec for spec in _SPECS}
PLANE_KEYS = tuple(k for k, d in DATASETS.items() if not d.real and d.n_features == 2)
TABLES = ("drawn", "upload")  # datasets whose rows come with the config (`DataConfig.upload`)

# ---------------------------------------------------------------------------------------------
# 2-D generators: (n, noise, rng, n_classes) -> raw points x float64 [n, 2], labels y [n]


def _uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    return rng.uniform(low, high, size=n)


def _halves(n: int) -> tuple[int, int]:
    """Sizes of the two classes; the first gets the odd point so the total is exactly n."""
    return n - n // 2, n // 2


def _shares(n: int, k: int) -> list[int]:
    return [n // k + (i < n % k) for i in range(k)]


def _polar(r: np.ndarray, angle: np.ndarray) -> np.ndarray:
    return np.column_stack([r * np.sin(angle), r * np.cos(angle)])


def _label_jitter(rng: np.random.Generator, n: int, noise: float, half_width: float) -> np.ndarray:
    """TF Playground's label noise: the label is read at a shifted point, the point stays put."""
    return rng.uniform(-half_width, half_width, size=(n, 2)) * noise


def _circle(n: int, noise: float, rng: np.random.Generator, _k: int):
    radius = 5.0
    n_in, n_out = _halves(n)
    r = np.concatenate(
        [_uniform(rng, 0, radius * 0.5, n_in), _uniform(rng, radius * 0.7, radius, n_out)]
    )
    x = _polar(r, _uniform(rng, 0, 2 * np.pi, n))
    shifted = x + _label_jitter(rng, n, noise, radius)
    y = (np.hypot(shifted[:, 0], shifted[:, 1]) < radius * 0.5).astype(np.int64)
    return x, y


def _xor(n: int, noise: float, rng: np.random.Generator, _k: int):
    padding = 0.3
    x = rng.uniform(-5, 5, size=(n, 2))
    x += np.where(x > 0, padding, -padding)
    shifted = x + _label_jitter(rng, n, noise, 5.0)
    y = (shifted[:, 0] * shifted[:, 1] >= 0).astype(np.int64)
    return x, y


def _gauss_std(noise: float) -> float:
    """TF Playground maps noise 0..0.5 linearly to variance 0.5..4."""
    return float(np.sqrt(0.5 + 7.0 * noise))


def _clouds(
    centres: list[tuple[float, float]], sizes: list[int], std: float, rng: np.random.Generator
):
    x = np.concatenate(
        [rng.normal(c, std, size=(m, 2)) for c, m in zip(centres, sizes, strict=True)]
    )
    y = np.repeat(np.arange(len(sizes)), sizes)
    return x, y


def _gauss(n: int, noise: float, rng: np.random.Generator, _k: int):
    x, y = _clouds([(2.0, 2.0), (-2.0, -2.0)], list(_halves(n)), _gauss_std(noise), rng)
    return x, 1 - y  # the cloud at (2, 2) is the positive class, as in TF


def _blobs(n: int, noise: float, rng: np.random.Generator, k: int):
    angles = np.pi / 2 + 2 * np.pi * np.arange(k) / k
    centres = [(4.0 * np.cos(a), 4.0 * np.sin(a)) for a in angles]
    return _clouds(centres, _shares(n, k), _gauss_std(noise), rng)


def _arms(sizes: list[int], noise: float, rng: np.random.Generator):
    """Spiral arms as in TF: radius grows to 5 over 1.75 turns, jitter U(-1, 1) * noise."""
    parts = []
    for arm, m in enumerate(sizes):
        frac = np.arange(m) / m
        t = 1.75 * frac * 2 * np.pi + 2 * np.pi * arm / len(sizes)
        parts.append(_polar(5 * frac, t) + rng.uniform(-1, 1, size=(m, 2)) * noise)
    return np.concatenate(parts), np.repeat(np.arange(len(sizes)), sizes)


def _spiral(n: int, noise: float, rng: np.random.Generator, _k: int):
    x, y = _arms(list(_halves(n)), noise, rng)
    return x, 1 - y  # the arm starting at angle 0 is the positive class, as in TF


def _spiral3(n: int, noise: float, rng: np.random.Generator, _k: int):
    return _arms(_shares(n, 3), noise, rng)


def _moons(n: int, noise: float, rng: np.random.Generator, _k: int):
    """sklearn's two moons geometry, with random angles and Gaussian jitter of std ``noise``."""
    n_upper, n_lower = n // 2, n - n // 2
    t = _uniform(rng, 0, np.pi, n)
    upper = np.column_stack([np.cos(t[:n_upper]), np.sin(t[:n_upper])])
    lower = np.column_stack([1 - np.cos(t[n_upper:]), 0.5 - np.sin(t[n_upper:])])
    x = np.concatenate([upper, lower]) + rng.normal(0, noise, size=(n, 2))
    return x, np.repeat([0, 1], [n_upper, n_lower])


_BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]]
)


def _plane_target(p: np.ndarray) -> np.ndarray:
    return (p[:, 0] + p[:, 1]) / 10


def _bumps_target(p: np.ndarray) -> np.ndarray:
    """Value of the strongest bump: sign * (1 - distance / 2), clamped to 0 beyond distance 2."""
    dist = np.hypot(p[:, None, 0] - _BUMPS[:, 0], p[:, None, 1] - _BUMPS[:, 1])
    values = _BUMPS[:, 2] * np.clip(1 - dist / 2, 0, 1)
    return values[np.arange(len(p)), np.abs(values).argmax(axis=1)]


def _surface(target: Callable[[np.ndarray], np.ndarray]):
    def generate(n: int, noise: float, rng: np.random.Generator, _k: int):
        x = rng.uniform(-6, 6, size=(n, 2))
        return x, target(x + _label_jitter(rng, n, noise, 6.0))

    return generate


def _pure_noise(n: int, noise: float, rng: np.random.Generator, _k: int):
    """Inputs and target drawn independently from N(0, 1): `noise` has nothing to blur."""
    return rng.standard_normal((n, 10)), rng.standard_normal(n)


_TOYS = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": _spiral,
    "moons": _moons,
    "blobs": _blobs,
    "spiral3": _spiral3,
    "plane": _surface(_plane_target),
    "multigauss": _surface(_bumps_target),
    "noise": _pure_noise,
}

_TOY_CLASS_NAMES = {
    "circle": ["outer ring", "inner disc"],
    "xor": ["x1*x2 < 0", "x1*x2 >= 0"],
    "gauss": ["around (-2, -2)", "around (2, 2)"],
    "spiral": ["arm B", "arm A"],
    "moons": ["upper moon", "lower moon"],
}

# ---------------------------------------------------------------------------------------------
# Real tables, bundled with scikit-learn


@functools.cache
def _load_real(key: str) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """(x, y, feature names, class names), loaded once; read-only arrays keep the cache safe."""
    from sklearn import datasets  # deferred: only real data needs scikit-learn

    bunch = getattr(datasets, f"load_{key}")()
    x, y = np.asarray(bunch.data, np.float64), np.asarray(bunch.target)
    x.flags.writeable = y.flags.writeable = False
    classes = [str(c) for c in getattr(bunch, "target_names", [])]
    return x, y, [str(f) for f in bunch.feature_names], classes


# ---------------------------------------------------------------------------------------------
# Validation, split, standardisation


def _validate(cfg: DataConfig) -> DatasetSpec:
    if cfg.name not in DATASETS:
        raise ValueError(f"unknown dataset {cfg.name!r}; choose one of {', '.join(DATASETS)}")
    spec = DATASETS[cfg.name]
    if not isinstance(cfg.n_points, int | np.integer) or isinstance(cfg.n_points, bool):
        raise ValueError(f"n_points must be an integer (got {cfg.n_points!r})")
    if cfg.name == "blobs":
        spec = dataclasses.replace(spec, n_classes=int(cfg.n_classes))
    if cfg.name in TABLES:
        up = cfg.upload
        if up is None:
            raise ValueError(f"the {cfg.name} dataset needs its table (uploaded or drawn)")
        spec = dataclasses.replace(
            spec, label=up.name, task=up.task, n_classes=up.n_classes, n_features=up.x.shape[1]
        )
    return spec


def _rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """Independent streams for points, split and jitter, so one never shifts another."""
    points, split, jitter = np.random.default_rng(seed).spawn(3)
    return points, split, jitter


def raw_points(cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """A toy's points before split and standardisation, in generation order (plots, tests)."""
    spec = _validate(cfg)
    if spec.real:
        raise ValueError(f"raw_points is for the 2-D toys; {cfg.name!r} is a real dataset")
    if cfg.name == "drawn":
        return np.asarray(cfg.upload.x), np.asarray(cfg.upload.y)
    return _TOYS[cfg.name](cfg.n_points, cfg.noise, _rngs(cfg.seed)[0], spec.n_classes)


def n_train_points(n_points: int, train_ratio: float) -> int:
    """Training set size: Python's round(n_points * train_ratio), so halves go to the even side."""
    return round(n_points * train_ratio)


def _cover_classes(order: np.ndarray, y: np.ndarray, n_train: int, n_classes: int) -> np.ndarray:
    """Swap points into the training part until it holds every class the data has.

    A deterministic fix-up of the seeded permutation: the missing class's first point after the
    training part trades places with the last training point of a class that has one to spare.
    """
    order = order.copy()
    for c in range(n_classes):
        train_labels = y[order[:n_train]]
        outside = np.flatnonzero(y[order[n_train:]] == c)
        if (train_labels == c).any() or outside.size == 0:
            continue
        counts = np.bincount(train_labels, minlength=n_classes)
        donor = np.flatnonzero(counts[train_labels] > 1)[-1]
        j = n_train + outside[0]
        order[donor], order[j] = order[j], order[donor]
    return order


def _split(y: np.ndarray, n_points: int, train_ratio: float, spec: DatasetSpec, rng):
    """Seeded permutation of all rows; the first n_points are kept, the first n_train train."""
    n_train = n_train_points(n_points, train_ratio)
    if spec.task != "regression" and n_train < spec.n_classes:
        raise ValueError(
            f"the training split would have {n_train} points, fewer than the {spec.n_classes} "
            f"classes of {spec.key!r}; raise n_points or train_ratio"
        )
    order = rng.permutation(len(y))
    if spec.task != "regression":
        order = _cover_classes(order, y.astype(np.int64), n_train, spec.n_classes)
    return order[:n_train], order[n_train:n_points]


def _moments(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Train mean and std per column; a constant column keeps std 1, so nothing divides by 0."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    return mean, np.where(std > 1e-12, std, 1.0)


def _standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale both parts with the train mean and std."""
    mean, std = _moments(train)
    return ((train - mean) / std).astype(np.float32), ((test - mean) / std).astype(np.float32)


def _plane(x: np.ndarray, train: np.ndarray, test: np.ndarray, features: tuple[str, ...]):
    """A 2-D toy's inputs (train, test) for `features`, and its `Plane`."""
    unknown = [k for k in features if k not in FEATURES]
    if unknown or not features:
        raise ValueError(f"features must be some of {', '.join(FEATURES)} (got {features!r})")
    centre, scale = _moments(x[train])
    lifted = lift(x, features)
    f_centre, f_scale = _moments(lifted[train])
    x_train, x_test = _standardise(lifted[train], lifted[test])
    points = _standardise(x[train], x[test])
    plane = Plane(*points, tuple(features), centre, scale, f_centre, f_scale)
    return x_train, x_test, plane


def _labels(y: np.ndarray, task: str) -> np.ndarray:
    return y.astype(np.float32 if task == "binary" else np.int64)


def make_dataset(cfg: DataConfig) -> Dataset:
    """Build the split ``cfg`` describes; bad input raises ValueError naming the allowed range."""
    spec = _validate(cfg)
    points_rng, split_rng, jitter_rng = _rngs(cfg.seed)
    if cfg.upload is not None and cfg.name in TABLES:
        up = cfg.upload
        x, y, feature_names, class_names = up.x, up.y, up.feature_names, up.class_names
        n_points = len(y) if cfg.name == "drawn" else min(cfg.n_points, len(y))
    elif spec.real:
        x, y, feature_names, class_names = _load_real(cfg.name)
        n_points = min(cfg.n_points, len(y))
    else:
        x, y = _TOYS[cfg.name](cfg.n_points, cfg.noise, points_rng, spec.n_classes)
        n_points, feature_names = cfg.n_points, [f"x{i + 1}" for i in range(x.shape[1])]
        class_names = _TOY_CLASS_NAMES.get(cfg.name, [str(c) for c in range(spec.n_classes)])
    train, test = _split(y, n_points, cfg.train_ratio, spec, split_rng)
    plane = None
    if spec.real or spec.n_features != 2:
        x_train, x_test = _standardise(x[train], x[test])
    else:
        x_train, x_test, plane = _plane(x, train, test, cfg.features)
        feature_names = [FEATURES[k].label for k in cfg.features]
    if spec.real and cfg.noise > 0:  # jitter in standardised units, then back to mean 0, std 1
        x_train = x_train + jitter_rng.normal(0, cfg.noise, size=x_train.shape)
        x_test = x_test + jitter_rng.normal(0, cfg.noise, size=x_test.shape)
        x_train, x_test = _standardise(x_train, x_test)
    if spec.task == "regression":
        y_train, y_test = (v.ravel() for v in _standardise(y[train, None], y[test, None]))
        class_names = []
    else:
        y_train, y_test = _labels(y[train], spec.task), _labels(y[test], spec.task)
    names = list(feature_names)
    images = x[test].reshape(-1, 8, 8).astype(np.float32) if cfg.name == "digits" else None
    return Dataset(spec, x_train, y_train, x_test, y_test, names, list(class_names), plane, images)


def points_frame(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    max_points: int = 1000,
) -> pd.DataFrame:
    """The data points for the map (`charts.boundary_chart`): columns x1, x2, label, split.

    Only the first two features are used. Each split is thinned evenly to `max_points` so that
    a large dataset does not bloat every redraw.
    """
    parts = []
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        x, y = np.asarray(x), np.asarray(y).reshape(-1)
        idx = thin_index(len(y), max_points)
        part = {
            "x1": x[idx, 0].astype(np.float64),
            "x2": x[idx, 1].astype(np.float64),
            "label": y[idx],
            "split": split,
        }
        parts.append(pd.DataFrame(part))
    return pd.concat(parts, ignore_index=True)
