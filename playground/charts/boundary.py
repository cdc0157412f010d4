"""The decision boundary: the model's output over the input plane, with the data on top.

`points_frame` thins the data points (once per dataset); `boundary_chart` lays the model's output
under them as one image whose colours are computed here (`heatmap`), not as a grid of 1,600
rectangles for the browser to draw. Each task gets colour scales fixed by the task and the
targets, never by the predictions, so the spec holds still while the model learns; the points'
colour scale is the map's, so the legend describes both.
"""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from playground.charts import heatmap
from playground.charts.base import (
    BOUNDARY_SIZE,
    CALM,
    CLASS_PALETTE,
    DIVERGING,
    INK,
    SPLITS,
    _cache,
    _thin_index,
    _with_data,
)


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


CONFIDENCE_OPACITY = (0.05, 0.85)  # multi-class: chance level drawn faint, certainty nearly solid


def _map_frame(grid: dict, task: str, n_classes: int, bound: float) -> pd.DataFrame:
    """One row: the map as a PNG data URL and the plane it covers (the cells' outer edges).

    `grid["value"][i, j]` sits at (x[j], y[i]), as `np.meshgrid(x, y)` lays it out.
    """
    value = np.asarray(grid["value"], dtype=np.float64)
    if task == "multiclass":
        palette = [CLASS_PALETTE[i % len(CLASS_PALETTE)] for i in range(n_classes)]
        rgb = heatmap.by_class(grid["class"], value, palette, CONFIDENCE_OPACITY)
    elif task == "binary":
        rgb = heatmap.diverging(value, 0.0, 1.0, DIVERGING)
    else:
        rgb = heatmap.diverging(value, -bound, bound, DIVERGING)
    xe, ye = _cell_edges(grid["x"]), _cell_edges(grid["y"])
    return pd.DataFrame(
        {
            "url": [heatmap.png_url(rgb)],
            "x_lo": [xe[0]],
            "x_hi": [xe[-1]],
            "y_lo": [ye[0]],
            "y_hi": [ye[-1]],
        }
    )


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
    if task == "multiclass":
        palette = [CLASS_PALETTE[i % len(CLASS_PALETTE)] for i in range(len(names))]
        scale = alt.Scale(domain=list(names), range=palette)
        point_color = alt.Color("class:N", title="class", scale=scale)
        point_tip.insert(0, alt.Tooltip("class:N", title="class"))
    elif task == "binary":
        title = f"P({names[1]})"
        scale = alt.Scale(domain=[0, 1], domainMid=0.5, range=DIVERGING, interpolate="lab")
        point_color = alt.Color("label:Q", title=title, scale=scale)
        point_tip.insert(0, alt.Tooltip("class:N", title="class"))
    else:
        scale = alt.Scale(
            domain=[-bound, bound], domainMid=0, range=DIVERGING, interpolate="lab", clamp=True
        )
        point_color = alt.Color("label:Q", title="prediction", scale=scale)
        point_tip.insert(0, alt.Tooltip("label:Q", title="target", format=".3f"))
    image = (
        alt.Chart()
        .mark_image(aspect=False)
        .encode(
            x=alt.X("x_lo:Q", title=x_title, scale=axis_scale),
            x2="x_hi:Q",
            y=alt.Y("y_hi:Q", title=y_title, scale=axis_scale),  # an image hangs from its top
            y2="y_lo:Q",
            url="url:N",
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
                scale=alt.Scale(domain=SPLITS, range=["#ffffff", INK]),
                legend=alt.Legend(symbolFillColor=CALM, symbolStrokeWidth=1.5),
            ),
            tooltip=point_tip,
        )
    )
    return alt.layer(
        image,
        dots,
        title="Prediction over the input plane" if task == "regression" else "Decision boundary",
    ).properties(width=BOUNDARY_SIZE, height=BOUNDARY_SIZE)


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
    pts = points.copy()
    bound = 1.0
    if task == "multiclass":
        seen = [np.asarray(grid["class"]).reshape(-1), pts["label"].to_numpy().astype(np.int64)]
        k = max([len(class_names), 2] + [int(s.max()) + 1 for s in seen if len(s)])
        names = _class_names(class_names, k)
        pts["class"] = _named(pts["label"].to_numpy().astype(np.int64), names)
    elif task == "binary":
        names = _class_names(class_names, 2)
        pts["class"] = _named(pts["label"].to_numpy().astype(np.int64), names)
    else:
        names = []
        labels = pts["label"].to_numpy(dtype=np.float64)
        labels = labels[np.isfinite(labels)]
        bound = _nice_bound(float(np.abs(labels).max()) if len(labels) else 1.0)
    cells = _map_frame(grid, task, len(names), bound)
    return _with_data(_boundary_skeleton(task, tuple(names), bound), cells, pts)
