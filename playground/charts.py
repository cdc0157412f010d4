"""Altair chart builders: plain data in, a chart out. No Streamlit here.

Every builder is written for a live page that redraws a few times a second:

- the spec holds no numbers that move with the data: titles are fixed words, scales either have
  a fixed domain (accuracy, fractions, P(class 1)) or let the renderer fit the data, so between
  two updates only the datasets differ and the browser can swap them in place;
- series are thinned to a few hundred points (`downsample`) and histograms arrive pre-counted;
- one small palette is shared by all charts: the TensorFlow Playground's orange and blue for
  classes, a blue and a red for train and test, a sequential scheme for depth.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

# ---- palette ----------------------------------------------------------------------------------
CLASS_0 = "#f59322"  # the TensorFlow Playground's orange (its negative class)
CLASS_1 = "#0877bd"  # and its blue (the positive class)
NEUTRAL = "#e8eaeb"  # the middle of the diverging scale: undecided
TRAIN = "#3a6ea5"
TEST = "#d1495b"
WARNING = "#d1495b"
CALM = "#9aa5b1"
CLASS_PALETTE = [
    CLASS_0,
    CLASS_1,
    "#54a24b",
    "#b279a2",
    "#e45756",
    "#72b7b2",
    "#eeca3b",
    "#9d755d",
    "#ff9da6",
    "#79706e",
]
DEPTH_SCHEME = {"name": "viridis", "extent": [0.0, 0.85]}  # drop viridis' faint yellow end
DIVERGING = [CLASS_0, NEUTRAL, CLASS_1]  # interpolated in Lab: HCL would detour through green
SPLITS = ["train", "test"]

LOG_FLOOR = 1e-8  # what a non-positive value becomes on a log scale
MAX_STEPS = 300  # steps kept per layer in per-layer line charts
WIDE = "container"
HEIGHT = 220
BOUNDARY_SIZE = 360
HIST_WIDTH, HIST_HEIGHT, HIST_COLUMNS = 150, 90, 4

# plain words for the measurement names used in history frames
PLAIN = {
    "dead_fraction": "dead units",
    "saturated_fraction": "saturated units",
    "grad_norm": "gradient norm",
    "signal_norm": "back-propagated signal norm",
    "weight_norm": "weight norm",
    "pre_mean": "pre-activation mean",
    "pre_std": "pre-activation std",
    "post_mean": "activation mean",
    "post_std": "activation std",
}


def _plain(column: str) -> str:
    return PLAIN.get(column, column.replace("_", " "))


def _layer_names(n: int, labels: list[str] | None) -> list[str]:
    """'layer 1 · relu' headers: the label describes the layer, the number is added here."""
    names = []
    for i in range(n):
        head = f"layer {i + 1}"
        label = labels[i] if labels is not None and i < len(labels) else ""
        if not label or label == head:
            names.append(head)
        elif label.startswith(head + " "):  # already a full header
            names.append(label)
        else:
            names.append(f"{head} · {label}")
    return names


# ---- thinning ---------------------------------------------------------------------------------
def _thin_index(n: int, max_rows: int) -> np.ndarray:
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


def downsample(frame: pd.DataFrame, max_rows: int = 400) -> pd.DataFrame:
    """Evenly thinned rows (the first and the last always kept), at most `max_rows`."""
    if len(frame) <= max_rows:
        return frame.reset_index(drop=True)
    return frame.iloc[_thin_index(len(frame), max_rows)].reset_index(drop=True)


def _downsample_steps(frame: pd.DataFrame, max_steps: int = MAX_STEPS) -> pd.DataFrame:
    """Thin a long (step, layer, ...) frame by step, keeping every layer of each kept step."""
    steps = frame["step"].to_numpy()
    unique = np.unique(steps)
    if len(unique) <= max_steps:
        return frame
    keep = unique[_thin_index(len(unique), max_steps)]
    return frame[np.isin(steps, keep)]


def _finite(values: np.ndarray, log_scale: bool) -> np.ndarray:
    """Mask of values a chart can draw: finite, and positive on a log scale."""
    ok = np.isfinite(values)
    if log_scale:
        ok &= values > 0
    return ok


# ---- spec reuse -------------------------------------------------------------------------------
# A chart's spec depends only on a few settings (task, scale type, title), its data on the run.
# Each builder therefore takes a skeleton built once per settings (cached below) and attaches
# the new data to a shallow copy: about 1 ms instead of 2-12 ms of Altair object building on every
# redraw, and the spec is the same by construction. Treat returned charts as immutable: derive
# with Altair's methods (`.properties(...)` and the like return copies), never assign into
# `chart.encoding`, which the copies share with the cached skeleton.
_cache = functools.lru_cache(maxsize=64)


def _with_data(skeleton: alt.TopLevelMixin, *frames: pd.DataFrame) -> alt.TopLevelMixin:
    """A shallow copy of `skeleton` with `frames` as its data (one per layer for layer charts)."""
    out = skeleton.copy(deep=False)
    if isinstance(skeleton, alt.LayerChart):
        layers = [layer.copy(deep=False) for layer in skeleton.layer]
        for layer, frame in zip(layers, frames, strict=True):
            layer.data = frame
        out.layer = layers
    else:
        (out.data,) = frames
    return out


# ---- hand-off to a renderer ---------------------------------------------------------------------
_spec_lock = threading.Lock()  # Altair's theme and data-transformer switches are process-global


def _name_frames(data: Any, store: dict[int, tuple[str, Any]]) -> dict[str, str]:
    """Altair data transformer: replace each frame by a name that depends only on its order.

    Not `data_N`: Vega-Lite uses those names internally, and a dataset so named renders empty.
    """
    if id(data) not in store:
        store[id(data)] = (f"frame{len(store)}", data)
    return {"name": store[id(data)][0]}


alt.data_transformers.register("playground_named", _name_frames)


def vega_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart as a Vega-Lite dict with its frames under `datasets`, named frame0, frame1, ...

    Why not hand the Altair object to the UI: converting it there validates the whole spec
    against the Vega-Lite schema on every redraw (most of the page's CPU time at a few redraws a
    second), and names each dataset by a hash of its contents, so the spec text changes with the
    data. Here the skeletons are validated once (by the tests), dataset names are stable, and the
    frames stay frames for the renderer to serialise.
    """
    store: dict[int, tuple[str, Any]] = {}
    with (
        _spec_lock,
        alt.theme.enable("none"),
        alt.data_transformers.enable("playground_named", store=store),
    ):
        spec = chart.to_dict(validate=False)
    spec["datasets"] = {name: frame for name, frame in store.values()}
    return spec


# ---- curves over training ---------------------------------------------------------------------
def _split_frame(probes: pd.DataFrame, train: str, test: str) -> pd.DataFrame:
    """Wide train/test columns -> long (step, split, value), NaN and inf rows dropped."""
    probes = downsample(probes)
    steps = probes["step"].to_numpy(dtype=np.float64)
    n = len(steps)
    values = [probes[c].to_numpy(dtype=np.float64) for c in (train, test)]
    frame = pd.DataFrame(
        {
            "step": np.concatenate([steps, steps]),
            "split": np.repeat(SPLITS, n),
            "value": np.concatenate(values),
        }
    )
    return frame[np.isfinite(frame["value"].to_numpy())].reset_index(drop=True)


def _split_color() -> alt.Color:
    return alt.Color(
        "split:N",
        title=None,
        scale=alt.Scale(domain=SPLITS, range=[TRAIN, TEST]),
        legend=alt.Legend(orient="top"),
    )


def _step_x() -> alt.X:
    return alt.X(
        "step:Q",
        title="training step",
        scale=alt.Scale(zero=False, nice=False),
        axis=alt.Axis(format="~s", tickMinStep=1),  # 12k, not 12,000.000000 or fractions
    )


@_cache
def _loss_skeleton(log_scale: bool) -> alt.Chart:
    y_scale = alt.Scale(type="log") if log_scale else alt.Scale(zero=False)
    return (
        alt.Chart(title="Loss")
        .mark_line()
        .encode(
            x=_step_x(),
            y=alt.Y("value:Q", title="loss", scale=y_scale),
            color=_split_color(),
            tooltip=[
                alt.Tooltip("step:Q", title="step"),
                alt.Tooltip("split:N", title="data"),
                alt.Tooltip("value:Q", title="loss", format=".4g"),
            ],
        )
        .properties(width=WIDE, height=HEIGHT)
    )


def loss_chart(probes: pd.DataFrame, log_scale: bool = False) -> alt.Chart:
    """Train and test loss over training steps (`probes`: step, train_loss, test_loss).

    On a log scale, values <= 0 are drawn at a tiny positive floor instead of breaking the axis.
    """
    frame = _split_frame(probes, "train_loss", "test_loss")
    if log_scale:
        frame["value"] = frame["value"].clip(lower=LOG_FLOOR)
    return _with_data(_loss_skeleton(bool(log_scale)), frame)


@_cache
def _metric_skeleton(regression: bool) -> alt.Chart:
    if regression:
        name, tip, fmt = "R²", "R²", ".3f"
        # the top is 1; the bottom follows the data, which are clipped at -1
        y = alt.Y("value:Q", title="R²", scale=alt.Scale(domainMax=1, zero=False))
    else:
        name, tip, fmt = "Accuracy", "accuracy", ".1%"
        y = alt.Y(
            "value:Q",
            title="accuracy",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%"),
        )
    return (
        alt.Chart(title=name)
        .mark_line()
        .encode(
            x=_step_x(),
            y=y,
            color=_split_color(),
            tooltip=[
                alt.Tooltip("step:Q", title="step"),
                alt.Tooltip("split:N", title="data"),
                alt.Tooltip("value:Q", title=tip, format=fmt),
            ],
        )
        .properties(width=WIDE, height=HEIGHT)
    )


def metric_chart(probes: pd.DataFrame, task: str) -> alt.Chart:
    """Train and test accuracy (classification) or R² (regression) over training steps.

    Accuracy sits on a fixed 0-100 % axis. R² tops out at 1 and its lower end follows the data
    but stops at -1: an untrained model's R² can be -50, which would flatten the rest.
    """
    frame = _split_frame(probes, "train_metric", "test_metric")
    regression = task == "regression"
    if regression:
        frame["value"] = frame["value"].clip(lower=-1.0, upper=1.0)
    return _with_data(_metric_skeleton(regression), frame)


# ---- decision boundary ------------------------------------------------------------------------
def points_frame(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    max_points: int = 1000,
) -> pd.DataFrame:
    """The data points for `boundary_chart`: columns x1, x2, label, split.

    Only the first two features are used. Each split is thinned evenly to `max_points` so that
    a large dataset does not bloat every redraw.
    """
    parts = []
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        x, y = np.asarray(x), np.asarray(y).reshape(-1)
        idx = _thin_index(len(y), max_points)
        part = {
            "x1": x[idx, 0].astype(np.float64),
            "x2": x[idx, 1].astype(np.float64),
            "label": y[idx],
            "split": split,
        }
        parts.append(pd.DataFrame(part))
    return pd.concat(parts, ignore_index=True)


def _cell_edges(axis: np.ndarray) -> np.ndarray:
    """Edges of the cells centred on the grid axis: midpoints inside, half a step outside."""
    axis = np.asarray(axis, dtype=np.float64)
    if len(axis) == 1:
        return np.array([axis[0] - 0.5, axis[0] + 0.5])
    mid = (axis[1:] + axis[:-1]) / 2
    return np.concatenate([[2 * axis[0] - mid[0]], mid, [2 * axis[-1] - mid[-1]]])


def _grid_frame(grid: dict) -> pd.DataFrame:
    """One row per grid cell: x_lo, x_hi, y_lo, y_hi, value (and class_index for multi-class).

    `grid["value"][i, j]` sits at (x[j], y[i]), as `np.meshgrid(x, y)` lays it out.
    """
    xe, ye = _cell_edges(grid["x"]), _cell_edges(grid["y"])
    nx, ny = len(xe) - 1, len(ye) - 1
    data = {
        "x_lo": np.tile(xe[:-1], ny),
        "x_hi": np.tile(xe[1:], ny),
        "y_lo": np.repeat(ye[:-1], nx),
        "y_hi": np.repeat(ye[1:], nx),
        "value": np.asarray(grid["value"], dtype=np.float64).reshape(-1),
    }
    # float32 halves what each redraw sends; the cells need no more precision
    frame = pd.DataFrame({k: v.astype(np.float32) for k, v in data.items()})
    if "class" in grid:
        frame["class_index"] = np.asarray(grid["class"]).reshape(-1).astype(np.int64)
    return frame


def _nice_bound(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `value`."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0):
        if step * power >= value * (1 - 1e-9):
            return step * power
    return 10.0 * power


def _class_names(names: list[str], n: int) -> list[str]:
    """`names` padded with 'class k' for any class the caller did not name."""
    return [names[k] if k < len(names) else f"class {k}" for k in range(n)]


def _named(codes: np.ndarray, names: list[str]) -> pd.Categorical | np.ndarray:
    """Class names for class indices; categorical, so 10,000 cells send each name once."""
    if len(set(names)) == len(names):
        return pd.Categorical.from_codes(codes, categories=names)
    return np.asarray(names, dtype=object)[codes]


@_cache
def _boundary_skeleton(task: str, names: tuple[str, ...], bound: float) -> alt.LayerChart:
    axis_scale = alt.Scale(zero=False, nice=False)  # the renderer fits the grid, no padding
    x_title, y_title = "feature 1", "feature 2"
    point_tip = [
        alt.Tooltip("x1:Q", title=x_title, format=".2f"),
        alt.Tooltip("x2:Q", title=y_title, format=".2f"),
        alt.Tooltip("split:N", title="data"),
    ]
    # opaque cells get a stroke in their own colour, which hides antialiasing seams; translucent
    # (multi-class) cells do not, as overlapping strokes would draw a darker lattice instead
    cell_extra: dict[str, alt.Color | alt.Opacity] = {}
    if task == "multiclass":
        palette = [CLASS_PALETTE[i % len(CLASS_PALETTE)] for i in range(len(names))]
        scale = alt.Scale(domain=list(names), range=palette)
        cell_color = alt.Color("class:N", title="class", scale=scale)
        point_color = cell_color
        # a guess at chance level (1/k) is drawn faint, a sure prediction nearly solid
        confidence = alt.Scale(domain=[1 / len(names), 1], range=[0.05, 0.85], clamp=True)
        cell_extra["opacity"] = alt.Opacity("value:Q", scale=confidence, legend=None)
        cell_tip = [
            alt.Tooltip("class:N", title="predicted"),
            alt.Tooltip("value:Q", title="confidence", format=".0%"),
        ]
        point_tip.insert(0, alt.Tooltip("class:N", title="class"))
    elif task == "binary":
        title = f"P({names[1]})"
        scale = alt.Scale(domain=[0, 1], domainMid=0.5, range=DIVERGING, interpolate="lab")
        cell_color = alt.Color("value:Q", title=title, scale=scale)
        point_color = alt.Color("label:Q", title=title, scale=scale)
        cell_extra["stroke"] = cell_color.legend(None)
        cell_tip = [alt.Tooltip("value:Q", title=title, format=".2f")]
        point_tip.insert(0, alt.Tooltip("class:N", title="class"))
    else:
        scale = alt.Scale(
            domain=[-bound, bound], domainMid=0, range=DIVERGING, interpolate="lab", clamp=True
        )
        cell_color = alt.Color("value:Q", title="prediction", scale=scale)
        point_color = alt.Color("label:Q", title="prediction", scale=scale)
        cell_extra["stroke"] = cell_color.legend(None)
        cell_tip = [alt.Tooltip("value:Q", title="prediction", format=".3f")]
        point_tip.insert(0, alt.Tooltip("label:Q", title="target", format=".3f"))
    heat = (
        alt.Chart()
        .mark_rect(strokeWidth=0.6)
        .encode(
            x=alt.X("x_lo:Q", title=x_title, scale=axis_scale),
            x2="x_hi:Q",
            y=alt.Y("y_lo:Q", title=y_title, scale=axis_scale),
            y2="y_hi:Q",
            color=cell_color,
            tooltip=cell_tip,
            **cell_extra,
        )
    )
    dots = (
        alt.Chart()
        .mark_point(filled=True, size=36, opacity=1, strokeWidth=1)
        .encode(
            x=alt.X("x1:Q", title=x_title, scale=axis_scale),
            y=alt.Y("x2:Q", title=y_title, scale=axis_scale),
            color=point_color,
            stroke=alt.Stroke(
                "split:N",
                title="points",
                scale=alt.Scale(domain=SPLITS, range=["#ffffff", "#222222"]),
                legend=alt.Legend(symbolFillColor=CALM, symbolStrokeWidth=1.5),
            ),
            tooltip=point_tip,
        )
    )
    return (
        alt.layer(
            heat,
            dots,
            title="Prediction over the input plane"
            if task == "regression"
            else "Decision boundary",
        )
        .resolve_scale(stroke="independent")  # cells: their colour; points: train or test
        .properties(width=BOUNDARY_SIZE, height=BOUNDARY_SIZE)
    )


def boundary_chart(
    grid: dict, points: pd.DataFrame, task: str, class_names: list[str]
) -> alt.LayerChart:
    """The model's output over the input plane as a heatmap, with the data points on top.

    `grid` is what `Run.boundary()` returns; `points` what `points_frame` builds.
    Binary: P(class 1) on an orange-white-blue scale fixed to [0, 1], points coloured by class on
    the same scale. Multi-class: the predicted class's colour, faint where the model is unsure.
    Regression: the prediction on the same diverging scale, symmetric around 0 and sized from the
    targets (fixed for a run, so the spec stays put while the model learns); predictions beyond
    it are clamped. Train points have a white outline, test points a dark one.
    """
    cells = _grid_frame(grid)
    pts = points.copy()
    bound = 1.0
    if task == "multiclass":
        seen = [cells["class_index"].to_numpy(), pts["label"].to_numpy().astype(np.int64)]
        k = max([len(class_names), 2] + [int(s.max()) + 1 for s in seen if len(s)])
        names = _class_names(class_names, k)
        cells["class"] = _named(cells.pop("class_index").to_numpy(), names)
        pts["class"] = _named(pts["label"].to_numpy().astype(np.int64), names)
    elif task == "binary":
        names = _class_names(class_names, 2)
        pts["class"] = _named(pts["label"].to_numpy().astype(np.int64), names)
    else:
        names = []
        labels = pts["label"].to_numpy(dtype=np.float64)
        labels = labels[np.isfinite(labels)]
        bound = _nice_bound(float(np.abs(labels).max()) if len(labels) else 1.0)
    return _with_data(_boundary_skeleton(task, tuple(names), bound), cells, pts)


# ---- inside the network -----------------------------------------------------------------------
@_cache
def _histogram_skeleton(title: str) -> alt.FacetChart:
    bars = (
        alt.Chart()
        .mark_rect(color=TRAIN, stroke="white", strokeWidth=0.3)
        .encode(
            x=alt.X("start:Q", title="value", scale=alt.Scale(zero=False, nice=False)),
            x2="end:Q",
            y=alt.Y("count:Q", title="count"),
            y2=alt.datum(0),
            tooltip=[
                alt.Tooltip("start:Q", title="from", format=".3g"),
                alt.Tooltip("end:Q", title="to", format=".3g"),
                alt.Tooltip("count:Q", title="count", format=",.0f"),
            ],
        )
        .properties(width=HIST_WIDTH, height=HIST_HEIGHT)
    )
    return (
        bars.facet(
            facet=alt.Facet(
                "name:N",
                title=None,
                sort=alt.EncodingSortField(field="layer", op="min", order="ascending"),
                header=alt.Header(labelFontSize=11),
            ),
            columns=HIST_COLUMNS,
            title=title,
            data=pd.DataFrame(),  # a facet chart needs data at its top; replaced on every use
        )
        .resolve_scale(x="independent")
        .resolve_axis(x="independent")
    )


def histogram_chart(
    hist: list[tuple[np.ndarray, np.ndarray]], title: str, layer_labels: list[str] | None = None
) -> alt.FacetChart:
    """One small histogram per layer from pre-counted bins, as `LayerStats.hist_pre/hist_post`.

    `layer_labels` describe the layers (e.g. activation names): the headers read
    'layer 1 · relu'. Each layer has its own x axis; bins with non-finite edges are dropped.
    """
    names = _layer_names(len(hist), layer_labels)
    columns: dict[str, list[np.ndarray]] = {"layer": [], "start": [], "end": [], "count": []}
    for i, (edges, counts) in enumerate(hist):
        edges = np.asarray(edges, dtype=np.float64)
        counts = np.asarray(counts, dtype=np.float64)
        columns["layer"].append(np.full(len(counts), i + 1))
        columns["start"].append(edges[:-1])
        columns["end"].append(edges[1:])
        columns["count"].append(counts)
    data = {k: np.concatenate(v) if v else np.empty(0) for k, v in columns.items()}
    frame = pd.DataFrame(data)
    frame.insert(1, "name", np.asarray(names, dtype=object)[frame["layer"].to_numpy(int) - 1])
    ok = np.isfinite(frame[["start", "end", "count"]].to_numpy(dtype=np.float64)).all(axis=1)
    return _with_data(_histogram_skeleton(title), frame[ok].reset_index(drop=True))


@_cache
def _layer_lines_skeleton(column: str, title: str, log_scale: bool, percent: bool) -> alt.Chart:
    name = _plain(column)
    if log_scale:
        y = alt.Y("value:Q", title=name, scale=alt.Scale(type="log"))
    elif percent:
        y = alt.Y("value:Q", title=name, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"))
    else:
        y = alt.Y("value:Q", title=name)
    return (
        alt.Chart(title=title)
        .mark_line()
        .encode(
            x=_step_x(),
            y=y,
            color=alt.Color("layer:O", title="layer", scale=alt.Scale(scheme=DEPTH_SCHEME)),
            tooltip=[
                alt.Tooltip("step:Q", title="step"),
                alt.Tooltip("layer:O", title="layer"),
                alt.Tooltip("value:Q", title=name, format=".1%" if percent else ".3g"),
            ],
        )
        .properties(width=WIDE, height=HEIGHT)
    )


def layer_lines_chart(
    frame: pd.DataFrame,
    column: str,
    title: str,
    log_scale: bool = False,
    percent: bool = False,
) -> alt.Chart:
    """One line per layer over training steps, coloured from shallow to deep.

    `frame` is long: step, layer, <column> (as `Series.layer_frame` gives it); it is thinned to
    at most 300 steps. Rows with NaN (a measure that does not apply) are dropped, and on a log
    scale so are values <= 0. `percent`: a fraction, drawn on a fixed 0-100 % axis.
    """
    values = frame[column].to_numpy(dtype=np.float64)
    ok = _finite(values, log_scale)
    data = pd.DataFrame(
        {
            "step": frame["step"].to_numpy(dtype=np.float64)[ok],
            "layer": frame["layer"].to_numpy().astype(np.int64)[ok],
            "value": values[ok],
        }
    )
    data = _downsample_steps(data).reset_index(drop=True)
    skeleton = _layer_lines_skeleton(column, title, bool(log_scale), bool(percent))
    return _with_data(skeleton, data)


@_cache
def _share_skeleton(title: str) -> alt.LayerChart:
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(
            x=alt.X(
                "value:Q",
                title="share of units",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            y=alt.Y(
                "name:N",
                title=None,
                sort=alt.EncodingSortField(field="layer", op="min", order="ascending"),
            ),
            color=alt.Color(
                "state:N",
                scale=alt.Scale(domain=["ok", "over"], range=[CALM, WARNING]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("name:N", title="layer"),
                alt.Tooltip("value:Q", title="share", format=".1%"),
            ],
        )
    )
    rule = (
        alt.Chart()
        .mark_rule(color="#222222", strokeDash=[4, 3])
        .encode(
            x=alt.X("threshold:Q"),
            tooltip=[alt.Tooltip("threshold:Q", title="warning above", format=".0%")],
        )
    )
    return alt.layer(bars, rule, title=title).properties(width=WIDE, height=alt.Step(22))


def layer_share_chart(
    values: np.ndarray,
    threshold: float,
    title: str,
    layer_labels: list[str] | None = None,
) -> alt.LayerChart:
    """The current fraction per layer as bars, those above `threshold` in the warning colour.

    Layers whose value is NaN (the measure does not apply to their activation) are left out.
    The threshold is drawn as a rule and travels as data, so changing it keeps the spec.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    names = _layer_names(len(values), layer_labels)
    frame = pd.DataFrame(
        {
            "layer": np.arange(1, len(values) + 1),
            "name": names,
            "value": values,
            "state": np.where(values > threshold, "over", "ok"),
        }
    )
    frame = frame[np.isfinite(values)].reset_index(drop=True)
    rule = pd.DataFrame({"threshold": [float(threshold)]})
    return _with_data(_share_skeleton(title), frame, rule)
