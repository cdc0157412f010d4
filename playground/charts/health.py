"""Unit health now: the share of dead, resting or saturated units per layer, against a line.

A bar per layer, in the warning colour above the threshold. For dead units the bar can be split
in two, units dead at every probe since step 0 (solid) and units that died in training (faded):
the first points at the initialisation, the second at training (most often the learning
rate). Colour keeps meaning "over the line" either way, and the split rides on opacity, which
reads without hue vision.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from playground.charts.base import (
    CALM,
    INK,
    WARNING,
    WIDE,
    _cache,
    _layer_names,
    _layer_sort,
    _with_data,
)

PARTS = ["dead from step 0", "died in training"]  # stacked in this order, from the axis out
FADED = 0.45  # opacity of the "died in training" part


def _share_tooltip(split: bool) -> list[alt.Tooltip]:
    tips = [
        alt.Tooltip("name:N", title="layer"),
        alt.Tooltip("value:Q", title="share", format=".1%"),
    ]
    if split:
        tips += [
            alt.Tooltip("from_start:Q", title=PARTS[0], format=".1%"),
            alt.Tooltip("in_training:Q", title=PARTS[1], format=".1%"),
        ]
    return tips


def _share_bars(split: bool) -> alt.Chart:
    """The bars; split ones stack `share` by part, drawn solid then faded."""
    x = alt.X(
        "share:Q" if split else "value:Q",
        title="share of units",
        scale=alt.Scale(domain=[0, 1]),
        axis=alt.Axis(format="%"),
    )
    encoding = {
        "y": alt.Y("name:N", title=None, sort=_layer_sort()),
        "color": alt.Color(
            "state:N",
            scale=alt.Scale(domain=["ok", "over"], range=[CALM, WARNING]),
            legend=None,
        ),
        "tooltip": _share_tooltip(split),
    }
    if not split:
        return alt.Chart().mark_bar().encode(x=x, **encoding)
    opacity = alt.Opacity(
        "part:N",
        title=None,
        scale=alt.Scale(domain=PARTS, range=[1.0, FADED]),
        legend=alt.Legend(
            orient="bottom", direction="vertical", symbolType="square", symbolFillColor=INK
        ),
    )
    return (
        alt.Chart()
        .mark_bar(stroke="white", strokeWidth=1)  # a seam between the two parts
        .encode(x=x.stack("zero"), opacity=opacity, order=alt.Order("order:Q"), **encoding)
    )


@_cache
def _share_skeleton(title: str, split: bool) -> alt.LayerChart:
    rule = (
        alt.Chart()
        .mark_rule(color=INK, strokeDash=[4, 3])
        .encode(
            x=alt.X("threshold:Q"),
            tooltip=[alt.Tooltip("threshold:Q", title="warning above", format=".0%")],
        )
    )
    # the line named where it stands: above the bars, so it never covers one
    said = (
        alt.Chart()
        .mark_text(align="left", baseline="bottom", dx=3, color=INK)  # presenting: 16 px
        .encode(x=alt.X("threshold:Q"), y=alt.value(0), text=alt.Text("label:N"))
    )
    chart = alt.layer(_share_bars(split), rule, said, title=title)
    return chart.properties(width=WIDE, height=alt.Step(22))


def _split_rows(frame: pd.DataFrame, from_start: np.ndarray) -> pd.DataFrame:
    """Two rows per layer, 'dead from step 0' then 'died in training', their lengths in `share`.

    `from_start` is clipped to [0, value], NaN counting as 0, so the two parts add up to the bar.
    """
    start = np.clip(np.nan_to_num(from_start), 0.0, frame["value"].to_numpy())
    frame = frame.assign(from_start=start, in_training=frame["value"].to_numpy() - start)
    parts = [
        frame.assign(part=part, order=k, share=frame[column])
        for k, (part, column) in enumerate(zip(PARTS, ["from_start", "in_training"], strict=True))
    ]
    return pd.concat(parts).sort_values(["layer", "order"], kind="stable").reset_index(drop=True)


def layer_share_chart(
    values: np.ndarray,
    threshold: float | None,
    title: str,
    layer_labels: list[str] | None = None,
    from_start: np.ndarray | None = None,
) -> alt.LayerChart:
    """The current fraction per layer as bars, those above `threshold` in the warning colour.

    Layers whose value is NaN (the measure does not apply to their activation) are left out.
    The threshold is drawn as a rule and travels as data, so changing it keeps the spec; None
    draws no rule and no warning (resting units are not a fault).
    `from_start` (per layer, at most `values`): the share dead at every probe since step 0; each
    bar is then split into that part and the part that died in training, in two rows per layer.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    frame = pd.DataFrame(
        {
            "layer": np.arange(1, len(values) + 1),
            "name": _layer_names(len(values), layer_labels),
            "value": values,
            "state": np.where(values > (np.inf if threshold is None else threshold), "over", "ok"),
        }
    )
    ok = np.isfinite(values)
    frame = frame[ok].reset_index(drop=True)
    split = from_start is not None
    if split:
        starts = np.asarray(from_start, dtype=np.float64).reshape(-1)
        if len(starts) != len(values):
            raise ValueError(f"from_start has {len(starts)} shares for {len(values)} layers")
        frame = _split_rows(frame, starts[ok])
    rule = pd.DataFrame(
        {"threshold": [] if threshold is None else [float(threshold)],
         "label": [] if threshold is None else [f"warning {threshold:.0%}"]}
    )  # fmt: skip
    return _with_data(_share_skeleton(title, split), frame, rule, rule)
