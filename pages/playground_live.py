"""Playground: pick a network, press Play, and watch it learn, layer by layer.

Widgets come from the settings table (playground.config), so the sidebar, the URL and the
validation always agree. A worker thread trains (playground.runner); a fragment polls snapshots
a few times a second while playing and sends nothing while paused.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import streamlit as st
from safetensors.torch import save as safetensors_bytes

from playground import activations, charts
from playground.config import (
    OPTIMIZERS,
    SETTING,
    RunConfig,
    from_query,
    to_query,
)
from playground.data import DATASETS
from playground.model import INITS, PAIRINGS
from playground.runner import MAX_RUNNING, Snapshot, Trainer
from playground.train import available_devices

REFRESH_S = 0.5  # chart refresh while playing: 2 Hz leaves the trainer most of the GIL
LR_STEPS = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
WIDTHS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]
BATCHES = [1, 2, 4, 5, 8, 10, 16, 20, 32, 50, 64, 100, 128, 256, 500, 1000, 2000, 5000]
PENALTIES = [0.0, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0]


# ---- session state: the trainer and the settings ---------------------------------------------
class TrainerBox:
    """Holds this session's trainer; released (thread stopped) when the session ends."""

    def __init__(self) -> None:
        self.trainer: Trainer | None = None

    def close(self) -> None:
        if self.trainer is not None:
            self.trainer.close()


@st.cache_resource(scope="session", on_release=TrainerBox.close, show_spinner=False)
def session_box() -> TrainerBox:
    return TrainerBox()


def key(name: str) -> str:
    return f"cfg_{name}"


def restore_settings() -> None:
    """Put back widget values Streamlit dropped.

    Streamlit forgets a widget's value on any run that does not draw it: after a visit to
    another page, for the blobs-only slider, for another activation's alpha. The values are
    kept under one plain key and restored before the widgets are drawn.
    """
    for name, value in st.session_state.get("saved_settings", {}).items():
        if name not in st.session_state:
            st.session_state[name] = value


def save_settings() -> None:
    st.session_state["saved_settings"] = {
        k: v for k, v in st.session_state.items() if isinstance(k, str) and k.startswith("cfg_")
    }


def load_link_once() -> None:
    """On a session's first run, apply the URL's settings (with notices for what was dropped)."""
    if "saved_settings" in st.session_state:
        restore_settings()
        return
    cfg, notices = from_query(st.query_params.to_dict())
    unavailable = available_devices().get(cfg.device)
    if unavailable:
        notices.append(unavailable)
        cfg = cfg.replace(device="cpu")
    for s in SETTING.values():
        st.session_state[key(s.key)] = getattr(cfg, s.key)
    if cfg.alpha is not None:
        st.session_state[key(f"alpha_{cfg.activation}")] = cfg.alpha
    if "alpha" in st.query_params and activations.get(cfg.activation).param is None:
        notices.append(f"alpha does not apply to {cfg.activation}; ignored.")
    st.session_state["notices"] = notices
    save_settings()


# ---- sidebar: one widget per setting -----------------------------------------------------------
def with_value(options: list, value: float) -> list:
    """A select-slider's options, including a value from a link that is not on the grid."""
    return options if value in options else sorted([*options, value])


def sidebar() -> RunConfig:
    """Draw the settings and return the config they describe (not yet validated)."""
    sb = st.sidebar
    sb.header("Data")
    dataset = sb.selectbox(
        "Dataset",
        list(DATASETS),
        key=key("dataset"),
        format_func=lambda k: f"{DATASETS[k].label} ({DATASETS[k].task})",
        help=SETTING["dataset"].help,
    )
    spec = DATASETS[dataset]
    sb.caption(spec.help)
    ranged(sb.slider, "n_points")
    ranged(sb.slider, "noise", step=0.01)
    ranged(sb.slider, "train_ratio", step=0.05)
    if dataset == "blobs":
        ranged(sb.slider, "n_classes", label="Classes")
    ranged(sb.number_input, "data_seed")

    sb.header("Network")
    act = sb.selectbox(
        "Hidden activation",
        list(activations.HIDDEN_KEYS),
        key=key("activation"),
        format_func=lambda k: activations.get(k).label,
        help=SETTING["activation"].help,
    )
    alpha = alpha_widget(act)
    ranged(sb.slider, "depth")
    grid_slider("Units per layer", WIDTHS, "width", str)
    sb.selectbox(
        "Initialisation",
        list(INITS),
        key=key("init"),
        format_func=lambda k: f"{k}: {INITS[k]}",
        help=SETTING["init"].help,
    )
    sb.toggle("Batch norm", key=key("batch_norm"), help=SETTING["batch_norm"].help)
    pairings = ["auto", *(k for k, p in PAIRINGS.items() if p.task == spec.task)]
    if st.session_state[key("pairing")] not in pairings:
        st.session_state[key("pairing")] = "auto"
    sb.selectbox(
        "Output and loss",
        pairings,
        key=key("pairing"),
        format_func=lambda k: "auto (recommended)" if k == "auto" else PAIRINGS[k].label,
        help=SETTING["pairing"].help,
    )
    ranged(sb.number_input, "init_seed")

    sb.header("Training")
    sb.selectbox(
        "Optimiser",
        list(OPTIMIZERS),
        key=key("optimizer"),
        format_func=OPTIMIZERS.get,
        help=SETTING["optimizer"].help,
    )
    grid_slider("Learning rate", LR_STEPS, "lr")
    grid_slider("Batch size", BATCHES, "batch_size", str)
    grid_slider("L1 penalty", PENALTIES, "l1")
    grid_slider("L2 penalty", PENALTIES, "l2")
    device_widget()
    sb.header("Display")
    sb.toggle("Log-scale loss", key=key("log_loss"), help=SETTING["log_loss"].help)
    ranged(sb.slider, "dead_threshold", step=0.05)
    with sb.expander("Advanced"):
        st.text_input(
            "Per-layer activations",
            key=key("layer_activations"),
            placeholder="e.g. relu,relu,tanh",
            help=SETTING["layer_activations"].help,
        )
        ranged(st.number_input, "probe_every", label="Probe every k steps (0 = by time)")
        ranged(st.number_input, "probe_ms")
    save_settings()
    values = {s: st.session_state[key(s)] for s in SETTING}
    values["alpha"] = alpha
    return RunConfig(**values)


def ranged(widget: Any, name: str, label: str | None = None, **kw: Any) -> None:
    """A slider or number box whose label, range and help come from the settings table."""
    s = SETTING[name]
    low, high = (s.low, s.high) if s.kind is float else (int(s.low), int(s.high))
    widget(label or s.label, low, high, key=key(name), help=s.help, **kw)


def grid_slider(label: str, grid: list, name: str, fmt: Any = lambda v: f"{v:g}") -> None:
    """A slider over a grid of sensible values (plus a value from a link that is off the grid)."""
    st.sidebar.select_slider(
        label,
        with_value(grid, st.session_state[key(name)]),
        key=key(name),
        format_func=fmt,
        help=SETTING[name].help,
    )


def alpha_widget(act: str) -> float | None:
    """The activation's own parameter, remembered per activation; None means its default."""
    param = activations.get(act).param
    if param is None:
        return None
    k = key(f"alpha_{act}")
    if k not in st.session_state:
        st.session_state[k] = param.default
    value = st.sidebar.number_input(
        f"{param.name} ({activations.get(act).label})",
        param.low,
        param.high,
        step=0.01,
        key=k,
        help=param.help,
    )
    return None if value == param.default else value


def device_widget() -> None:
    devices = available_devices()
    usable = [d for d, why in devices.items() if why is None]
    if st.session_state[key("device")] not in usable:
        st.session_state[key("device")] = "cpu"
    st.sidebar.radio(
        "Device", usable, key=key("device"), horizontal=True, help=SETTING["device"].help
    )
    for name, why in devices.items():
        if why is not None:
            st.sidebar.checkbox(
                f"{name.upper()}: not available",
                value=False,
                disabled=True,
                help=why.split(";")[0] + ".",
                key=f"no_{name}",
            )


# ---- the run ---------------------------------------------------------------------------------
def sync(cfg: RunConfig) -> Trainer | None:
    """Make the trainer match the settings; bad settings leave the current run alone."""
    box = session_box()
    problems = cfg.problems()
    if problems:
        for _, message in problems:
            st.error(
                f"Not applied: {message}. The current run is unchanged.", icon=":material/warning:"
            )
        return box.trainer
    query = to_query(cfg)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
    trainer = box.trainer
    if trainer is None or trainer.closed:
        box.trainer = Trainer(cfg)
    elif cfg.needs_rebuild(trainer.run.cfg):
        st.session_state["notices"] = []  # the link's settings are no longer what is shown
        trainer.close()
        box.trainer = Trainer(cfg)
        st.toast(
            "Settings changed: the network was rebuilt and training starts from step 0.",
            icon=":material/restart_alt:",
        )
    else:
        if cfg.lr != trainer.run.cfg.lr:
            trainer.set_lr(cfg.lr)
            st.toast(f"Learning rate is now {cfg.lr:g}, applied mid-run.", icon=":material/tune:")
        if cfg != trainer.run.cfg:
            trainer.set_display(cfg)
    return box.trainer


def controls(trainer: Trainer) -> None:
    """Play/Pause, Step, Reset: buttons outside the live fragment, so a click reruns the page."""
    c1, c2, c3, c4 = st.columns([1, 1, 1, 3])
    if trainer.playing:
        c1.button(
            "Pause",
            key="pause",
            type="primary",
            icon=":material/pause:",
            on_click=trainer.pause,
            help="Stop training; the run is kept.",
        )
    else:
        c1.button(
            "Play",
            key="play",
            type="primary",
            icon=":material/play_arrow:",
            on_click=trainer.play,
            help="Train continuously and watch the charts move.",
        )
    c2.button(
        "Step",
        key="step",
        icon=":material/skip_next:",
        disabled=trainer.playing,
        on_click=trainer.step,
        help="One update on one batch, then measure everything.",
    )
    c3.button(
        "Reset",
        key="reset",
        icon=":material/restart_alt:",
        on_click=trainer.reset,
        help="Back to step 0 with the same starting weights.",
    )
    c4.caption(
        f"Trains on the server's {trainer.run.device.type.upper()}; up to {MAX_RUNNING} "
        "runs at once on this server."
    )


# ---- what the page shows ------------------------------------------------------------------------
def metrics(snap: Snapshot) -> None:
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


def draw(
    where: Any, chart: Any, key: str, width: str = "stretch", height: int | str = "content"
) -> None:
    """Render an Altair chart from its pre-built spec (see charts.vega_spec for why)."""
    where.vega_lite_chart(spec=charts.vega_spec(chart), key=key, width=width, height=height)


def fmt(x: float) -> str:
    """Four significant digits, short enough for a metric tile even when tiny."""
    if not math.isfinite(x):
        return "—"
    return f"{x:.2e}" if 0 < abs(x) < 1e-3 else f"{x:.4g}"


def layer_labels(snap: Snapshot) -> list[str]:
    return [activations.get(k).label for k in snap.layer_keys]


def show_charts(snap: Snapshot, trainer: Trainer) -> None:
    cfg = snap.cfg
    left, right = st.columns([1, 1])
    if snap.boundary is not None:
        data = trainer.run.data
        points = charts.points_frame(data.x_train, data.y_train, data.x_test, data.y_test)
        draw(
            left,
            charts.boundary_chart(snap.boundary, points, snap.task, data.class_names),
            key="boundary",
            width="content",
        )
        left.caption(
            "The network's output over the input plane, with training points (filled) and "
            "test points (hollow)."
        )
        loss_at, metric_at = right, right
    else:  # no map for more than two input features: the curves side by side instead
        loss_at, metric_at = left, right
    draw(loss_at, charts.loss_chart(snap.probes, cfg.log_loss), key="loss", height=280)
    draw(metric_at, charts.metric_chart(snap.probes, snap.task), key="metric", height=280)
    metric_at.caption(
        "Loss and accuracy on the training points (up to 512 of them) and on the held-out "
        "test points, measured at every probe. A widening gap between them means overfitting."
        if snap.task != "regression"
        else "Loss and R² (1 is a perfect fit, 0 is no better than predicting the mean) on the "
        "training points (up to 512 of them) and on the held-out test points."
    )

    labels = layer_labels(snap)
    st.subheader("Inside the network")
    side = st.segmented_control(
        "Histograms of",
        ["after the activation", "before it"],
        default="after the activation",
        key="hist_side",
        help="After: what each layer passes on. Before: the weighted sums the function receives.",
    )
    layers = snap.histograms
    if side == "before it":
        chart = charts.histogram_chart(layers.hist_pre, "Input to each layer's activation", labels)
    else:
        chart = charts.histogram_chart(layers.hist_post, "Output of each hidden layer", labels)
    draw(st, chart, key="hist", width="content")
    st.caption(
        "Histograms over a fixed probe set of up to 512 training points. Piled against a "
        "bound means saturation; a spike at exactly 0 for ReLU means silent units."
    )
    unit_health(snap, labels)
    draw(
        st,
        charts.layer_lines_chart(
            snap.layers, "grad_norm", "Gradient norm per layer (log scale)", log_scale=True
        ),
        key="grad",
        height=280,
        width="stretch",
    )
    st.caption(
        "Size of each layer's weight gradient at the training step the probe fired. "
        "Lines falling by orders of magnitude toward layer 1 mean vanishing gradients; "
        "rising ones mean exploding gradients."
    )


def unit_health(snap: Snapshot, labels: list[str]) -> None:
    """Dead units (ReLU family) and saturated units (sigmoid/tanh family), where they apply."""
    layers = snap.latest.layers
    threshold = snap.cfg.dead_threshold
    dead = layers.dead_fraction
    if share_charts(snap, labels, "dead_fraction", "Dead", dead_caption(snap)):
        worst = int(np.nanargmax(dead))
        if dead[worst] > threshold:
            st.warning(
                f"Layer {worst + 1} has {dead[worst]:.0%} dead units (warning at "
                f"{threshold:.0%}). Usual cures: a lower learning rate, He initialisation, "
                "Leaky ReLU / PReLU / ELU, or batch norm.",
                icon=":material/heart_broken:",
            )
    share_charts(
        snap,
        labels,
        "saturated_fraction",
        "Saturated",
        "A unit is saturated when its activation's slope is below 0.01 for every probe point: "
        "it passes almost no gradient back, so it barely learns.",
    )


def share_charts(snap: Snapshot, labels: list[str], column: str, word: str, caption: str) -> bool:
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
    draw(
        c2,
        charts.layer_share_chart(
            np.nan_to_num(now), snap.cfg.dead_threshold, f"{word} now", labels
        ),
        key=f"{column}_now",
    )
    st.caption(caption)
    return True


def dead_caption(snap: Snapshot) -> str:
    keys = set(snap.layer_keys)
    if keys <= {"relu", "hardswish"}:
        return (
            "A unit is dead when it outputs exactly 0 for every probe point (up to 512 "
            "training points): no gradient reaches its weights, so it stays dead unless earlier "
            "layers change what it receives."
        )
    return (
        "For ReLU a unit is dead when it outputs exactly 0 for every probe point. Leaky "
        "ReLU, PReLU, ELU and SELU never output exactly 0, so here a unit counts as dead "
        "when its input is negative for every probe point: stuck on the weak side."
    )


def downloads(trainer: Trainer) -> None:
    """History, weights and config, copied under the trainer's lock when clicked."""
    with st.expander("Downloads"):
        c1, c2, c3 = st.columns(3)
        c1.download_button(
            "History (CSV)",
            data=lambda: trainer.export()[0],
            file_name="history.csv",
            mime="text/csv",
            on_click="ignore",
            key="dl_csv",
            help="Every probe: losses, accuracy, per-layer statistics.",
        )
        c2.download_button(
            "Weights (safetensors)",
            data=lambda: safetensors_bytes(trainer.export()[1]),
            file_name="weights.safetensors",
            on_click="ignore",
            key="dl_weights",
            help="The trained weights, loadable with safetensors.torch.load.",
        )
        c3.download_button(
            "Config (JSON)",
            data=lambda: json.dumps(trainer.export()[2], indent=2),
            file_name="config.json",
            mime="application/json",
            on_click="ignore",
            key="dl_cfg",
            help="The exact settings, seeds included.",
        )


def explain(snap: Snapshot, trainer: Trainer) -> None:
    """What the chosen output/loss pairing means, and any warning it carries."""
    pairing = trainer.run.pairing
    st.caption(f"Task: **{snap.task}** · output and loss: **{pairing.label}** · {pairing.note}")
    if pairing.warning:
        st.warning(pairing.warning, icon=":material/warning:")
    if snap.device_note:
        st.info(snap.device_note)


# ---- page -------------------------------------------------------------------------------------
st.title("Playground")
load_link_once()
cfg = sidebar()
trainer = sync(cfg)
for notice in st.session_state.get("notices", []):  # shown until a setting is changed
    st.warning(f"Link: {notice}", icon=":material/link:")
if trainer is None:
    st.stop()
controls(trainer)


st.session_state["drawn_playing"] = trainer.playing


@st.fragment(run_every=REFRESH_S if trainer.playing else None)
def live() -> None:
    snap = trainer.snapshot()
    if snap.message:  # kept across the rerun below, which would otherwise swallow it
        st.session_state["trainer_message"] = snap.message
    if snap.playing != st.session_state["drawn_playing"]:
        st.rerun(scope="app")  # it stopped by itself (diverged, heartbeat): redraw the buttons
    message = st.session_state.pop("trainer_message", None)
    if message:
        st.info(message)
    if snap.divergence is not None:
        st.error(snap.divergence.message(), icon=":material/error:")
    metrics(snap)
    explain(snap, trainer)
    show_charts(snap, trainer)


live()
downloads(trainer)
