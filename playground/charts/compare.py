"""The Compare page's race: one line per variant (its median over seeds) in a band (min to max).

A band shows what one curve cannot: whether a variant wins on every seed or only on a lucky
one. Variants keep their order and colour across every chart of a comparison, so "GELU" is the
same colour in the loss, the accuracy and the dead-unit charts.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from playground.charts.base import CLASS_PALETTE, HEIGHT, LOG_FLOOR, WIDE, _cache, _with_data

# sixteen variants at most: the Playground's ten, then six more that stay apart from them
VARIANT_COLORS = [*CLASS_PALETTE, "#1b9e77", "#7570b3", "#a6761d", "#666666", "#e7298a", "#17becf"]
BAND_OPACITY = 0.18


def variant_colors(n: int) -> list[str]:
    return [VARIANT_COLORS[i % len(VARIANT_COLORS)] for i in range(n)]


# variants a legend row holds before it wraps: two long names ("ReLU, He init (lr 1.0)") fit
# beside each other in a half-width chart even at a projector's 16 px
LEGEND_COLUMNS = 2
CAP_FACTOR = 3.0  # a linear band's top, as a multiple of the largest median: see _drawn_band
X_AXES = {  # the band's x: training steps, or depth for a by-layer profile
    # at least steps 0 to 1: at step 0 a lone probe gave an empty domain, which reads "NaN"
    "step": alt.X(
        "step:Q",
        title="training step",
        scale=alt.Scale(domain={"unionWith": [0, 1]}, nice=False),
        axis=alt.Axis(format="~s", tickMinStep=1, tickCount=8, labelOverlap=True),
    ),
    "layer": alt.X("layer:Q", title="hidden layer", axis=alt.Axis(format="d", tickMinStep=1)),
}


@_cache
def _band_skeleton(
    title: str, y_title: str, fmt: str, variants: tuple[str, ...], scale: str, over: str
) -> alt.LayerChart:
    """The band and the median line of each variant; the y scale: "log", "share" (0 to 1),
    "unit" (at most 1: R², whose low end follows the data) or "linear"."""
    color = alt.Color(
        "variant:N",
        title=None,
        sort=list(variants),
        scale=alt.Scale(domain=list(variants), range=variant_colors(len(variants))),
        # every name whole: a legend of many variants wraps into rows instead of cutting off
        legend=alt.Legend(
            orient="top",
            columns=len(variants) if len(variants) <= 3 else LEGEND_COLUMNS,
            labelLimit=0,
            symbolType="stroke",
            symbolOpacity=1,
            symbolStrokeWidth=3,
        ),
    )
    y_scale = {
        "log": alt.Scale(type="log"),
        "share": alt.Scale(domain=[0, 1]),
        "unit": alt.Scale(domainMax=1, zero=False),
    }.get(scale, alt.Scale(zero=False))
    axis = alt.Axis(format="%") if scale == "share" else alt.Axis()
    x = X_AXES[over]
    band = (
        alt.Chart()
        .mark_area(opacity=BAND_OPACITY)
        .encode(x=x, y=alt.Y("low:Q", title=y_title, scale=y_scale, axis=axis), y2="top:Q")
    )
    tips = [
        alt.Tooltip("variant:N"),
        alt.Tooltip(f"{over}:Q"),
        alt.Tooltip("median:Q", title="median", format=fmt),
        alt.Tooltip("lo:Q", title="min", format=fmt),
        alt.Tooltip("hi:Q", title="max", format=fmt),
    ]
    line = (
        alt.Chart()
        .mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=12, opacity=0))
        .encode(x=x, y=alt.Y("median:Q"), tooltip=tips)
    )
    return (
        alt.layer(band, line).encode(color=color).properties(title=title, width=WIDE, height=HEIGHT)
    )


def band_chart(
    bands: pd.DataFrame,
    metric: str,
    title: str,
    variants: list[str],
    y_title: str | None = None,
    scale: str = "linear",
    fmt: str = ".4g",
    over: str = "step",
) -> alt.LayerChart:
    """`metric`'s band per variant from `bands` (metric, variant, `over`, median, lo, hi):
    over training steps, or over hidden layers ("layer") for a profile of the network now.

    On a log scale, values <= 0 sit at a tiny floor; R² ("unit") is clipped at -1 below, as
    the Playground's R² chart is, so one untrained seed's -50 cannot flatten the rest.
    """
    frame = bands[bands["metric"] == metric].drop(columns="metric")
    frame = frame[np.isfinite(frame["median"].to_numpy(dtype=np.float64))]
    if scale == "log":
        frame = frame.assign(**{c: frame[c].clip(lower=LOG_FLOOR) for c in ("median", "lo", "hi")})
    elif scale == "unit":
        frame = frame.assign(**{c: frame[c].clip(-1.0, 1.0) for c in ("median", "lo", "hi")})
    skeleton = _band_skeleton(title, y_title or title.lower(), fmt, tuple(variants), scale, over)
    frame = _drawn_band(frame, scale).reset_index(drop=True)
    return _with_data(skeleton, frame, frame)


def _drawn_band(frame: pd.DataFrame, scale: str) -> pd.DataFrame:
    """The band as drawn (`low`, `top`): on a linear scale its top stops at CAP_FACTOR times
    the largest median, so one seed blowing up (a loss of 1e10 that is still finite) neither
    stretches the axis nor flattens every other curve; the tooltip keeps the true min and max."""
    top = frame["hi"]
    if scale == "linear" and len(frame):
        cap = CAP_FACTOR * float(np.nanmax(np.abs(frame["median"].to_numpy(np.float64))))
        top = top.clip(upper=cap) if cap > 0 else top
    return frame.assign(low=frame["lo"].clip(upper=top), top=top)
