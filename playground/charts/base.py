"""What every chart shares: the palette, the spec cache, thinning, and the hand-off to a renderer.

Every builder is written for a live page that redraws a few times a second:

- the spec holds no numbers that move with the data: titles are fixed words, scales either have
  a fixed domain (accuracy, fractions, P(class 1), the map's plane for a run) or let the
  renderer fit the data, so between two updates only the datasets differ and the browser can
  swap them in place;
- series are thinned to a few hundred points (`downsample`) and histograms arrive pre-counted;
- one small palette is shared by all charts: the TensorFlow Playground's orange and blue for
  classes, a blue and a red for train and test, a dark-to-light ramp for depth;
- a line chart also draws the point of a series that has a single row, which a line mark
  cannot show (at step 0 and after Reset): the renderer counts the rows, not the spec.

The view modules (curves, boundary, layers, health) build on the helpers here and on nothing else.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from playground.charts import heatmap
from playground.history import thin_index

# ---- palette ----------------------------------------------------------------------------------
CLASS_0 = "#f59322"  # the TensorFlow Playground's orange (its negative class)
CLASS_1 = "#0877bd"  # and its blue (the positive class)
NEUTRAL = "#e8eaeb"  # the middle of the diverging scale: undecided
TRAIN = "#3a6ea5"
TEST = "#d1495b"
WARNING = "#d1495b"
CALM = "#9aa5b1"
RESTING_COLOUR = "#2a9d8f"  # a resting unit: still learning, so neither warning nor grey
INK = "#222222"  # rules, outlines and the exact-zero bin: dark enough to read on any fill
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
# layers from shallow to deep: equal CIEDE2000 steps along a path of rising lightness (L* 26 to
# 76) whose hue turns from plum through blue, teal and green to orange, as saturated as sRGB
# allows. At 12 layers neighbours are 11 or more apart, where viridis gave 6: see depth_colors
DEPTH_COLORS = [
    "#77005b",
    "#603599",
    "#1d52b5",
    "#007396",
    "#008e87",
    "#00a55c",
    "#86ac35",
    "#cbab39",
    "#ffa55c",
]
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
    "dead_from_start_fraction": "units dead from step 0",
    "saturated_fraction": "saturated units",
    "resting_fraction": "resting units",
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


def depth_colors(n: int) -> list[str]:
    """One colour per layer, evenly along `DEPTH_COLORS` from its dark end to its light end.

    Computed here, not left to a Vega scheme, so that layer k has the same colour in every
    chart of a network whichever layers a chart happens to have data for.
    """
    return heatmap.lab_ramp(DEPTH_COLORS, n)


def _layer_sort() -> alt.EncodingSortField:
    """Layers in depth order by their number: 'layer 10' after 'layer 9', not after 'layer 1'."""
    return alt.EncodingSortField(field="layer", op="min", order="ascending")


# ---- thinning ---------------------------------------------------------------------------------


def downsample(frame: pd.DataFrame, max_rows: int = 400) -> pd.DataFrame:
    """Evenly thinned rows (the first and the last always kept), at most `max_rows`."""
    if len(frame) <= max_rows:
        return frame.reset_index(drop=True)
    return frame.iloc[thin_index(len(frame), max_rows)].reset_index(drop=True)


def _downsample_steps(frame: pd.DataFrame, max_steps: int = MAX_STEPS) -> pd.DataFrame:
    """Thin a long (step, layer, ...) frame by step, keeping every layer of each kept step."""
    steps = frame["step"].to_numpy()
    unique = np.unique(steps)
    if len(unique) <= max_steps:
        return frame
    keep = unique[thin_index(len(unique), max_steps)]
    return frame[np.isin(steps, keep)]


def _finite(values: np.ndarray, log_scale: bool) -> np.ndarray:
    """Mask of values a chart can draw: finite, and positive on a log scale."""
    ok = np.isfinite(values)
    if log_scale:
        ok &= values > 0
    return ok


# ---- shared encodings -------------------------------------------------------------------------
def _nominal_color(field: str, domain: list[str], colors: list[str]) -> alt.Color:
    """A colour per category from a fixed domain, legend on top: the same whatever the data."""
    return alt.Color(
        f"{field}:N",
        title=None,
        scale=alt.Scale(domain=domain, range=colors),
        legend=alt.Legend(orient="top"),
    )


def _split_color() -> alt.Color:
    """Train and test, their legend drawn as lines (the lines' dots would make it circles)."""
    legend = alt.Legend(orient="top", symbolType="stroke")
    return _nominal_color("split", SPLITS, [TRAIN, TEST]).legend(legend)


def _step_x(domain: bool = True) -> alt.X:
    """Training steps. `domain=False` for a second layer on the axis, which leaves the domain to
    the first: two would make Vega-Lite warn of a conflict when the chart is drawn."""
    # at least steps 0 to 1: a lone point at step 0 (a new run, after Reset) would otherwise
    # give an empty domain, which the axis labels "NaN"
    scale = alt.Scale(domain={"unionWith": [0, 1]}, nice=False) if domain else alt.Undefined
    # 12k, not 12,000.000000 or fractions; about 8 labels whatever the chart's width
    axis = alt.Axis(format="~s", tickMinStep=1, tickCount=8, labelOverlap=True)
    return alt.X("step:Q", title="training step", scale=scale, axis=axis)


LONE_POINT_SIZE = 40  # area in px²: a dot a little wider than a line is thick


def _lone_points(series: str, fields: list[str], shared: list[Any] | None = None) -> alt.Chart:
    """A layer of dots, one a series (by `series`), shown only where the series has one row:
    at that row (each of its `fields` is the series' mean); it encodes nothing else.

    A line through one point draws nothing, so at step 0 and right after Reset every line chart
    would look empty. The renderer counts the rows, so the spec does not change as the series
    grow. A dot a series, hidden rather than filtered out: a layer left empty makes Vega warn of
    an infinite extent at every redraw, which cost 2 ms a chart in headless Chromium; a hidden
    dot, at the means, stays inside the lines' extent. Means, not the first row (argmin) or
    least values, which the renderer keeps every value for: 1-2 ms a redraw at 12 layers.
    `shared`: the lines' own transforms, done first here too, so the renderer does them once
    for both layers (it gives a layer whose first step differs a copy of every row).
    """
    only = alt.Scale(domain=[1, 2], range=[1, 0], clamp=True)  # one row: 1, more: 0
    means = {f: f"mean({f})" for f in fields}
    return (
        alt.Chart(transform=shared or alt.Undefined)
        .mark_point(filled=True, size=LONE_POINT_SIZE, opacity=1)  # the legend's; dots: rows
        .transform_aggregate(rows="count()", **means, groupby=[series])
        .encode(
            opacity=alt.Opacity("rows:Q", scale=only, legend=None),
            # and no size: a hidden dot must not catch the pointer and show a tooltip
            size=alt.Size(
                "rows:Q",
                scale=alt.Scale(domain=[1, 2], range=[LONE_POINT_SIZE, 0], clamp=True),
                legend=None,
            ),
        )
    )


def _over_steps(
    title: str, y: alt.Y, color: alt.Color, tips: list[alt.Tooltip], series: str
) -> alt.LayerChart:
    """Lines over training steps (step, value, `series`), with `_lone_points`, full width: what
    every curve and per-layer line shares.

    The two layers share their encodings, set once at the top, so a dot reads as its line and
    Vega-Lite has no two definitions of a scale or legend to reconcile; all but x, where only
    the lines set the domain (see `_step_x`).
    """
    lines = alt.Chart().mark_line().encode(x=_step_x())
    dots = _lone_points(series, ["step", "value"]).encode(x=_step_x(domain=False))
    tooltip = [alt.Tooltip("step:Q", title="step"), *tips]
    return (
        alt.layer(lines, dots)
        .encode(y=y, color=color, tooltip=tooltip)
        .properties(title=title, width=WIDE, height=HEIGHT)
    )


# ---- spec reuse -------------------------------------------------------------------------------
# A chart's spec depends only on a few settings (task, scale type, title), its data on the run.
# Each builder therefore takes a skeleton built once per settings (cached below) and attaches
# the new data to a shallow copy, and `vega_spec` fills the new data's names into the skeleton's
# spec, made once: a fraction of a millisecond instead of 1-15 ms of Altair object building and
# conversion on every redraw, and the spec is the same by construction. Treat returned charts as
# immutable: derive with Altair's methods (`.properties(...)` and the like return copies), never
# assign into `chart.encoding`, which the copies share with the cached skeleton.
_cache = functools.lru_cache(maxsize=64)


def _shallow(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """A copy of an Altair object that shares its parts but has its own attribute table.

    Not `chart.copy(deep=False)`, which runs the class's constructor: a layer chart's deep-copies
    every layer to lift their parameters, 1-4 ms a chart at every redraw.
    """
    out = object.__new__(type(chart))
    out.__dict__.update(chart.__dict__, _kwds=dict(chart._kwds))
    return out


def _with_data(skeleton: alt.TopLevelMixin, *frames: pd.DataFrame) -> alt.TopLevelMixin:
    """A shallow copy of `skeleton` with `frames` as its data (one per layer for layer charts).

    The copy keeps the skeleton and the frames, which is all `vega_spec` needs.
    """
    out = _shallow(skeleton)
    if isinstance(skeleton, alt.LayerChart):
        layers = [_shallow(layer) for layer in skeleton.layer]
        for layer, frame in zip(layers, frames, strict=True):
            layer.data = frame
        out.layer = layers
    else:
        (out.data,) = frames
    out.__dict__["_filled"] = (skeleton, frames)  # past SchemaBase.__setattr__: not in the spec
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


def _template(skeleton: alt.TopLevelMixin) -> str:
    """The skeleton's spec as JSON, its data references left to fill in; made once a skeleton."""
    template = skeleton.__dict__.get("_template")
    if template is None:
        n = len(skeleton.layer) if isinstance(skeleton, alt.LayerChart) else 1
        # a name per layer, so that Altair does not lift data the layers seem to share
        placeholders = [alt.NamedData(name=f"layer{k}") for k in range(n)]
        with _spec_lock, alt.theme.enable("none"):
            spec = _with_data(skeleton, *placeholders).to_dict(validate=False)
        template = skeleton.__dict__["_template"] = json.dumps(spec)
    return template


def stacked(specs: list[dict[str, Any]], spacing: int = 16) -> dict[str, Any]:
    """Charts from `vega_spec` as one view, one above the other, each keeping its own data.

    One view instead of several because each element a live fragment redraws costs the page
    a re-render of its own (about 25 ms of the browser's main thread per chart at 2 Hz,
    measured with bench/chart_cost.py), whatever the chart draws. The datasets are renamed
    per chart (`c0_frame0`, ...), so two charts' frame0 stay apart.
    """
    views, datasets = [], {}
    for i, spec in enumerate(specs):
        view = {k: v for k, v in spec.items() if k not in ("$schema", "datasets", "config")}
        renamed = {name: f"c{i}_{name}" for name in spec.get("datasets", {})}
        for part in [view, *view.get("layer", [])]:
            if "data" in part:
                part["data"] = {"name": renamed[part["data"]["name"]]}
        datasets.update({renamed[name]: frame for name, frame in spec.get("datasets", {}).items()})
        views.append(view)
    out: dict[str, Any] = {"vconcat": views, "spacing": spacing, "datasets": datasets}
    # fit the container's width: Streamlit leaves a vconcat of layered views unfitted
    out["autosize"] = {"type": "fit-x", "contains": "padding"}
    if "$schema" in specs[0]:
        out["$schema"] = specs[0]["$schema"]
    return out


def vega_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart as a Vega-Lite dict with its frames under `datasets`, named frame0, frame1, ...

    Why not hand the Altair object to the UI: converting it there validates the whole spec
    against the Vega-Lite schema on every redraw (most of the page's CPU time at a few redraws a
    second), and names each dataset by a hash of its contents, so the spec text changes with the
    data. Here the skeletons are validated once (by the tests), dataset names are stable, and the
    frames stay frames for the renderer to serialise. A chart from `_with_data` is its
    skeleton's spec with the frames' names filled in; any other chart goes through Altair.
    """
    if "_filled" not in chart.__dict__:
        store: dict[int, tuple[str, Any]] = {}
        with (
            _spec_lock,
            alt.theme.enable("none"),
            alt.data_transformers.enable("playground_named", store=store),
        ):
            spec = chart.to_dict(validate=False)
        spec["datasets"] = {name: frame for name, frame in store.values()}
        return spec
    skeleton, frames = chart.__dict__["_filled"]
    spec = json.loads(_template(skeleton))  # a fresh dict: the caller may change it
    names: dict[int, str] = {}
    for frame in frames:
        names.setdefault(id(frame), f"frame{len(names)}")
    views = spec.get("layer", [spec])
    if len(names) == 1:  # one frame for all: at the top, where Altair puts data layers share
        for view in views:
            view.pop("data")
        spec["data"] = {"name": "frame0"}
    else:
        for view, frame in zip(views, frames, strict=True):
            view["data"] = {"name": names[id(frame)]}
    spec["datasets"] = {names[id(frame)]: frame for frame in frames}
    return spec
