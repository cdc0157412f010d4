"""The Explorer's function plots: f(x) and f'(x) of several activations, one line each."""

from __future__ import annotations

import altair as alt
import pandas as pd

from playground import activations
from playground.charts.base import CLASS_PALETTE, HEIGHT, INK, WIDE

SERIES = "activation"
# one colour per hidden activation, whatever else is drawn beside it: picking GELU after ReLU
# does not repaint ReLU (the palette's ten, then four more as distinct)
COLOURS = dict(
    zip(activations.HIDDEN_KEYS, [*CLASS_PALETTE, "#1b9e77", "#7570b3", "#e7298a", "#a6761d"])
)


_BY_LABEL = {activations.get(k).label: colour for k, colour in COLOURS.items()}


def colour_of(label: str) -> str:
    """An activation's own colour, by its label (`ReLU`); dark for one not in the registry."""
    return _BY_LABEL.get(label, INK)


def function_chart(frame: pd.DataFrame, column: str, title: str) -> alt.LayerChart:
    """One line per activation of `frame[column]` over x, with the axes through 0 drawn.

    `frame` has columns x, activation (its label) and `column`; activations keep the order
    they come in, and each its own colour, in both charts and whatever else is picked.
    """
    names = list(dict.fromkeys(frame[SERIES]))
    colors = [colour_of(name) for name in names]
    lines = (
        alt.Chart(frame)
        .mark_line(strokeWidth=2, clip=True)
        .encode(
            x=alt.X("x:Q", title="x"),
            y=alt.Y(f"{column}:Q", title=title),
            color=alt.Color(
                f"{SERIES}:N",
                title=None,
                scale=alt.Scale(domain=names, range=colors),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip(f"{SERIES}:N"),
                alt.Tooltip("x:Q", format=".3f"),
                alt.Tooltip(f"{column}:Q", title=title, format=".4f"),
            ],
        )
    )
    zero = pd.DataFrame({"v": [0.0]})
    axes = [
        alt.Chart(zero).mark_rule(color=INK, opacity=0.35).encode(y="v:Q"),
        alt.Chart(zero).mark_rule(color=INK, opacity=0.35).encode(x="v:Q"),
    ]
    return alt.layer(*axes, lines, title=title).properties(width=WIDE, height=HEIGHT + 60)
