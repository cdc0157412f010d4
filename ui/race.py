"""A race of models trained in lock-step, as the Compare and Labs pages show it: the live
bands, the charts inside the networks, the results table and the downloads (`panel`); and the
Compare page's picker of what races (what varies, its values, the seeds, from the link).

The comparison's own settings (what varies, its values, the seeds, the target loss) live in one
session dict beside the Playground's settings, which give the dataset and the network: a
comparison opened from the Playground races the network the person was just looking at.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from playground import activations, charts
from playground.backends import TrainerHandle
from playground.comparison_config import (
    MAX_SEEDS,
    MAX_VARIANTS,
    VARIES,
    CompareConfig,
    compare_from_query,
    default_values,
    pairing_values,
    value_label,
)
from playground.comparison_trainer import CompareInfo, CompareSnapshot
from playground.config import INITS, LR_GRID, OPTIMIZERS, SETTING, RunConfig
from playground.probes import PROBE_ROWS
from ui import present, screen, session
from ui.panels import STATE_LEGEND, Show, one_view, tiles_html
from ui.settings import literal

STATE, NOTICES = "compare", "compare_notices"


def offered(vary: str, task: str, chosen: list[Any]) -> list[Any]:
    """The values a comparison may race for `vary`, plus any a link chose off the grid."""
    base: list[Any] = {
        "activation": list(activations.HIDDEN_KEYS),
        "init": list(INITS),
        "lr": list(LR_GRID),
        "optimizer": list(OPTIMIZERS),
        "batch_norm": [False, True],
        "pairing": list(pairing_values(task)),
    }[vary]
    extra = [v for v in chosen if v not in base and vary == "lr"]
    return sorted([*base, *extra]) if extra else base


def _load(cfg: CompareConfig, notices: list[str]) -> None:
    """The session's comparison settings from a link (before the widgets are drawn)."""
    st.session_state[STATE] = {"values": {cfg.vary: list(cfg.values)}}
    st.session_state[NOTICES] = (cfg, notices)
    st.session_state["cmp_vary"] = cfg.vary
    st.session_state[f"cmp_values_{cfg.vary}"] = list(cfg.values)
    st.session_state["cmp_seeds"] = cfg.seeds
    st.session_state["cmp_target"] = cfg.target


def picker(base: RunConfig, new_link: bool) -> CompareConfig:
    """What varies, its values, the seeds and the target loss, above the race."""
    if new_link or STATE not in st.session_state:
        _load(*compare_from_query(st.query_params.to_dict(), base))
    remembered: dict[str, list[Any]] = st.session_state[STATE]["values"]
    # presenting, the race has the screen: what races is one click away
    where = st.expander("What races") if present.chart() is not None else st.container()
    c1, c2, c3, c4 = where.columns([1.3, 4, 1, 1])
    vary = c1.selectbox(
        "What varies",
        list(VARIES),
        format_func=VARIES.__getitem__,
        key="cmp_vary",
        help="The one setting that differs between the variants; everything else is the sidebar's.",
    )
    key = f"cmp_values_{vary}"
    chosen = remembered.get(vary) or list(default_values(vary, base.task))
    options = offered(vary, base.task, chosen)
    st.session_state[key] = [v for v in st.session_state.get(key, chosen) if v in options]
    values = c2.multiselect(
        "Values",
        options,
        key=key,
        format_func=lambda v: value_label(vary, v),
        max_selections=MAX_VARIANTS,
        help=f"2 to {MAX_VARIANTS} variants, raced in the order chosen.",
    )
    remembered[vary] = values
    seeds = c3.number_input(
        "Weight seeds",
        1,
        MAX_SEEDS,
        key="cmp_seeds",
        help="Networks per variant, each from its own starting weights (seed s gives every "
        "variant the same weights where their shapes allow): the band is their spread.",
    )
    target = c4.number_input(
        "Target loss",
        min_value=1e-6,
        format="%g",
        key="cmp_target",
        help="The table counts the steps each variant took to reach this training loss.",
    )
    return CompareConfig(base, vary, tuple(values), int(seeds), float(target))


def show_notices(cfg: CompareConfig) -> None:
    """The link's comparison notices, and which sidebar setting the variants replace."""
    issued = st.session_state.get(NOTICES)
    if issued and not cfg.needs_rebuild(issued[0]):
        for notice in issued[1]:
            st.warning(f"Link: {literal(notice)}", icon=":material/link:")
    if cfg.vary in SETTING:
        st.caption(
            f"Each variant takes its **{VARIES[cfg.vary].lower()}** from the values above (the "
            "sidebar's is not used); dataset, network and training are the sidebar's, the same "
            "for every model, and every model sees the same batches."
        )


def about(info: CompareInfo, limit: int) -> None:
    """How many models race, in how many lock-step groups, and any pairing warnings."""
    groups = "one lock-step batch" if info.n_groups == 1 else f"{info.n_groups} lock-step groups"
    st.caption(
        f"{len(info.labels)} variants x {info.seeds} seeds = **{info.n_models} models**, "
        f"trained together as {groups} on the {info.device.upper()}: they count as "
        f"{info.n_models} of this server's {limit} models training at once."
    )
    for warning in info.warnings:
        st.warning(warning, icon=":material/warning:")
    if info.device_note:
        st.info(info.device_note)


# px, presenting on 1280 x 720: the race's training loss and the one chart beside it both end
# on the first screen, axes included (the test metric follows below the loss)
PRESENT_HEIGHT, PRESENT_RACE_HEIGHT = 230, 145


# ---- the race -----------------------------------------------------------------------------------
def race(snap: CompareSnapshot) -> list[Show]:
    """What redraws twice a second: the counters, the training loss and the test metric."""
    info = snap.info
    metric = info.metric_label
    scale = "unit" if info.task == "regression" else "share"
    log = "log" if snap.cfg.base.log_loss else "linear"
    loss = charts.band_chart(snap.bands, "train_loss", "Training loss", info.labels, "loss", log)
    test = charts.band_chart(
        snap.bands, "test_metric", f"Test {metric}", info.labels, metric, scale, ".3f"
    )
    high = PRESENT_RACE_HEIGHT if present.chart() is not None else charts.HEIGHT
    race_view = one_view([loss, test], "cmp_race", f"Training loss and test {metric}", high)
    return [_tiles(snap), race_view]


def _tiles(snap: CompareSnapshot) -> Show:
    """Counters and the leader by the test metric: accuracy (or R²) compares across variants
    whose losses differ in kind (softmax + NLLLoss's "loss" goes negative)."""
    table = snap.table
    metric = snap.info.metric_label
    leads = table["test_metric"].notna().any()
    best = table.loc[table["test_metric"].idxmax()] if leads else None
    shown = "—" if best is None else (
        f"{best['test_metric']:.3f}" if snap.info.task == "regression"
        else f"{best['test_metric']:.1%}"
    )  # fmt: skip
    frozen = int(table["diverged_seeds"].sum())
    tiles = (
        ("Step", f"{snap.step:,}", "Update steps taken by every model (one batch each)."),
        ("Epoch", f"{snap.epoch:,.1f}", "Passes over the training set."),
        ("Steps / s", f"{snap.steps_per_s:,.0f}", "Lock-step steps a second: every model."),
        ("Models", f"{snap.info.n_models}", "Variants x seeds, trained in lock-step."),
        (
            f"Best test {metric}" + ("" if best is None else f": {best['variant']}"),
            shown,
            f"The variant whose median test {metric} over its seeds is highest now.",
        ),
        ("Diverged", f"{frozen}", "Models frozen after their loss stopped being finite."),
    )
    if present.chart() is not None:  # a projector: the four that matter, each wide enough
        tiles = (tiles[0], tiles[2], tiles[4], tiles[5])
    body = tiles_html(tiles)
    return lambda: st.html(body)


def notes(info: CompareInfo) -> None:
    """What a band is, said once between the live parts."""
    st.caption(
        f"Each line is a variant's median over its {info.seeds} seeds, its band the lowest to "
        "the highest seed; a seed that diverges leaves its variant's line and band altogether "
        "(the table counts it apart), so it neither stretches nor flattens the others. Losses "
        f"and accuracy are measured on up to {PROBE_ROWS:,} training points and on the test "
        "points."
    )
    st.subheader("Inside the networks, and the results")


def inside(snap: CompareSnapshot) -> list[Show]:
    """The slower parts, redrawn every couple of seconds: test loss, dead units, gradients,
    the results table and who diverged."""
    labels = snap.info.labels
    log = "log" if snap.cfg.base.log_loss else "linear"
    test = charts.band_chart(snap.bands, "test_loss", "Test loss", labels, "loss", log)
    dead = charts.band_chart(
        snap.bands, "dead_share", "Dead units", labels, "share of hidden units", "share", ".1%"
    )
    grads = charts.band_chart(
        snap.bands, "grad_norm", "Gradient norm", labels, "norm (last step)", "log"
    )
    chosen = present.chart()
    if chosen is not None:  # a projector's one screen: the chart the link chose, map-high
        chart, label = {"gradients": (grads, "Gradient norm"), "health": (dead, "Dead units")}.get(
            chosen, (test, "Test loss")
        )
        return [one_view([chart], "cmp_inside", label, PRESENT_HEIGHT)]
    view = one_view(
        [test, dead, grads], "cmp_inside", "Test loss, dead units and gradient norm", 160
    )
    return [view, *by_layer(snap), results(snap)]


def by_layer(snap: CompareSnapshot) -> list[Show]:
    """Each measurement by hidden layer, now: where in the network units die, saturate or
    stop getting gradient (the first layers, for a deep sigmoid network)."""
    if snap.profile.empty or snap.profile["layer"].max() < 2:
        return []
    p, labels = snap.profile, snap.info.labels
    layer = {"over": "layer"}
    measured = set(p["metric"])
    states = [s for s in ("dead", "resting", "saturated") if f"{s}_fraction" in measured]
    chart_list = [
        *(charts.band_chart(p, f"{s}_fraction", f"{s.capitalize()} units by layer", labels,
                            f"share {s}", "share", ".1%", **layer) for s in states),
        charts.band_chart(p, "grad_norm", "Gradient norm by layer", labels,
                          "weight-gradient norm", "log", **layer),
    ]  # fmt: skip
    title = ", ".join(s.capitalize() if not i else s for i, s in enumerate(states))
    view = one_view(chart_list, "cmp_layers", f"{title} and gradient by layer", 160)
    caption = (
        "Unit states at the latest probe, on the probe set; gradient norms from the last "
        "training step's batch (noisier and larger than the Playground's probe-set gradients). "
        "Each variant's median over its live seeds, the band its lowest to highest. "
        f"{STATE_LEGEND} A variant whose activation cannot reach a state (a Leaky ReLU unit "
        "with alpha above 0 cannot die, a ReLU unit cannot saturate) draws no line there."
    )
    return [lambda: st.subheader("By layer, now"), view, lambda: st.caption(caption)]


TABLE_COLUMNS = {
    "variant": "Variant",
    "train_loss": "Train loss",
    "test_loss": "Test loss",
    "train_metric": "Train {m}",
    "test_metric": "Test {m}",
    "to_target": "Steps to target",
    "dead_share": "Dead units",
    "deaths": "Units died",
    "grad_norm": "Gradient norm",
    "diverged_seeds": "Diverged seeds",
    "ms_per_step": "ms / step",
}


def results_frame(snap: CompareSnapshot) -> pd.DataFrame:
    """The table as shown: medians over finite seeds, and steps to target as 'N (k/S)'."""
    t = snap.table.copy()
    s = snap.info.seeds
    t["deaths"] = [_deaths(row) for _, row in t.iterrows()]
    t["dead_share"] = [
        "cannot die" if math.isnan(d) else f"{d:.1%}" for d in t["dead_share"]
    ]  # a Leaky ReLU unit's slope is never 0: "cannot die", not 0 %
    t["to_target"] = [
        f"{steps:,.0f} ({k}/{s})" if k else f"not yet (0/{s})"
        for steps, k in zip(t["steps_to_target"], t["reached"], strict=True)
    ]
    metric = "R²" if snap.info.task == "regression" else "acc."
    names = {k: v.format(m=metric) for k, v in TABLE_COLUMNS.items()}
    return t[list(TABLE_COLUMNS)].rename(columns=names)


def _deaths(row: pd.Series) -> str:
    """When this variant's units died: '42% by ~2,600; 3% at 0' (k % of its units died,
    half of them by probe step N; j % were dead from step 0)."""
    if math.isnan(row["dead_share"]):
        return "cannot die"
    parts = []
    if row["died_training"] > 0:
        parts.append(f"{row['died_training']:.0%} by ~{row['died_at']:,.0f}")
    if row["dead_from_start"] > 0:
        parts.append(f"{row['dead_from_start']:.0%} at 0")
    return "; ".join(parts) or "none"


# what a phone's table keeps: the variant and how it did (the rest scroll off a 390 px screen)
PHONE_COLUMNS = ("variant", "test_metric", "dead_share", "diverged_seeds")


def results(snap: CompareSnapshot) -> Show:
    frame = results_frame(snap)
    narrow = screen.narrow()
    if narrow:
        keep = [TABLE_COLUMNS[k].format(m="R²" if snap.info.task == "regression" else "acc.")
                for k in PHONE_COLUMNS]  # fmt: skip
        frame = frame[keep]
    percent = snap.info.task != "regression"
    metric = "R²" if not percent else "acc."
    config = {
        f"Train {metric}": st.column_config.NumberColumn(format="percent" if percent else "%.3f"),
        f"Test {metric}": st.column_config.NumberColumn(format="percent" if percent else "%.3f"),
        "Dead units": st.column_config.TextColumn(
            help="Median share of hidden units whose slope is exactly 0 for every probe input "
            "(float32): no gradient reaches them. 'cannot die': the activation's slope is "
            "never 0 (Leaky ReLU and PReLU with alpha above 0, linear)."
        ),
        "Train loss": st.column_config.NumberColumn(format="%.4f"),
        "Test loss": st.column_config.NumberColumn(format="%.4f"),
        "Gradient norm": st.column_config.NumberColumn(format="%.3g"),
        "ms / step": st.column_config.NumberColumn(
            format="%.2f", help="Time per lock-step step of the group this variant trains in."
        ),
        "Units died": st.column_config.TextColumn(
            width="medium",
            help="Share of all the variant's hidden units (its live seeds) that died while "
            "training, and the median probe step at which they did; and the share dead from "
            "step 0, which the starting weights never let fire.",
        ),
        "Steps to target": st.column_config.TextColumn(
            help=f"Median first probe step with training loss <= {snap.cfg.target:g}, over the "
            "seeds that reached it (how many did, of all)."
        ),
    }
    frozen = snap.frozen
    target = snap.cfg.target

    def show() -> None:
        st.dataframe(frame, hide_index=True, column_config=config, width="stretch")
        st.caption(
            f"Medians over each variant's seeds that have not diverged, at step {snap.step:,}; "
            + (
                "on a wider screen, or in the CSV below, the losses, steps to target, deaths "
                "and time per step too."
                if narrow
                else f"steps to target: to a training loss of {target:g} (set above)."
            )
        )
        for variant, why in frozen.items():
            st.warning(
                f"**{variant}**: {len(why)} seed(s) diverged and froze; the others go on. "
                + "; ".join(why),
                icon=":material/error:",
            )

    return show


def downloads(trainer: TrainerHandle) -> None:
    """The results table, every model's curves, and the comparison's config."""
    session.download_row(
        [
            session.Download("Results (CSV)", lambda: trainer.export()[0],
                             "comparison-results.csv", "text/csv", "cmp_dl_table",
                             "The results table: one row per variant."),
            session.Download("Curves (CSV)", lambda: trainer.export()[1],
                             "comparison-curves.csv", "text/csv", "cmp_dl_curves",
                             "Every model's probes: step, variant, seed, losses, accuracy, "
                             "dead share."),
            session.Download("Config (JSON)", lambda: trainer.export()[2], "comparison.json",
                             "application/json", "cmp_dl_cfg",
                             "The exact comparison: the shared settings, what varies, its "
                             "values, the seeds."),
        ]
    )  # fmt: skip


def panel(trainer: TrainerHandle, page: str, after: Callable[[], None] | None = None) -> None:
    """A comparison's controls, its size, the live race and its downloads (`after` drawn
    between the race and the downloads): the Compare page's and every lab's."""
    session.controls(trainer, page=page)
    about(trainer.info, session.backend().max_models)
    presenting = present.chart() is not None
    beside = st.columns([3, 2]) if presenting else None  # the race and one chart, one screen
    session.live(
        trainer,
        race,
        inside,
        notes=None if presenting else lambda: notes(trainer.info),
        beside=beside,
    )
    if after is not None:
        after()
    downloads(trainer)
