"""Inside the network: per-layer histograms now, and per-layer measurements over training.

Histograms arrive pre-counted from the probes (30 bins a layer, plus, after the activation, the
count of values exactly 0, which ReLU-like units produce in bulk and which would otherwise hide in
the first bin); line charts take the long (step, layer, value) history and colour layers by depth.
"""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from playground.charts.base import (
    CALM,
    HEIGHT,
    HIST_COLUMNS,
    HIST_HEIGHT,
    HIST_WIDTH,
    INK,
    LOG_FLOOR,
    TRAIN,
    WIDE,
    _cache,
    _downsample_steps,
    _finite,
    _layer_names,
    _layer_sort,
    _lone_points,
    _nominal_color,
    _over_steps,
    _plain,
    _step_x,
    _with_data,
    depth_colors,
)

# a fixed colour domain: whether or not any layer has zeros, the spec is the same
HIST_KINDS = ["other values", "exactly 0"]


# ---- histograms -------------------------------------------------------------------------------
@_cache
def _histogram_skeleton(title: str, columns: int, width: int) -> alt.FacetChart:
    """One rect mark for the bins and the exact-zero bar alike, coloured by the rows' kind.

    One mark with no filters or layers: a second, filtered mark per facet cost the browser
    about 15 ms of every refresh (measured with bench/visible_speed.py).
    """
    bars = (
        alt.Chart()
        .mark_rect(stroke="white", strokeWidth=0.3)
        .encode(
            x=alt.X("start:Q", title="value", scale=alt.Scale(zero=False, nice=False)),
            x2="end:Q",
            # square root: a ReLU layer's exact zeros outnumber the rest tenfold and more,
            # and on a linear axis every other bar would be a sliver
            y=alt.Y("count:Q", title="count (√ scale)", scale=alt.Scale(type="sqrt")),
            y2=alt.datum(0),
            color=_nominal_color("kind", HIST_KINDS, [TRAIN, INK]),
            tooltip=[
                alt.Tooltip("range:N", title="values"),
                alt.Tooltip("count:Q", title="count", format=",.0f"),
            ],
        )
        .properties(width=width, height=HIST_HEIGHT)
    )
    return (
        bars.facet(
            facet=alt.Facet(
                "name:N", title=None, sort=_layer_sort(), header=alt.Header(labelFontSize=11)
            ),
            columns=columns,
            title=title,
            data=pd.DataFrame(),  # a facet chart needs data at its top; replaced on every use
        )
        .resolve_scale(x="independent")
        .resolve_axis(x="independent")
    )


def _bins_frame(hist: list[tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """layer, start, end, count: one row per bin, bins with non-finite numbers dropped."""
    columns: dict[str, list[np.ndarray]] = {"layer": [], "start": [], "end": [], "count": []}
    for i, (edges, counts) in enumerate(hist):
        edges = np.asarray(edges, dtype=np.float64)
        counts = np.asarray(counts, dtype=np.float64)
        columns["layer"].append(np.full(len(counts), i + 1))
        columns["start"].append(edges[:-1])
        columns["end"].append(edges[1:])
        columns["count"].append(counts)
    frame = pd.DataFrame({k: np.concatenate(v) if v else np.empty(0) for k, v in columns.items()})
    ok = np.isfinite(frame[["start", "end", "count"]].to_numpy(dtype=np.float64)).all(axis=1)
    return frame[ok].reset_index(drop=True)


def _zero_bar(edges: np.ndarray) -> tuple[float, float]:
    """Where a layer's exact-zero bar goes: one bin wide, beside the bins when 0 is at or past
    an end of their range (ReLU: just left of 0), centred on 0 and drawn over them otherwise."""
    lo, hi = float(edges[0]), float(edges[-1])
    width = (hi - lo) / max(len(edges) - 1, 1)
    if lo >= 0:
        return lo - width, lo
    if hi <= 0:
        return hi, hi + width
    return -width / 2, width / 2


def _zeros_frame(zeros: np.ndarray, hist: list[tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """One 'exactly 0' row for each layer with a positive, finite zero count."""
    counts = np.asarray(zeros, dtype=np.float64).reshape(-1)
    if len(counts) != len(hist):
        raise ValueError(f"zeros has {len(counts)} counts for {len(hist)} layers")
    keep = [i for i in range(len(hist)) if np.isfinite(counts[i]) and counts[i] > 0]
    bars = [_zero_bar(np.asarray(hist[i][0], dtype=np.float64)) for i in keep]
    return pd.DataFrame(
        {
            "layer": np.asarray(keep, dtype=np.int64) + 1,
            "start": [b[0] for b in bars],
            "end": [b[1] for b in bars],
            "count": counts[keep],
        }
    )


def _ranges(frame: pd.DataFrame) -> np.ndarray:
    """The tooltip's words for each bin: 'from .. to ..'."""
    return np.asarray(
        [f"{a:.3g} to {b:.3g}" for a, b in zip(frame["start"], frame["end"])], dtype=object
    )


def histogram_chart(
    hist: list[tuple[np.ndarray, np.ndarray]],
    title: str,
    layer_labels: list[str] | None = None,
    zeros: np.ndarray | None = None,
    columns: int = HIST_COLUMNS,
    width: int = HIST_WIDTH,
) -> alt.FacetChart:
    """One small histogram per layer from pre-counted bins, as `LayerStats.hist_pre/hist_post`.

    `layer_labels` describe the layers (e.g. activation names): the headers read
    'layer 1 · relu'. Each layer has its own x axis; bins with non-finite edges are dropped.
    `zeros`: per layer, how many values were exactly 0 (and left out of the bins); each nonzero
    count is drawn as a dark bar of its own at 0, after the bins so it is drawn over them. The
    rows' `kind` ('other values' or 'exactly 0') picks the colour, so the spec is the same
    whether or not any layer has zeros. `columns`: histograms a row, each `width` px
    wide (two of 115 fit a 390 px phone with their axes).
    """
    frame = _bins_frame(hist)
    frame["kind"] = HIST_KINDS[0]
    frame["range"] = _ranges(frame)
    if zeros is not None:
        zero_rows = _zeros_frame(zeros, hist)
        zero_rows["kind"] = HIST_KINDS[1]
        zero_rows["range"] = "exactly 0"
        frame = pd.concat([frame, zero_rows], ignore_index=True)
    names = np.asarray(_layer_names(len(hist), layer_labels), dtype=object)
    frame.insert(1, "name", names[frame["layer"].to_numpy(int) - 1])
    return _with_data(_histogram_skeleton(title, columns, width), frame)


# ---- per-layer lines --------------------------------------------------------------------------
def _layer_color(n_layers: int) -> alt.Color:
    """Layers from shallow (dark) to deep (light), each layer's colour fixed by its number, so
    a chart missing a layer's data colours the others as every chart does; the legend lists
    the layers in that order, as lines, and takes a column per 10 layers so none is cut."""
    legend = alt.Legend(columns=max(1, -(-n_layers // 10)), symbolLimit=0, symbolType="stroke")
    scale = alt.Scale(domain=list(range(1, n_layers + 1)), range=depth_colors(n_layers))
    return alt.Color("layer:O", title="layer", scale=scale, legend=legend)


@_cache
def _layer_lines_skeleton(column: str, title: str, percent: bool, n_layers: int) -> alt.LayerChart:
    """Linear lines; log-scale ones are `_log_lines_skeleton`, which also draws exact zeros."""
    name = _plain(column)
    if percent:
        y = alt.Y("value:Q", title=name, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"))
    else:
        y = alt.Y("value:Q", title=name)
    color = _layer_color(n_layers)
    tips = [
        alt.Tooltip("layer:O", title="layer"),
        alt.Tooltip("value:Q", title=name, format=".1%" if percent else ".3g"),
    ]
    return _over_steps(title, y, color, tips, series="layer")


# log axes: labels at powers of ten only (the domain is niced to them), plain numbers in the
# middle decades and 1e-5 style outside, never both styles side by side in one range
LOG_LABELS = (
    "abs(log(datum.value) / LN10 - round(log(datum.value) / LN10)) > 0.001 ? '' : "
    "datum.value >= 0.001 && datum.value < 10000 ? format(datum.value, '~g') "
    ": format(datum.value, '.0e')"
)
ZERO_TEXT = "exactly 0"


@_cache
def _log_lines_skeleton(column: str, title: str, n_layers: int) -> alt.LayerChart:
    """Lines on a log scale with exact zeros drawn on a band below the data, labelled as 0.

    A log axis cannot show 0, yet a gradient that collapses to exactly 0 (a layer of dead
    units) is the moment to see: those points sit on the band and the line runs along it.
    """
    name = _plain(column)
    words = f"datum.zero ? '{ZERO_TEXT}' : format(datum.value, '.3g')"  # for the tooltip
    y = alt.Y(
        "value:Q",
        title=name,
        scale=alt.Scale(type="log", nice=True),
        axis=alt.Axis(labelExpr=LOG_LABELS),
    )
    tooltip = [
        alt.Tooltip("step:Q", title="step"),
        alt.Tooltip("layer:O", title="layer"),
        alt.Tooltip("shown:N", title=name),
    ]
    color = _layer_color(n_layers)
    lines = (
        alt.Chart()
        .mark_line()
        .transform_calculate(shown=words)
        .encode(x=_step_x(), y=y, color=color, tooltip=tooltip)
    )
    # encoded like the lines, not sharing encodings with them: the band and its label have
    # their own (the x domain is left to the lines, see _step_x)
    dots = (
        _lone_points("layer", ["step", "value", "zero"], shared=lines.transform)
        .transform_calculate(shown=words)
        .encode(x=_step_x(domain=False), y=y, color=color, tooltip=tooltip)
    )
    visible = alt.Opacity("visible:Q", scale=None)  # 0 without zeros: see layer_lines_chart
    band = alt.Chart().mark_rule(color=CALM, strokeDash=[3, 3]).encode(y="floor:Q", opacity=visible)
    label = (  # at the right end, clear of the first steps' lines
        alt.Chart()
        .mark_text(align="right", baseline="bottom", dy=-2, color=CALM, fontSize=10)
        .encode(x="step:Q", y="floor:Q", text=alt.value(f"{ZERO_TEXT} ↓"), opacity=visible)
    )
    chart = alt.layer(lines, dots, band, label, title=title)
    return chart.properties(width=WIDE, height=HEIGHT)


def _zero_floor(values: np.ndarray) -> float:
    """Where exact zeros go on a log scale: below the decade of the smallest positive value and
    between two ticks (half a power of ten), so no tick label sits on the band."""
    positive = values[np.isfinite(values) & (values > 0)]
    if not len(positive):
        return LOG_FLOOR
    return 0.5 * 10.0 ** (math.floor(math.log10(float(positive.min()))) - 1)


def layer_lines_chart(
    frame: pd.DataFrame,
    column: str,
    title: str,
    log_scale: bool = False,
    percent: bool = False,
) -> alt.LayerChart:
    """One line per layer over training steps, coloured from shallow to deep.

    `frame` is long: step, layer, <column> (as `Series.layer_frame` gives it); it is thinned to
    at most 300 steps. Rows with NaN (a measure that does not apply) are dropped. On a log scale
    exact zeros are drawn on a band a decade below the smallest positive value, marked as 0,
    and negative values (which no measure here takes) are dropped. `percent`: a fraction, drawn
    on a fixed 0-100 % axis.
    """
    values = frame[column].to_numpy(dtype=np.float64)
    zero = values == 0
    ok = _finite(values, log_scale) | (zero if log_scale else False)
    data = pd.DataFrame(
        {
            "step": frame["step"].to_numpy(dtype=np.float64)[ok],
            "layer": frame["layer"].to_numpy().astype(np.int64)[ok],
            "value": values[ok],
        }
    )
    data = _downsample_steps(data).reset_index(drop=True)
    n_layers = int(frame["layer"].max()) if len(frame) else 1
    if not log_scale:
        skeleton = _layer_lines_skeleton(column, title, bool(percent), n_layers)
        return _with_data(skeleton, data, data)
    floor = _zero_floor(data["value"].to_numpy())
    data["zero"] = data["value"].to_numpy() == 0
    data.loc[data["zero"], "value"] = floor
    last = float(data["step"].max()) if len(data) else 1.0
    zeros = bool(data["zero"].any())
    # no zeros: the band is hidden, at the smallest value so that the axis keeps to the data;
    # not left out, as an empty layer makes Vega warn of an infinite extent at every redraw
    at = floor if zeros or not len(data) else float(data["value"].min())
    band = pd.DataFrame({"floor": [at], "step": [max(last, 1.0)], "visible": [float(zeros)]})
    if not len(data):  # nothing to draw at all
        band = band.iloc[:0]
    return _with_data(_log_lines_skeleton(column, title, n_layers), data, data, band, band)
