"""The decision boundary: the model's output over the input plane, with the data on top.

`data.points_frame` thins the data points (once per dataset); `boundary_chart` lays the
model's output under them as one image whose colours are computed here (`heatmap`), not as a
grid of 1,600 rectangles for the browser to draw. Each task gets colour scales fixed by the
task and the targets, never by the predictions, so the spec holds still while the model
learns; the points' colour scale is the map's, so the legend describes both.

Hovering the map outlines the cell under the pointer and labels it with the output there, for
well under a millisecond of the page's time a refresh (measured in headless Chromium, where the
map takes 6 to 11): invisible blocks of 4 x 4 cells pick the block under the pointer and only
that block's 16 cells are laid over it to pick the cell. Their rows never change for a run, so
the page finds their bytes unchanged and leaves them alone; the label takes the cell's entry
from one string of every cell's label in the map's own row, not from 1,600 rows to ingest.
The plane's extent is written into the spec (fixed for a run, as the grid and the points are):
an extent fitted by the renderer is refitted whenever any layer's data change, and every mark on
the axes, the points included, is then encoded anew.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

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
    _with_data,
)


def _cell_edges(axis: np.ndarray) -> np.ndarray:
    """Edges of the cells centred on the grid axis: midpoints inside, half a step outside."""
    axis = np.asarray(axis, dtype=np.float64)
    if len(axis) == 1:
        return np.array([axis[0] - 0.5, axis[0] + 0.5])
    mid = (axis[1:] + axis[:-1]) / 2
    return np.concatenate([[2 * axis[0] - mid[0]], mid, [2 * axis[-1] - mid[-1]]])


CONFIDENCE_OPACITY = (0.05, 0.85)  # multi-class: chance level drawn faint, certainty nearly solid
HOVER, BLOCK = "hover", "hover_block"  # the selections of the cell and the block under the pointer
BLOCK_CELLS = 4  # a block is 4 x 4 cells: 100 blocks for the 40 x 40 map
SEP = "\n"  # between the cells' labels in the map's row (a class name holds none)


@_cache
def _hover_frames(x: tuple[float, ...], y: tuple[float, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hover's cells and blocks for a grid with these axes: made once a run (the grid is
    fixed for a dataset), so the page gets the same bytes at every refresh."""
    cells = _cells_frame(np.asarray(x), np.asarray(y))
    return cells, _blocks_frame(cells)


def _cells_frame(x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """One row per cell of the grid on axes `x`, `y`, in the order of its values: cell (its
    index), block (the index of the block of cells it lies in) and its four edges."""
    xe, ye = _cell_edges(x), _cell_edges(y)
    nx, ny = len(xe) - 1, len(ye) - 1
    edges = {
        "x_lo": np.tile(xe[:-1], ny),
        "x_hi": np.tile(xe[1:], ny),
        "y_lo": np.repeat(ye[:-1], nx),
        "y_hi": np.repeat(ye[1:], nx),
    }
    frame = pd.DataFrame({k: v.astype(np.float32) for k, v in edges.items()})
    row, column = np.divmod(np.arange(nx * ny), nx)
    block = (row // BLOCK_CELLS) * -(-nx // BLOCK_CELLS) + column // BLOCK_CELLS
    frame.insert(0, "block", block.astype(np.int32))
    frame.insert(0, "cell", np.arange(nx * ny, dtype=np.int32))
    return frame


def _blocks_frame(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per block of `cells`: block and the edges of the cells it holds."""
    edges = cells.groupby("block", sort=True)
    return pd.DataFrame(
        {
            "block": np.asarray(list(edges.groups), dtype=np.int32),
            "x_lo": edges["x_lo"].min().to_numpy(),
            "x_hi": edges["x_hi"].max().to_numpy(),
            "y_lo": edges["y_lo"].min().to_numpy(),
            "y_hi": edges["y_hi"].max().to_numpy(),
        }
    )


def _readings(grid: dict, task: str, names: list[str]) -> dict[str, str | int]:
    """Every cell's label (the output at the cell's centre, the grid point) in one string, in
    grid order and split by SEP, and where the labels go: the cells' centres along x (columns)
    and their top edges (one a row). Not a row per cell: the page would ingest 1,600 rows at
    every refresh (5 ms of its time in headless Chromium) for a label shown for one at most."""
    value = np.asarray(grid["value"], dtype=np.float64).reshape(-1).tolist()
    if task == "multiclass":
        plain = [k.replace(SEP, " ") for k in names]
        classes = np.asarray(grid["class"]).reshape(-1).tolist()
        labels = [f"{plain[k]} ({p:.0%})" for k, p in zip(classes, value, strict=True)]
    elif task == "binary":
        labels = [f"{p:.2f}" for p in value]
    else:
        labels = [f"{p:.3f}".replace("-", "\u2212") for p in value]  # a minus sign, as d3 writes
    tops = _cell_edges(grid["y"])[1:]
    return {
        "readings": SEP.join(labels),
        "columns": len(grid["x"]),
        "centres": SEP.join(f"{c:.9g}" for c in np.asarray(grid["x"], dtype=np.float64)),
        "tops": SEP.join(f"{t:.9g}" for t in tops),
    }


def _plane(grid: dict, points: pd.DataFrame) -> tuple[tuple[float, float], tuple[float, float]]:
    """The x and y extents of the cells and the points together: the axes' fixed domains."""
    extents = []
    for axis, column in ((grid["x"], "x1"), (grid["y"], "x2")):
        values = np.concatenate([_cell_edges(axis)[[0, -1]], points[column].to_numpy(np.float64)])
        values = values[np.isfinite(values)]
        extents.append((float(values.min()), float(values.max())))
    return extents[0], extents[1]


def _decided(value: np.ndarray, task: str, bound: float) -> np.ndarray:
    """The colour values of a discretised map: the decision, drawn as sure as it can be."""
    if task == "multiclass":
        return np.ones_like(value)
    if task == "binary":
        return (value >= 0.5).astype(np.float64)
    return np.sign(value) * bound


def _map_frame(
    grid: dict, task: str, names: list[str], bound: float, discrete: bool = False
) -> pd.DataFrame:
    """One row: the map as a PNG data URL, the plane it covers (the cells' outer edges) and
    the cells' hover labels (`_readings`, the output itself even on a discretised map).

    `grid["value"][i, j]` sits at (x[j], y[i]), as `np.meshgrid(x, y)` lays it out.
    """
    value = np.asarray(grid["value"], dtype=np.float64)
    if discrete:
        value = _decided(value, task, bound)
    if task == "multiclass":
        palette = [CLASS_PALETTE[i % len(CLASS_PALETTE)] for i in range(len(names))]
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
            **{k: [v] for k, v in _readings(grid, task, names).items()},
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


def _hover_layers(
    prefix: str, x: Callable[[str], alt.X], y: Callable[[str], alt.Y]
) -> tuple[list[alt.Chart], list[alt.Chart]]:
    """The layers that pick the block and then the cell under the pointer (to go under the
    points; the hovered cell is outlined), and the label, `prefix` and the cell's reading (over
    them). The label has neither selection nor tooltip, so Vega-Lite leaves it out of picking;
    a data point names no cell, so over a point the label goes and its own tooltip shows.
    """
    box = {"x": x("x_lo"), "x2": "x_hi:Q", "y": y("y_lo"), "y2": "y_hi:Q"}
    # one cell and block at a time, shift held or not; the block stays when the pointer
    # leaves it for one of its cells, the cell goes with the pointer
    block = alt.selection_point(
        name=BLOCK, on="pointerover", fields=["block"], empty=False, toggle=False
    )
    hover = alt.selection_point(
        name=HOVER, on="pointerover", clear="pointerout", fields=["cell"], empty=False, toggle=False
    )
    blocks = alt.Chart(name="blocks").mark_rect(opacity=0).encode(**box).add_params(block)
    cells = (
        alt.Chart(name="cells")
        .mark_rect(fillOpacity=0, stroke=INK, strokeWidth=1.5)
        .encode(**box, strokeOpacity=alt.condition(hover, alt.value(1), alt.value(0)))
        .transform_filter(block)
        .add_params(hover)
    )
    label = (
        alt.Chart()
        .transform_filter(f"isValid({HOVER}.cell)")
        .transform_calculate(
            k=f"{HOVER}.cell[0]",
            reading=f"{json.dumps(prefix)} + split(datum.readings, {json.dumps(SEP)})[datum.k]",
            at_x=f"toNumber(split(datum.centres, {json.dumps(SEP)})[datum.k % datum.columns])",
            at_y=f"toNumber(split(datum.tops, {json.dumps(SEP)})[floor(datum.k / datum.columns)])",
        )
        .encode(x=x("at_x"), y=y("at_y"), text="reading:N")  # centred just above the cell
    )
    font = {"baseline": "bottom", "dy": -3, "fontSize": 11, "fontWeight": "bold"}
    halo = label.mark_text(**font, fill="white", stroke="white", strokeWidth=3, strokeJoin="round")
    return [blocks, cells], [halo, label.mark_text(**font, fill=INK)]


@_cache
def _boundary_skeleton(
    task: str,
    names: tuple[str, ...],
    bound: float,
    x_lim: tuple[float, float],
    y_lim: tuple[float, float],
) -> alt.LayerChart:
    x_title, y_title = "feature 1", "feature 2"

    def x(field: str) -> alt.X:
        return alt.X(f"{field}:Q", title=x_title, scale=alt.Scale(domain=list(x_lim), nice=False))

    def y(field: str) -> alt.Y:
        return alt.Y(f"{field}:Q", title=y_title, scale=alt.Scale(domain=list(y_lim), nice=False))

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
        prefix = ""  # the reading names the class
    elif task == "binary":
        title = f"P({names[1]})"
        scale = alt.Scale(domain=[0, 1], domainMid=0.5, range=DIVERGING, interpolate="lab")
        point_color = alt.Color("label:Q", title=title, scale=scale)
        point_tip.insert(0, alt.Tooltip("class:N", title="class"))
        prefix = f"{title} = "
    else:
        scale = alt.Scale(
            domain=[-bound, bound], domainMid=0, range=DIVERGING, interpolate="lab", clamp=True
        )
        point_color = alt.Color("label:Q", title="prediction", scale=scale)
        point_tip.insert(0, alt.Tooltip("label:Q", title="target", format=".3f"))
        prefix = "prediction = "
    image = (
        alt.Chart()
        .mark_image(aspect=False)
        .encode(x=x("x_lo"), x2="x_hi:Q", y=y("y_hi"), y2="y_lo:Q", url="url:N")  # hung by its top
    )
    dots = (
        alt.Chart()
        .mark_point(filled=True, size=36, opacity=1, strokeWidth=1)
        .encode(
            x=x("x1"),
            y=y("x2"),
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
    pickers, readout = _hover_layers(prefix, x, y)
    return alt.layer(
        image,
        *pickers,
        dots,
        *readout,
        title="Prediction over the input plane" if task == "regression" else "Decision boundary",
    ).properties(width=BOUNDARY_SIZE, height=BOUNDARY_SIZE)


def boundary_chart(
    grid: dict,
    points: pd.DataFrame,
    task: str,
    class_names: list[str],
    show_test: bool = True,
    discrete: bool = False,
) -> alt.LayerChart:
    """The model's output over the input plane as a heatmap, with the data points on top.

    `grid` is what `Run.boundary()` returns; `points` what `data.points_frame` builds.
    Binary: P(class 1) on an orange-white-blue scale fixed to [0, 1], points coloured by class on
    the same scale. Multi-class: the predicted class's colour, faint where the model is unsure.
    Regression: the prediction on the same diverging scale, symmetric around 0 and sized from the
    targets (fixed for a run, so the spec stays put while the model learns); predictions beyond
    it are clamped. Train points have a white outline, test points a dark one (`show_test`
    False leaves them out). `discrete` colours by the decision alone: the class at full
    strength, or the sign of a prediction. Hovering a cell outlines it and labels it with the
    output there, as in `grid`, discretised or not.
    """
    pts = points if show_test else points[points["split"] == "train"]
    pts = pts.copy()
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
    skeleton = _boundary_skeleton(task, tuple(names), bound, *_plane(grid, pts))
    image = _map_frame(grid, task, names, bound, discrete)
    axes = (tuple(np.asarray(grid[k], dtype=np.float64).tolist()) for k in ("x", "y"))
    cells, blocks = _hover_frames(*axes)
    return _with_data(skeleton, image, blocks, cells, pts, image, image)
