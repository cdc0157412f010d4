"""The network diagram: inputs, every shown hidden unit and the outputs in columns, linked by
their weights (width for size, blue positive and orange negative, as the TensorFlow Playground
draws them).

For 2-D data each hidden unit is a small image of its own output over the input plane (one PNG
each, not hundreds of marks), on a scale symmetric around 0 and sized by the unit's own largest
output, so a unit's shape shows whatever its range. Dead units are washed grey and marked, a
unit dead from step 0 (its starting weights never let it fire) with another mark than one that
died in training, resting and saturated ones with marks of their own; hovering a unit gives
its state, the step it died at, its bias and mean output, hovering a link its weight.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from playground.charts import heatmap
from playground.charts.base import (
    CALM,
    CLASS_0,
    CLASS_1,
    DIVERGING,
    INK,
    RESTING_COLOUR,
    WARNING,
    WIDE,
    _cache,
    _with_data,
)
from playground.network import (
    DEAD,
    DIED,
    MAX_UNITS,
    RESTING,
    SATURATED,
    STATES,
    NetworkView,
)

UNIT_PX = 26  # a unit's side: at least 24 CSS px, a finger's target
ROW_PX, COLUMN_PX = 34, 96  # the grid the units sit on
# upright (a phone): layers run down the screen, units across; a 390 px screen holds 9 units
UPRIGHT_UNITS, LAYER_PX = 9, 74
# a glyph and a colour per state, so no state is told by colour alone
MARKS = {SATURATED: "≈", RESTING: "z", DIED: "✕", DEAD[1]: "⊘"}
MARK_COLOURS = [CALM, RESTING_COLOUR, WARNING, INK]
PICK = "unit_pick"  # the diagram's selection: a click on a unit chooses it
SELECTED = CLASS_1  # the chosen unit's outline: blue, not the red that marks a unit that died


def _positions(n: int, rows: int) -> np.ndarray:
    """Row positions of `n` shown units, centred in a column `rows` tall."""
    return (rows - n) / 2 + np.arange(n)


def unit_png(values: np.ndarray) -> str:
    """A unit's map as a PNG data URL, on a scale symmetric around 0 sized by its own range."""
    bound = float(np.nanmax(np.abs(values))) or 1.0
    return heatmap.png_url(heatmap.diverging(values, -bound, bound, DIVERGING))


def frames(
    net: NetworkView, most: int = MAX_UNITS
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(units, links, notes): one row per drawn unit (at most `most` a column), per link
    between drawn units, and per column's heading or summary of the units not drawn."""
    sizes = [len(net.inputs), *(layer.width for layer in net.layers), len(net.outputs)]
    shown = [min(n, most) for n in sizes]
    rows = max(shown)
    ys = [_positions(n, rows) for n in shown]
    units = []
    heads = [
        "inputs",
        *(f"{i + 1} · {layer.label}" for i, layer in enumerate(net.layers)),
        "output",
    ]
    summaries = [{"col": col, "y": -0.9, "text": text} for col, text in enumerate(heads)]
    for col, n in enumerate(sizes):
        for u in range(shown[col]):
            units.append(_unit_row(net, col, u, ys[col][u]))
        if n > shown[col]:
            hidden = net.layers[col - 1].state[shown[col] :] if 0 < col <= len(net.layers) else []
            dead = sum(s in DEAD for s in hidden)
            more = f"+{n - shown[col]} more" + (f", {dead} dead" if dead else "")
            summaries.append({"col": col, "y": rows + 0.3, "text": more})
    links = []
    for col, w in enumerate(net.weights):
        for j in range(shown[col + 1]):
            for i in range(shown[col]):
                links.append(
                    {
                        "col": col,
                        "y": ys[col][i],
                        "x2": col + 1,
                        "y2": ys[col + 1][j],
                        "weight": float(w[j, i]),
                        "size": abs(float(w[j, i])),
                        "sign": "positive" if w[j, i] >= 0 else "negative",
                    }  # fmt: skip
                )
    return (
        pd.DataFrame(units),
        pd.DataFrame(links),
        pd.DataFrame(summaries, columns=["col", "y", "text"]),
    )


def _unit_row(net: NetworkView, col: int, u: int, y: float) -> dict:
    row = {"col": col, "y": y, "unit": u + 1, "url": None, "state": "", "mark": "",
           "status": "", "died": None, "bias": None, "mean": None}  # fmt: skip
    if col == 0:
        return {**row, "layer": "input", "name": net.inputs[u]}
    if col > len(net.layers):
        return {**row, "layer": "output", "name": net.outputs[u]}
    layer = net.layers[col - 1]
    state = layer.state[u]
    died = int(layer.died_at[u])
    return {
        **row,
        "layer": f"layer {col} · {layer.label}",
        "name": f"unit {u + 1}",
        "url": unit_png(layer.maps[u]) if layer.maps is not None else None,
        "state": state,
        "mark": MARKS.get(state, ""),
        "status": _status(state, died),
        "died": died if died >= 0 else None,
        "bias": float(layer.bias[u]),
        "mean": float(layer.mean_out[u]),
    }


def _status(state: str, died: int) -> str:
    """A unit's state in words for its tooltip, with the step it died at where it did."""
    if state == DIED and died > 0:
        return f"{state} (dead since step {died:,})"
    return state


def network_chart(net: NetworkView, upright: bool = False) -> alt.LayerChart:
    """The diagram for `net`; its size follows the network's columns and its tallest one.

    `upright` (a phone): the layers run down the screen and each layer's units across, at most
    UPRIGHT_UNITS of them, so a deep network scrolls the way a phone does and every unit keeps
    its full size to be tapped; each layer's heading sits above its row, its summary below."""
    units, links, summaries = frames(net, UPRIGHT_UNITS if upright else MAX_UNITS)
    n_cols = int(units["col"].max()) + 1
    rows = max(int(np.ceil(units["y"].max())) + 1, 1)
    if upright:
        heads = summaries["y"] < 0
        summaries = summaries.assign(
            col=summaries["col"] + np.where(heads, -0.47, 0.47), y=-0.45
        )  # fmt: skip
    skeleton = _skeleton(n_cols, rows, upright)
    return _with_data(skeleton, links, units, units, units, units, summaries, units)


@_cache
def _skeleton(n_cols: int, rows: int, upright: bool = False) -> alt.LayerChart:
    if upright:
        x = alt.X("y:Q", axis=None, scale=alt.Scale(domain=[-0.6, rows - 0.4]))
        y = alt.Y("col:Q", axis=None, scale=alt.Scale(domain=[n_cols - 0.3, -0.7]))
        ends = {"x2": "y2:Q", "y2": "x2:Q"}
    else:
        x = alt.X("col:Q", axis=None, scale=alt.Scale(domain=[-0.5, n_cols - 0.5]))
        y = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[rows + 0.6, -1.4]))
        ends = {"x2": "x2:Q", "y2": "y2:Q"}
    tips = [
        alt.Tooltip("layer:N"),
        alt.Tooltip("name:N", title="unit"),
        alt.Tooltip("status:N", title="state"),
        alt.Tooltip("bias:Q", format=".3f"),
        alt.Tooltip("mean:Q", title="mean output", format=".3f"),
    ]
    links = (
        alt.Chart()
        .mark_rule(opacity=0.55)
        .encode(
            x=x,
            y=y,
            **ends,
            strokeWidth=alt.StrokeWidth("size:Q", scale=alt.Scale(range=[0.3, 4]), legend=None),
            color=alt.Color(
                "sign:N",
                title="weight",
                scale=alt.Scale(domain=["positive", "negative"], range=[CLASS_1, CLASS_0]),
            ),
            tooltip=[alt.Tooltip("weight:Q", format=".3f")],
        )
    )
    boxes = alt.Chart().mark_square(size=UNIT_PX**2, color="white", stroke=INK, strokeWidth=0.8)
    boxes = boxes.encode(x=x, y=y)
    images = (
        alt.Chart()
        .mark_image(width=UNIT_PX - 2, height=UNIT_PX - 2)
        .encode(x=x, y=y, url="url:N")
        .transform_filter("isValid(datum.url)")
    )
    wash = (
        alt.Chart()
        .mark_square(size=UNIT_PX**2, color=CALM, opacity=0.75)
        .encode(x=x, y=y)
        .transform_filter(" || ".join(f"datum.state == '{s}'" for s in DEAD))
    )
    marks = (
        alt.Chart()
        .mark_text(fontSize=16, fontWeight="bold")
        .encode(
            x=x,
            y=y,
            text="mark:N",
            color=alt.Color(
                "state:N",
                title="unit",
                scale=alt.Scale(domain=list(STATES[1:]), range=MARK_COLOURS),
                legend=alt.Legend(symbolType="square"),
            ),
        )
        .transform_filter("datum.mark != ''")
    )
    # the text mark's default size (11 px), which a presenter's config raises to 16
    more = alt.Chart().mark_text(color=INK, align="left" if upright else "center")
    more = more.encode(x=x, y=y, text="text:N")
    # on top of the unit's layers, invisible: what the pointer finds, hovers and clicks
    pick = alt.selection_point(name=PICK, fields=["col", "unit"], on="click", empty=False)
    hits = (
        alt.Chart()
        .mark_square(size=UNIT_PX**2, filled=True, color=INK, fillOpacity=0, strokeWidth=2.5)
        .encode(
            x=x,
            y=y,
            tooltip=tips,
            strokeOpacity=alt.condition(pick, alt.value(1), alt.value(0)),
            stroke=alt.value(SELECTED),
        )
        .add_params(pick)
    )
    view = alt.layer(
        links, boxes, images, wash, marks, more, hits, title="The network, unit by unit"
    )
    view = view.resolve_scale(color="independent")  # weights' signs and units' states apart
    if upright:  # the legends below, where a phone has room
        view = view.configure_legend(orient="bottom", direction="vertical", labelLimit=0)
        return view.properties(width=ROW_PX * rows, height=LAYER_PX * n_cols)
    return view.properties(width=COLUMN_PX * n_cols, height=ROW_PX * (rows + 1))


def unit_histogram_chart(edges: np.ndarray, counts: np.ndarray, title: str) -> alt.LayerChart:
    """A chosen unit's weighted sums over the probe set: left of the line at 0, a ReLU unit
    outputs nothing (all of it there: dead)."""
    frame = pd.DataFrame({"lo": edges[:-1], "hi": edges[1:], "count": counts})
    bars = (
        alt.Chart(frame)
        .mark_bar(color=CALM)
        .encode(
            x=alt.X("lo:Q", title="weighted sum (input to the activation)"),
            x2="hi:Q",
            y=alt.Y("count:Q", title="probe points"),
            y2=alt.datum(0),
            tooltip=[
                alt.Tooltip("lo:Q", format=".3f"),
                alt.Tooltip("hi:Q", format=".3f"),
                "count:Q",
            ],
        )
    )
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color=INK, strokeDash=[4, 3])
    return alt.layer(bars, zero.encode(x="zero:Q"), title=title).properties(width=WIDE, height=160)


def incoming_chart(weights: np.ndarray, names: list[str], title: str) -> alt.Chart:
    """A chosen unit's incoming weights, one bar each, coloured by sign."""
    frame = pd.DataFrame(
        {"from": names, "weight": weights, "sign": np.where(weights >= 0, "positive", "negative")}
    )
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X("weight:Q"),
            y=alt.Y("from:N", sort=None, title=None),
            color=alt.Color(
                "sign:N",
                scale=alt.Scale(domain=["positive", "negative"], range=[CLASS_1, CLASS_0]),
                legend=None,
            ),
            tooltip=["from:N", alt.Tooltip("weight:Q", format=".4f")],
        )
        .properties(width=WIDE, height=alt.Step(18))
    )
