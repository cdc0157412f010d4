"""The chart panels pages share: plain snapshot data in, charts and their captions out.

Each panel draws one part of a run (metrics, curves, decision map, inside the network, unit
health, gradients) from a `Snapshot` alone, so Compare and Labs can lay the same panels out
side by side. Charts go to the browser as pre-built specs (see `charts.vega_spec` for why).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from playground import activations, advice, charts
from playground.network import DEAD_FROM_START, DIED, RESTING, SATURATED, NetworkView
from playground.probes import PROBE_ROWS, STATE_RULES
from playground.results import Results, most_confused
from playground.runner import RunInfo, Snapshot
from ui import present, screen

PHONE_HISTOGRAMS = (2, 115)  # a phone's histograms: 2 a row, 115 px each, with axes < 360 px
PROBE_SET = f"a fixed probe set of up to {PROBE_ROWS:,} training points"
_MARK = charts.network.MARKS
# the one legend of unit states, wherever they are drawn (the network, the unit, Compare)
STATE_LEGEND = (
    "A unit's state, by one rule for every activation and in this order: "
    f"**{_MARK[DIED]} dead** when {STATE_RULES['dead']} ({_MARK[DEAD_FROM_START]} when it "
    f"has been dead since step 0: its starting weights never let it respond); "
    f"**{_MARK[RESTING]} resting**: {STATE_RULES['resting']}; "
    f"**{_MARK[SATURATED]} saturated** when {STATE_RULES['saturated']}."
)
# each state's rule, for a chosen unit's own state
STATE_RULE = {
    DIED: STATE_RULES["dead"],
    DEAD_FROM_START: STATE_RULES["dead"] + ", and has been since step 0",
    RESTING: STATE_RULES["resting"],
    SATURATED: STATE_RULES["saturated"],
}


Show = Callable[[], None]  # a panel's elements, computed and ready to send


@dataclass
class Spec:
    """A chart's Vega-Lite spec, built ahead of showing it (see `Show`)."""

    spec: dict[str, Any]
    key: str
    width: str = "stretch"
    height: int | str = "content"
    select: str | None = None  # a selection in the spec whose choice reruns the page

    def show(self, where: Any) -> Any:
        """Draw the chart; with `select`, what the person chose in it (Streamlit's event)."""
        picking = {"on_select": "rerun", "selection_mode": self.select} if self.select else {}
        return where.vega_lite_chart(
            spec=self.spec, key=self.key, width=self.width, height=self.height, **picking
        )


def spec(chart: Any, key: str, renderer: str = "canvas", **size: Any) -> Spec:
    """Build an Altair chart's spec for the browser, on a canvas unless told otherwise.

    Canvas because a live redraw repaints one bitmap instead of patching hundreds of SVG
    nodes: measured with bench/chart_cost.py, it halves the histograms' cost per redraw.
    """
    return for_browser(charts.vega_spec(chart), key, renderer, **size)


def for_browser(built: dict[str, Any], key: str, renderer: str = "canvas", **size: Any) -> Spec:
    built = present.vega(built)  # projector-sized text when presenting
    built["usermeta"] = {"embedOptions": {"renderer": renderer}}
    title = built.get("title")
    title = title.get("text") if isinstance(title, dict) else title
    if title and "description" not in built:  # the chart's label for screen readers and tests
        built["description"] = f"{title} chart"
    return Spec(built, key, **size)


def one_view(chart_list: list[Any], key: str, label: str, height: int = charts.HEIGHT) -> Show:
    """Charts one above the other as one view: one element for the browser to redraw, and a
    height that is the plots' own (a lone layered chart is squeezed into its spec's height,
    legend and axes included)."""
    specs = [charts.vega_spec(c) for c in chart_list]
    for view in specs:
        view["height"] = height
    built = charts.stacked(specs)
    built["description"] = f"{label} chart"
    ready = for_browser(built, key)
    return lambda: ready.show(st)


def fmt(x: float) -> str:
    """Four significant digits, short enough for a metric tile even when tiny."""
    if not math.isfinite(x):
        return "—"
    if abs(x) >= 1e5:  # a diverging loss: short enough not to be cut off in the tile
        return f"{x:.2g}"
    return f"{x:.2e}" if 0 < abs(x) < 1e-3 else f"{x:.4g}"


def metrics(snap: Snapshot) -> Show:
    """Step, epoch, speed, losses and the test metric as a row of tiles, in one element.

    One `st.html` block rather than six `st.metric` columns: the tiles redraw twice a second.
    On a test page redrawing only the tiles at 2 Hz while the reference network trained, six
    metrics cost the browser's main thread 51-64 ms per redraw and one block 29-30 ms, against
    26-28 ms for an empty fragment. A tile's explanation is its native tooltip (`title`).
    """
    p = snap.latest
    name = "Test R²" if snap.task == "regression" else "Test accuracy"
    value = fmt(p.test_metric) if snap.task == "regression" else f"{p.test_metric:.1%}"
    tiles = (
        ("Step", f"{snap.step:,}", "Update steps taken (one batch each)."),
        ("Epoch", f"{snap.epoch:,.1f}", "Passes over the training set."),
        (
            "Steps / s",
            f"{snap.steps_per_s:,.0f}",
            f"Training speed ({snap.epochs_per_s:,.1f} epochs/s).",
        ),
        (
            "Train loss",
            fmt(p.train_loss),
            f"Loss on the training points (up to {PROBE_ROWS:,} of them).",
        ),
        ("Test loss", fmt(p.test_loss), "Loss on held-out points."),
        (name, value, "How well the network does on points it never trained on."),
    )
    body = tiles_html(tiles)
    return lambda: st.html(body)


TILE_ROW = "display:flex;flex-wrap:wrap;gap:0.5rem 1rem"
TILE = "flex:1 1 0;min-width:6.5rem"
TILE_LABEL = "font-size:0.875rem;opacity:0.8"
TILE_VALUE = "font-size:2rem;line-height:1.25;white-space:nowrap"


def tiles_html(tiles: tuple[tuple[str, str, str], ...]) -> str:
    """Labelled values in a wrapping row, each tile named for screen readers and tests."""
    cells = "".join(
        f'<div role="group" aria-label="{html.escape(label)}" title="{html.escape(tip)}" '
        f'style="{TILE}"><div style="{TILE_LABEL}">{html.escape(label)}</div>'
        f'<div class="tile-value" style="{TILE_VALUE}">{html.escape(value)}</div></div>'
        for label, value, tip in tiles
    )
    return f'<div class="tiles" style="{TILE_ROW}">{cells}</div>'


def pairing(info: RunInfo) -> None:
    """What the chosen output/loss pairing means, any warning it carries, and the device."""
    note = f" · {info.pairing_note}" if info.pairing_note else ""
    st.caption(f"Task: **{info.task}** · output and loss: **{info.pairing_label}**{note}")
    if info.pairing_warning:
        st.warning(info.pairing_warning, icon=":material/warning:")
    if info.device_note:
        st.info(info.device_note)


def map_and_curves(snap: Snapshot) -> Show:
    """The decision map beside the curves for 2-D data; the curves across the page otherwise.

    Their captions are `map_and_curves_notes`, drawn outside the live fragment: they change
    only with the run, and every element a fragment redraws costs the browser each refresh.
    """
    boundary = None
    if snap.boundary is not None and snap.info.points is not None:
        chart = charts.boundary_chart(
            snap.boundary,
            snap.info.points,
            snap.task,
            snap.info.class_names,
            show_test=snap.cfg.show_test,
            discrete=snap.cfg.discrete,
        )
        # a canvas too: repainting the points over the new image costs less than the browser
        # re-painting an SVG of 500 circles for the one node that changed (measured: 1 to 3
        # points less of the page's main thread with the reference network)
        boundary = spec(chart, "boundary", width="content")
    if present.chart() is not None:  # a projector's one screen: the loss alone, map-high
        curves = curves_spec(snap, height=2 * CURVE_BESIDE_MAP, loss_only=True)
    else:
        curves = curves_spec(snap, height=CURVE_BESIDE_MAP if boundary else charts.HEIGHT)
    hint = overfit_hint(snap)

    def show() -> None:
        where: Any = st
        if boundary is not None:  # presenting, the map and its legend take a little more
            left, where = st.columns([11, 9] if present.chart() else [1, 1])
            boundary.show(left)
        curves.show(where)
        if hint:
            where.warning(hint, icon=":material/trending_up:")

    return show


CURVE_BESIDE_MAP = 140  # px a curve, so that the two stand as tall as the map beside them


def curves_spec(snap: Snapshot, height: int, loss_only: bool = False) -> Spec:
    """Loss above accuracy (or R²), one view: one element for the browser to redraw, not two."""
    loss = charts.vega_spec(charts.loss_chart(snap.probes, snap.cfg.log_loss))
    metric = charts.vega_spec(charts.metric_chart(snap.probes, snap.task))
    views = [loss] if loss_only else [loss, metric]
    for view in views:
        view["height"] = height
    built = charts.stacked(views)
    shown = "Loss" if loss_only else f"Loss and {metric['title'].replace('Accuracy', 'accuracy')}"
    built["description"] = f"{shown} chart"
    return for_browser(built, "curves")


def map_and_curves_notes(info: RunInfo) -> None:
    """The captions under the map and the curves, in the same columns as they are."""
    right: Any = st
    if info.points is not None:
        left, right = st.columns([1, 1])
        left.caption(
            "The network's output over the input plane, with training points (white outline) "
            "and test points (dark outline)."
        )
    what = (
        "Loss and accuracy"
        if info.task != "regression"
        else "Loss and R² (1 is a perfect fit, 0 is no better than predicting the mean)"
    )
    right.caption(
        f"{what} on the training points (up to {PROBE_ROWS:,} of them), measured at every "
        "probe, and on "
        "the held-out test points, measured about twice a second of training. Training loss "
        "far below test loss means the network fits its training points better than new "
        "ones; a test loss that climbs while the training loss keeps falling is overfitting "
        "getting worse."
    )


def overfit_hint(snap: Snapshot) -> str | None:
    """Name overfitting when the curves show it, and say what to try."""
    found = advice.overfitting(snap.probes)
    if found is None:
        return None
    name, show = ("R²", "{:.2f}") if snap.task == "regression" else ("accuracy", "{:.0%}")
    return (
        f"**Overfitting**: training {name} is {show.format(found.train_metric)} but test "
        f"{name} is {show.format(found.test_metric)}, and the test loss has risen since step "
        f"{found.best_step:,} (test {name} {show.format(found.best_test_metric)} then). The "
        "network is memorising its training points instead of the pattern. Try a larger "
        "train share, fewer or narrower layers, or a weight penalty. Stopping early helps "
        "too, but a stopping point picked by watching the test loss makes the test score look "
        "better than it is."
    )


def results(snap: Snapshot) -> Show:
    """The test set's result for data with no plane to draw: for classes the confusion matrix
    beside the accuracy per class (and for digits the mistakes, as images), for regression
    predicted against actual beside the residuals, with the figures they are read by."""
    res = snap.results
    r = charts.results
    if res.task == "regression":
        tall = {"height": RESULT_HEIGHT}  # the element's: a layered chart is squeezed into it
        left = spec(r.fit_chart(res), "fit", **tall)
        right = spec(r.residual_chart(res), "residuals", **tall)
        figures = r.summary(res)
        tiles = (
            ("Test R²", fmt(figures["r2"]), "1 is a perfect fit; 0 is no better than the mean."),
            ("Test RMSE", fmt(figures["rmse"]), "Typical miss, in the target's standard units."),
            ("Mean residual", fmt(figures["bias"]), "Far from 0: the network is biased."),
        )
        extra, caption = None, REGRESSION_NOTE
    else:
        matrix = r.confusion_chart(res)
        # a layered chart is squeezed into its element's size: the matrix's own, plus room
        room_x, room_y = r.CONFUSION_ROOM
        left = spec(matrix, "confusion", width=matrix.width + room_x, height=matrix.height + room_y)
        right = spec(r.accuracy_chart(res), "class_accuracy", height=RESULT_HEIGHT)
        tiles = _class_tiles(res)
        extra = _mistakes_html(res) if res.images is not None else None
        caption = CLASS_NOTE
    body = tiles_html(tiles)

    def show() -> None:
        st.subheader("Results on the test set")
        st.html(body)
        a, b = st.columns([1, 1])
        left.show(a)
        right.show(b)
        if extra is not None:
            st.html(extra)
        st.caption(caption + f" At step {res.step:,}.")

    return show


def _class_tiles(res: Results) -> tuple[tuple[str, str, str], ...]:
    """The weakest class and the most frequent mistake, in words."""
    r = charts.results
    names = r.accuracy_frame(res)
    worst = names.sort_values("accuracy", kind="stable").iloc[0]
    pair = most_confused(res.confusion())
    labels = list(r.confusion_frame(res)["actual"].unique())
    mistake = "none" if pair is None else f"{labels[pair[0]]} → {labels[pair[1]]} ({pair[2]})"
    return (
        (
            "Weakest class",
            f"{worst['class']}: {worst['accuracy']:.0%}",
            "The class the network gets right least often.",
        ),
        (
            "Commonest mistake",
            mistake,
            "True class → what the network said, and how many test rows it happened to.",
        ),
    )


def _mistakes_html(res: Results) -> str:
    """The misclassified digits as a grid of small images, each captioned true → predicted."""
    frame = charts.results.mistakes_frame(res)
    if frame.empty:
        return "<p><b>Misclassified digits:</b> none.</p>"
    cells = "".join(
        f'<figure style="margin:0;text-align:center" title="{html.escape(row.caption)}: '
        f'{row.confidence:.0%} sure">'
        f'<img src="{row.url}" width="48" height="48" alt="{html.escape(row.caption)}" '
        'style="image-rendering:pixelated;border:1px solid #ddd">'
        f'<figcaption style="font-size:0.8rem">{html.escape(row.caption)}</figcaption></figure>'
        for row in frame.itertuples()
    )
    grid = "display:grid;grid-template-columns:repeat(auto-fill,56px);gap:0.5rem"
    return (
        '<div aria-label="Misclassified digits"><p style="font-weight:600;margin:0 0 0.4rem">'
        "Misclassified digits, most confident first (true → predicted)</p>"
        f'<div style="{grid}">{cells}</div></div>'
    )


RESULT_HEIGHT = 300  # px for a result chart beside another, axes and title included
CLASS_NOTE = (
    "Rows are the true classes, columns what the network said: the diagonal is right, every "
    "other cell a kind of mistake, shaded by its share of the row. Red bars: classes below the "
    "overall accuracy."
)
REGRESSION_NOTE = (
    "Points on the dashed line are predicted exactly; a cloud tilted flatter than it means "
    "the network hedges toward the mean. Residuals centred on 0 and narrow are a good fit."
)


def network(snap: Snapshot) -> Show:
    """The network unit by unit: each unit's map (2-D data), its state, the weights between."""
    net = snap.network
    upright = screen.narrow()
    chart = charts.network.network_chart(net, upright=upright)
    # the element's height: a layered chart is squeezed into it (upright: legends below)
    tall = chart.height + (170 if upright else 90)
    diagram = spec(chart, "network", width="content", height=tall)
    diagram.select = charts.network.PICK
    counts = [layer.state for layer in net.layers]
    dead = sum(s.count("died in training") + s.count("dead from step 0") for s in counts)
    total = sum(len(s) for s in counts)
    maps = (
        "what it outputs over the input plane (blue positive, orange negative), "
        if (net.layers and net.layers[0].maps is not None)
        else ""
    )
    caption = (
        f"Each square is a hidden unit and shows {maps}each line a weight (blue positive, "
        f"orange negative, thicker for larger). {STATE_LEGEND} Dead now: {dead} of {total} "
        f"hidden units. Measured on {PROBE_SET}. Click a hidden unit for its detail."
    )

    def show() -> None:
        event = diagram.show(st)
        st.caption(caption)
        chosen = (event.selection.get(charts.network.PICK) or [None])[0] if event else None
        if chosen and 1 <= int(chosen.get("col", 0)) <= len(net.layers):
            unit_detail(net, int(chosen["col"]), int(chosen["unit"]), snap.cfg.lr)

    return show


def unit_detail(net: NetworkView, col: int, unit: int, lr: float) -> None:
    """One chosen unit: its state and time of death, its map large, what its activation
    receives over the probe set, and its incoming weights."""
    layer, u = net.layers[col - 1], unit - 1
    died = int(layer.died_at[u])
    death = (
        "dead from step 0" if died == 0 else f"dead since step {died:,}" if died > 0 else "alive"
    )
    incoming = net.weights[col - 1][u]
    names = net.inputs if col == 1 else [f"unit {i + 1}" for i in range(len(incoming))]
    said = layer.state[u] if died < 0 else death
    st.markdown(f"**Layer {col} · {layer.label} · unit {unit}**: {said}.")
    tiles = (
        ("State", layer.state[u], STATE_RULE.get(layer.state[u], "none of dead, resting or "
         "saturated: its slope reaches 0.01 or more for some probe input").capitalize() + "."),
        ("Dead since", "—" if died < 0 else f"step {died:,}", "The first probe from which it "
         "has stayed dead (as precise as the probe schedule)."),
        ("Bias", fmt(float(layer.bias[u])), "Its bias now."),
        ("Weights' norm", fmt(float(np.linalg.norm(incoming))), "Of its incoming weights now."),
        ("Learning rate", f"{lr:g}", "The learning rate now (the one it died under, unless "
         "changed since)."),
    )  # fmt: skip
    st.html(tiles_html(tiles))
    left, right = st.columns([1, 1])
    if layer.maps is not None and u < len(layer.maps):
        left.image(charts.network.unit_png(layer.maps[u]), width=200,
                   caption="Its output over the input plane")  # fmt: skip
    edges, counts = layer.hist_pre[u]
    hist = charts.network.unit_histogram_chart(edges, counts, "What its activation receives")
    spec(hist, "unit_hist", height=220).show(right)
    spec(charts.network.incoming_chart(incoming, names, "Its incoming weights"),
         "unit_in", height=max(150, 18 * len(incoming) + 90)).show(left)  # fmt: skip


def histograms(snap: Snapshot) -> Show:
    """Per-layer histograms before or after the activation, exact zeros in a bar of their own.

    Its toggle is drawn at once (its value picks the chart), the chart with the others.
    """
    side = st.segmented_control(
        "Histograms of",
        ["after the activation", "before it"],
        default="after the activation",
        key="hist_side",
        help="After: what each layer passes on. Before: the weighted sums the function receives.",
    )
    layers, labels = snap.histograms, snap.info.layer_labels
    columns, width = (
        PHONE_HISTOGRAMS if screen.narrow() else (charts.base.HIST_COLUMNS, charts.base.HIST_WIDTH)
    )
    if side == "before it":
        chart = charts.histogram_chart(
            layers.hist_pre,
            "Input to each layer's activation",
            labels,
            zeros=layers.zeros_pre,
            columns=columns,
            width=width,
        )
    else:
        chart = charts.histogram_chart(
            layers.hist_post,
            "Output of each hidden layer",
            labels,
            zeros=layers.zeros_post,
            columns=columns,
            width=width,
        )
    hist = spec(chart, "hist", width="content")

    def show() -> None:
        hist.show(st)
        st.caption(
            f"Histograms over {PROBE_SET}. Values piled against a bound mean units near "
            "saturation. Values that are exactly 0 get a bar of their own (after a ReLU: the "
            "units on its flat side); the other bars hold everything else, however close to 0."
        )

    return show


def unit_health(snap: Snapshot) -> Show:
    """Dead, resting and saturated units per layer, where the network's activations can be so."""
    layers = snap.latest.layers
    columns = snap.latest.layer_columns()
    dead_panel = _share_panel(
        snap,
        "dead_fraction",
        "Dead",
        f"Dead: {STATE_RULES['dead']}. With plain SGD it stays dead unless earlier layers "
        "change what it receives; with momentum or Adam, steps already under way can still "
        "move it. Units dead from step 0 (the starting weights never let them respond) are "
        "drawn apart from units that died during training.",
        columns.get("dead_from_start_fraction"),
    )
    resting_panel = _share_panel(
        snap, "resting_fraction", "Resting", f"Resting: {STATE_RULES['resting']}.", warn=False
    )
    saturated_panel = _share_panel(
        snap,
        "saturated_fraction",
        "Saturated",
        f"Saturated: {STATE_RULES['saturated']}: it barely learns.",
    )
    warning = _dead_warning(snap, layers.dead_fraction, columns.get("dead_from_start_fraction"))

    def show() -> None:
        for panel in (dead_panel, resting_panel, saturated_panel):
            if panel is not None:
                panel()
            if panel is dead_panel and warning:
                st.warning(warning, icon=":material/heart_broken:")

    return show


# what keeps units from dying, as measured in the Dying ReLU lab: units of these rest or keep
# a slope instead of dying
NO_DEATH = ("leaky_relu", "prelu", "elu")


def _dead_warning(
    snap: Snapshot, dead: np.ndarray, from_start: np.ndarray | None = None
) -> str | None:
    """The worst layer's dead share past the threshold, with cures this network is not
    already using (never the activation in use, and not He initialisation, which the Dying
    ReLU lab measures leaving as many units dead). Units dead since step 0 were not killed
    by the steps, so a lower learning rate is not offered for them."""
    threshold = snap.cfg.dead_threshold
    if np.isnan(dead).all():
        return None
    worst = int(np.nanargmax(dead))
    if not dead[worst] > threshold:
        return None
    in_use = set(snap.info.layer_keys)
    swaps = [activations.get(k).label for k in NO_DEATH if k not in in_use]
    born = from_start is not None and from_start[worst] >= dead[worst] / 2
    cures = ["wider or fewer layers"] if born else ["a lower learning rate"]
    if swaps:
        cures.append(" or ".join(swaps) + " (their units rest or keep a slope instead of dying)")
    if not snap.cfg.batch_norm:
        cures.append("batch norm (fewer units die, though some still can)")
    why = (
        " Most of them have been dead since step 0: the starting weights never let them "
        "respond, and a lower learning rate will not bring them back."
        if born
        else ""
    )
    return (
        f"Layer {worst + 1} has {dead[worst]:.0%} dead units (warning at {threshold:.0%}).{why} "
        f"What helps: {'; '.join(cures)}."
    )


def _share_panel(
    snap: Snapshot,
    column: str,
    word: str,
    caption: str,
    from_start: np.ndarray | None = None,
    warn: bool = True,
) -> Show | None:
    """A per-layer share over time and now; None where the measure does not apply."""
    now = getattr(snap.latest.layers, column)
    if np.isnan(now).all():
        return None
    title = f"{word} units per layer"
    lines = spec(
        charts.layer_lines_chart(snap.layers, column, title, percent=True), column, height=280
    )
    share = spec(
        charts.layer_share_chart(
            np.nan_to_num(now),
            snap.cfg.dead_threshold if warn else None,
            f"{word} now",
            snap.info.layer_labels,
            from_start=None if from_start is None else np.nan_to_num(from_start),
        ),
        f"{column}_now",
    )

    def show() -> None:
        c1, c2 = st.columns([2, 1])
        lines.show(c1)
        share.show(c2)
        st.caption(caption)

    return show


def gradients(snap: Snapshot) -> Show:
    """Per-layer weight-gradient norms over training, on a log scale."""
    chart = charts.layer_lines_chart(
        snap.layers, "grad_norm", "Gradient norm per layer (log scale)", log_scale=True
    )
    grad = spec(chart, "grad", height=280)

    def show() -> None:
        grad.show(st)
        st.caption(
            f"Size of each layer's weight gradient of the loss on {PROBE_SET}, at the weights "
            "of each probe: measured the same way at every probe, so the first point compares "
            "with the last. Layer 1's line orders of magnitude below the last layer's means "
            "vanishing gradients; far above it, exploding ones."
        )

    return show
