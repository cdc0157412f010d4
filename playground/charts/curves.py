"""Loss and accuracy (or R²) over training: the curves a run is first judged by.

Both charts take the wide probe frame (step, train_*, test_*), thin it, and draw train and test as
two lines in the shared split colours, so the two charts read the same way side by side.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from playground.charts.base import (
    LOG_FLOOR,
    SPLITS,
    _cache,
    _over_steps,
    _split_color,
    _with_data,
    downsample,
)


def _split_frame(probes: pd.DataFrame, train: str, test: str) -> pd.DataFrame:
    """Wide train/test columns -> long (step, split, value), each split thinned on its own.

    NaN and inf rows go first, then each split is thinned: test values exist only on the
    probes that measured the test set (every k-th under the time schedule), and thinning the
    wide frame first could keep almost none of them, whenever the stride falls in step with k.
    """
    steps = probes["step"].to_numpy(dtype=np.float64)
    parts = []
    for split, column in zip(SPLITS, (train, test)):
        values = probes[column].to_numpy(dtype=np.float64)
        ok = np.isfinite(values)
        part = pd.DataFrame({"step": steps[ok], "split": split, "value": values[ok]})
        parts.append(downsample(part))
    return pd.concat(parts, ignore_index=True)


def _curve_skeleton(title: str, y: alt.Y, tip: str, fmt: str) -> alt.LayerChart:
    """Train and test as two lines over steps: what loss and metric charts have in common."""
    tips = [alt.Tooltip("split:N", title="data"), alt.Tooltip("value:Q", title=tip, format=fmt)]
    return _over_steps(title, y, _split_color(), tips, series="split")


@_cache
def _loss_skeleton(log_scale: bool) -> alt.LayerChart:
    y_scale = alt.Scale(type="log") if log_scale else alt.Scale(zero=False)
    return _curve_skeleton("Loss", alt.Y("value:Q", title="loss", scale=y_scale), "loss", ".4g")


def loss_chart(probes: pd.DataFrame, log_scale: bool = False) -> alt.LayerChart:
    """Train and test loss over training steps (`probes`: step, train_loss, test_loss).

    On a log scale, values <= 0 are drawn at a tiny positive floor instead of breaking the axis.
    """
    frame = _split_frame(probes, "train_loss", "test_loss")
    if log_scale:
        frame["value"] = frame["value"].clip(lower=LOG_FLOOR)
    return _with_data(_loss_skeleton(bool(log_scale)), frame, frame)


@_cache
def _metric_skeleton(regression: bool) -> alt.LayerChart:
    if regression:
        # the top is 1; the bottom follows the data, which are clipped at -1
        y = alt.Y("value:Q", title="R²", scale=alt.Scale(domainMax=1, zero=False))
        return _curve_skeleton("R²", y, "R²", ".3f")
    y = alt.Y(
        "value:Q", title="accuracy", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")
    )
    return _curve_skeleton("Accuracy", y, "accuracy", ".1%")


def metric_chart(probes: pd.DataFrame, task: str) -> alt.LayerChart:
    """Train and test accuracy (classification) or R² (regression) over training steps.

    Accuracy sits on a fixed 0-100 % axis. R² tops out at 1 and its lower end follows the data
    but stops at -1: an untrained model's R² can be -50, which would flatten the rest.
    """
    frame = _split_frame(probes, "train_metric", "test_metric")
    regression = task == "regression"
    if regression:
        frame["value"] = frame["value"].clip(lower=-1.0, upper=1.0)
    return _with_data(_metric_skeleton(regression), frame, frame)
