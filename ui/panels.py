"""The chart panels pages share: plain snapshot data in, charts and their captions out.

Each panel draws one part of a run (metrics, curves, decision map, inside the network, unit
health, gradients) from a `Snapshot` alone, so Compare and Labs can lay the same panels out
side by side. Charts go to the browser as pre-built specs (see `charts.vega_spec` for why).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import streamlit as st

from playground import activations, advice, charts
from playground.runner import RunInfo, Snapshot

PROBE_SET = "a fixed probe set of up to 512 training points"


def draw(
    where: Any,
    chart: Any,
    key: str,
    width: str = "stretch",
    height: int | str = "content",
    renderer: str = "canvas",
) -> None:
    """Render an Altair chart from its pre-built spec, on a canvas unless told otherwise.

    Canvas because a live redraw repaints one bitmap instead of patching hundreds of SVG
    nodes: measured with bench/chart_cost.py, it halves the histograms' cost per redraw.
    """
    spec = charts.vega_spec(chart)
    spec["usermeta"] = {"embedOptions": {"renderer": renderer}}
    title = spec.get("title")
    title = title.get("text") if isinstance(title, dict) else title
    if title and "description" not in spec:  # the chart's label for screen readers and tests
        spec["description"] = f"{title} chart"
    where.vega_lite_chart(spec=spec, key=key, width=width, height=height)


def fmt(x: float) -> str:
    """Four significant digits, short enough for a metric tile even when tiny."""
    if not math.isfinite(x):
        return "—"
    if abs(x) >= 1e5:  # a diverging loss: short enough not to be cut off in the tile
        return f"{x:.2g}"
    return f"{x:.2e}" if 0 < abs(x) < 1e-3 else f"{x:.4g}"


def metrics(snap: Snapshot) -> None:
    """Step, epoch, speed, losses and the test metric as tiles."""
    p = snap.latest
    cols = st.columns(6)
    cols[0].metric("Step", f"{snap.step:,}", help="Update steps taken (one batch each).")
    cols[1].metric("Epoch", f"{snap.epoch:,.1f}", help="Passes over the training set.")
    cols[2].metric(
        "Steps / s",
        f"{snap.steps_per_s:,.0f}",
        help=f"Training speed ({snap.epochs_per_s:,.1f} epochs/s).",
    )
    cols[3].metric(
        "Train loss", fmt(p.train_loss), help="Loss on the training points (up to 512 of them)."
    )
    cols[4].metric("Test loss", fmt(p.test_loss), help="Loss on held-out points.")
    name = "Test R²" if snap.task == "regression" else "Test accuracy"
    value = fmt(p.test_metric) if snap.task == "regression" else f"{p.test_metric:.1%}"
    cols[5].metric(name, value, help="How well the network does on points it never trained on.")


def pairing(info: RunInfo) -> None:
    """What the chosen output/loss pairing means, any warning it carries, and the device."""
    note = f" · {info.pairing_note}" if info.pairing_note else ""
    st.caption(f"Task: **{info.task}** · output and loss: **{info.pairing_label}**{note}")
    if info.pairing_warning:
        st.warning(info.pairing_warning, icon=":material/warning:")
    if info.device_note:
        st.info(info.device_note)


def map_and_curves(snap: Snapshot) -> None:
    """The decision map beside the curves for 2-D data; the two curves side by side otherwise."""
    left, right = st.columns([1, 1])
    if snap.boundary is not None and snap.info.points is not None:
        chart = charts.boundary_chart(
            snap.boundary, snap.info.points, snap.task, snap.info.class_names
        )
        # SVG: between redraws only the map image changes, and SVG swaps that one node
        # where a canvas would repaint all the points too
        draw(left, chart, key="boundary", width="content", renderer="svg")
        left.caption(
            "The network's output over the input plane, with training points (white outline) "
            "and test points (dark outline)."
        )
        loss_at, metric_at = right, right
    else:
        loss_at, metric_at = left, right
    draw(loss_at, charts.loss_chart(snap.probes, snap.cfg.log_loss), key="loss", height=280)
    draw(metric_at, charts.metric_chart(snap.probes, snap.task), key="metric", height=280)
    what = (
        "Loss and accuracy"
        if snap.task != "regression"
        else "Loss and R² (1 is a perfect fit, 0 is no better than predicting the mean)"
    )
    metric_at.caption(
        f"{what} on the training points (up to 512 of them), measured at every probe, and on "
        "the held-out test points, measured about twice a second of training. A widening gap "
        "between them means overfitting."
    )
    overfit_hint(metric_at, snap)


def overfit_hint(where: Any, snap: Snapshot) -> None:
    """Name overfitting when the curves show it, and say what to try."""
    found = advice.overfitting(snap.probes)
    if found is None:
        return
    name, show = ("R²", "{:.2f}") if snap.task == "regression" else ("accuracy", "{:.0%}")
    where.warning(
        f"**Overfitting**: training {name} is {show.format(found.train_metric)} but test "
        f"{name} is {show.format(found.test_metric)}, and the test loss has risen since step "
        f"{found.best_step:,} (test {name} {show.format(found.best_test_metric)} then). The "
        "network is memorising its training points instead of the pattern. Try an L2 "
        "penalty (0.01), fewer or narrower layers, a larger train share, or stop near the "
        "test loss's lowest point.",
        icon=":material/trending_up:",
    )


def histograms(snap: Snapshot) -> None:
    """Per-layer histograms before or after the activation, exact zeros in a bar of their own."""
    side = st.segmented_control(
        "Histograms of",
        ["after the activation", "before it"],
        default="after the activation",
        key="hist_side",
        help="After: what each layer passes on. Before: the weighted sums the function receives.",
    )
    layers, labels = snap.histograms, snap.info.layer_labels
    if side == "before it":
        chart = charts.histogram_chart(
            layers.hist_pre,
            "Input to each layer's activation",
            labels,
            zeros=layers.zeros_pre,
        )
    else:
        chart = charts.histogram_chart(
            layers.hist_post,
            "Output of each hidden layer",
            labels,
            zeros=layers.zeros_post,
        )
    draw(st, chart, key="hist", width="content")
    st.caption(
        f"Histograms over {PROBE_SET}. Values piled against a bound mean saturation. Values "
        "that are exactly 0 get a bar of their own (for ReLU: inputs on its flat side); the "
        "other bars hold everything else, however close to 0."
    )


def unit_health(snap: Snapshot) -> None:
    """Dead units (ReLU family) and saturated units, where the measure applies."""
    layers = snap.latest.layers
    threshold = snap.cfg.dead_threshold
    dead = layers.dead_fraction
    from_start = snap.latest.layer_columns().get("dead_from_start_fraction")
    if _share_panel(snap, "dead_fraction", "Dead", _dead_caption(snap), from_start):
        worst = int(np.nanargmax(dead))
        if dead[worst] > threshold:
            st.warning(
                f"Layer {worst + 1} has {dead[worst]:.0%} dead units (warning at "
                f"{threshold:.0%}). Usual cures: a lower learning rate, He initialisation, "
                "Leaky ReLU / PReLU / ELU, or batch norm.",
                icon=":material/heart_broken:",
            )
    _share_panel(
        snap,
        "saturated_fraction",
        "Saturated",
        f"A unit is saturated when its activation's slope is below 0.01 for every point of "
        f"{PROBE_SET}: it passes almost no gradient back, so it barely learns."
        + _tail_note(snap.info.layer_keys),
    )


def _tail_note(keys: list[str]) -> str:
    """Where one-sided saturation starts for the smooth ReLUs in this network, if any."""
    tails = {
        activations.get(k).label: activations.get(k).tail_below
        for k in dict.fromkeys(keys)
        if math.isfinite(activations.get(k).tail_below) and activations.get(k).tail_below < 0
    }
    if not tails:
        return ""
    where = ", ".join(f"{name} below {x:.2f}" for name, x in tails.items())
    return (
        f" Only inputs on the negative tail count ({where}): these functions also have a "
        "slope of 0 at their minimum, which is not saturation."
    )


def _share_panel(
    snap: Snapshot, column: str, word: str, caption: str, from_start: np.ndarray | None = None
) -> bool:
    """A per-layer share over time and now; False (nothing drawn) where it does not apply."""
    now = getattr(snap.latest.layers, column)
    if np.isnan(now).all():
        return False
    c1, c2 = st.columns([2, 1])
    title = f"{word} units per layer"
    draw(
        c1,
        charts.layer_lines_chart(snap.layers, column, title, percent=True),
        key=column,
        height=280,
    )
    share = charts.layer_share_chart(
        np.nan_to_num(now),
        snap.cfg.dead_threshold,
        f"{word} now",
        snap.info.layer_labels,
        from_start=None if from_start is None else np.nan_to_num(from_start),
    )
    draw(c2, share, key=f"{column}_now")
    st.caption(caption)
    return True


def _dead_caption(snap: Snapshot) -> str:
    keys = set(snap.info.layer_keys)
    start = (
        " Units dead from step 0 (the starting weights never let them fire on this data) are "
        "drawn apart from units that died during training."
    )
    if keys <= {"relu", "hardswish", "gelu", "silu", "mish"}:
        return (
            f"A unit is dead when it outputs exactly 0 for every point of {PROBE_SET}: no "
            "gradient reaches its weights, so it stays dead unless earlier layers change what "
            "it receives." + start
        )
    return (
        "For ReLU a unit is dead when it outputs exactly 0 for every probe point. Leaky "
        "ReLU, PReLU, ELU and SELU never output exactly 0, so here a unit counts as dead "
        "when its input is negative for every probe point: stuck on the weak side." + start
    )


def gradients(snap: Snapshot) -> None:
    """Per-layer weight-gradient norms over training, on a log scale."""
    chart = charts.layer_lines_chart(
        snap.layers, "grad_norm", "Gradient norm per layer (log scale)", log_scale=True
    )
    draw(st, chart, key="grad", height=280, width="stretch")
    st.caption(
        f"Size of each layer's weight gradient of the loss on {PROBE_SET}, at the weights of "
        "each probe: measured the same way at every probe, so the first point compares with "
        "the last. Lines falling by orders of magnitude toward layer 1 mean vanishing "
        "gradients; rising ones mean exploding gradients."
    )
