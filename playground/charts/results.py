"""The result on the test set for data without a plane: confusion matrix, accuracy per class,
the digits it gets wrong, and predicted against actual with the residuals for regression.

Built for the slow live fragment (a redraw every couple of seconds): each skeleton is fixed by
the task and the classes, only the datasets change. Cells are shaded by the share of their true
class (row), so the colour scale is fixed to [0, 1] and a class with few test rows reads as
clearly as a large one; the count is written in the cell.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from playground.charts import heatmap
from playground.charts.base import CALM, INK, TEST, WARNING, WIDE, _cache, _with_data
from playground.history import thin_index
from playground.results import MISTAKES, Results, per_class_accuracy, residual_summary

SEQUENTIAL = ["#f4f7fb", "#0877bd"]  # white to the positive class's blue: share of the row
MAX_POINTS = 500  # predicted-vs-actual points drawn: enough to see the spread


CONFUSION_PX = (240, 420)  # the matrix's side: wide enough for its title, within a column
CONFUSION_ROOM = (230, 130)  # px beside and below the matrix: labels, titles, the legend


def confusion_cell(n_classes: int) -> int:
    """A cell's side in px: the matrix at least CONFUSION_PX[0] and at most [1] across, and
    never under 12 px (a count still fits)."""
    n = max(n_classes, 1)
    return max(12, min(CONFUSION_PX[1] // n, max(CONFUSION_PX[0] // n, 40)))


@_cache
def _confusion_skeleton(names: tuple[str, ...]) -> alt.LayerChart:
    size = confusion_cell(len(names))
    x = alt.X("predicted:N", title="predicted class", sort=list(names), axis=alt.Axis(labelAngle=0))
    y = alt.Y("actual:N", title="true class", sort=list(names))
    tips = [
        alt.Tooltip("actual:N", title="true"),
        alt.Tooltip("predicted:N", title="predicted"),
        alt.Tooltip("count:Q", title="test rows"),
        alt.Tooltip("share:Q", title="share of the true class", format=".1%"),
    ]
    cells = (
        alt.Chart()
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "share:Q",
                title="share of row",
                scale=alt.Scale(domain=[0, 1], range=SEQUENTIAL),
                legend=alt.Legend(format="%"),
            ),
            tooltip=tips,
        )
    )
    counts = (
        alt.Chart()
        .mark_text(fontSize=11)
        .encode(
            x=x,
            y=y,
            text="count:Q",
            color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value(INK)),
        )
        .transform_filter("datum.count > 0")
    )
    view = alt.layer(cells, counts, title="Confusion matrix (test set)")
    return view.properties(width=size * len(names), height=size * len(names))


def confusion_frame(results: Results) -> pd.DataFrame:
    """One row per (true, predicted) pair: count and its share of the true class's rows."""
    matrix = results.confusion()
    k = len(matrix)
    names = _names(results)
    totals = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    return pd.DataFrame(
        {
            "actual": np.repeat(names, k),
            "predicted": np.tile(names, k),
            "count": matrix.reshape(-1),
            "share": share.reshape(-1),
        }
    )


def confusion_chart(results: Results) -> alt.LayerChart:
    """The test set's confusion matrix: true class down, predicted class across."""
    frame = confusion_frame(results)
    return _with_data(_confusion_skeleton(tuple(_names(results))), frame, frame)


def _names(results: Results) -> list[str]:
    k = len(results.confusion())
    given = results.class_names
    return [given[i] if i < len(given) else f"class {i}" for i in range(k)]


@_cache
def _accuracy_skeleton(names: tuple[str, ...]) -> alt.Chart:
    return (
        alt.Chart(title="Accuracy per class (test set)")
        .mark_bar()
        .encode(
            x=alt.X(
                "accuracy:Q",
                title="share predicted right",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            y=alt.Y("class:N", title=None, sort=list(names), axis=alt.Axis(labelOverlap=False)),
            color=alt.condition(
                "datum.accuracy < datum.overall", alt.value(WARNING), alt.value(CALM)
            ),
            tooltip=[
                alt.Tooltip("class:N"),
                alt.Tooltip("accuracy:Q", format=".1%"),
                alt.Tooltip("rows:Q", title="test rows"),
            ],
        )
        .properties(width=WIDE, height=alt.Step(18))
    )


def accuracy_frame(results: Results) -> pd.DataFrame:
    """Per class: accuracy (recall), its test rows, and the overall accuracy to compare with."""
    matrix = results.confusion()
    accuracy = per_class_accuracy(matrix)
    overall = np.trace(matrix) / max(matrix.sum(), 1)
    frame = pd.DataFrame(
        {"class": _names(results), "accuracy": accuracy, "rows": matrix.sum(axis=1)}
    )
    return frame.assign(overall=overall)[np.isfinite(accuracy)].reset_index(drop=True)


def accuracy_chart(results: Results) -> alt.Chart:
    """A bar per class, in the warning colour where the class does worse than the whole set."""
    return _with_data(_accuracy_skeleton(tuple(_names(results))), accuracy_frame(results))


def _digit_url(pixels: np.ndarray) -> str:
    """An 8x8 digit (0 = paper, 16 = ink, as scikit-learn ships them) as a PNG data URL."""
    ink = np.clip(np.asarray(pixels, np.float64) / 16.0, 0.0, 1.0)[::-1]  # png_url flips rows
    rgb = 255.0 - ink[..., None] * np.array([255.0, 255.0, 230.0])  # dark blue-black on white
    return heatmap.png_url(rgb)


def mistakes_frame(results: Results, limit: int = MISTAKES) -> pd.DataFrame:
    """The most confident misclassified digits: image, 'true → predicted' and confidence.

    Drawn by the page as plain images in a grid (`ui.panels.results`): exact pixels and no
    layout for a renderer to fit, where a Vega grid of images was squeezed into its height."""
    if results.images is None:
        return pd.DataFrame(columns=["url", "caption", "confidence"])
    wrong = results.mistakes(limit)
    names = _names(results)
    return pd.DataFrame(
        {
            "url": [_digit_url(results.images[i]) for i in wrong],
            "caption": [
                f"{names[results.actual[i]]} → {names[results.predicted[i]]}" for i in wrong
            ],
            "confidence": results.confidence[wrong] if results.confidence is not None else np.nan,
        }
    )


def regression_frame(results: Results) -> pd.DataFrame:
    """Test rows thinned to MAX_POINTS: actual, predicted and the residual (actual - predicted)."""
    idx = thin_index(len(results.actual), MAX_POINTS)
    actual = np.asarray(results.actual, np.float64)[idx]
    predicted = np.asarray(results.predicted, np.float64)[idx]
    return pd.DataFrame({"actual": actual, "predicted": predicted, "residual": actual - predicted})


@_cache
def _fit_skeleton() -> alt.LayerChart:
    dots = (
        alt.Chart()
        .mark_circle(size=24, opacity=0.6, color=TEST)
        .encode(
            x=alt.X("actual:Q", title="actual (standardised)"),
            y=alt.Y("predicted:Q", title="predicted"),
            tooltip=[
                alt.Tooltip("actual:Q", format=".3f"),
                alt.Tooltip("predicted:Q", format=".3f"),
                alt.Tooltip("residual:Q", format=".3f"),
            ],
        )
    )
    diagonal = (
        alt.Chart().mark_line(color=INK, strokeDash=[4, 3]).encode(x="actual:Q", y="predicted:Q")
    )
    return alt.layer(diagonal, dots, title="Predicted against actual (test set)").properties(
        width=WIDE, height=220
    )


def fit_chart(results: Results) -> alt.LayerChart:
    """Each test row's prediction against its target, over the line where they agree."""
    frame = regression_frame(results)
    both = frame[["actual", "predicted"]].to_numpy()
    both = both[np.isfinite(both)]
    lo, hi = (float(both.min()), float(both.max())) if both.size else (-1.0, 1.0)
    diagonal = pd.DataFrame({"actual": [lo, hi], "predicted": [lo, hi]})
    return _with_data(_fit_skeleton(), diagonal, frame)


@_cache
def _residual_skeleton() -> alt.LayerChart:
    bars = (
        alt.Chart()
        .mark_bar(color=CALM)
        .encode(
            x=alt.X("lo:Q", title="residual (actual − predicted)"),
            x2="hi:Q",
            y=alt.Y("count:Q", title="test rows"),
            y2=alt.datum(0),
            tooltip=[
                alt.Tooltip("lo:Q", title="from", format=".2f"),
                alt.Tooltip("hi:Q", title="to", format=".2f"),
                alt.Tooltip("count:Q", title="test rows"),
            ],
        )
    )
    zero = alt.Chart().mark_rule(color=INK, strokeDash=[4, 3]).encode(x="zero:Q")
    return alt.layer(bars, zero, title="Residuals (test set)").properties(width=WIDE, height=220)


def residual_frame(results: Results, bins: int = 30) -> pd.DataFrame:
    """The residuals counted into `bins` equal bins over their finite range."""
    residual = np.asarray(results.actual, np.float64) - np.asarray(results.predicted, np.float64)
    residual = residual[np.isfinite(residual)]
    if residual.size == 0:
        return pd.DataFrame({"lo": [], "hi": [], "count": []})
    counts, edges = np.histogram(residual, bins=bins)
    return pd.DataFrame({"lo": edges[:-1], "hi": edges[1:], "count": counts})


def residual_chart(results: Results) -> alt.LayerChart:
    """How far predictions miss, counted: centred on 0 and narrow when the fit is good."""
    return _with_data(_residual_skeleton(), residual_frame(results), pd.DataFrame({"zero": [0.0]}))


def summary(results: Results) -> dict[str, float]:
    """The figures beside the charts: accuracy for classes, R², RMSE and bias for regression."""
    if results.task == "regression":
        return residual_summary(results.actual, results.predicted)
    matrix = results.confusion()
    return {"accuracy": float(np.trace(matrix) / max(matrix.sum(), 1))}
