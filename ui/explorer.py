"""The Explorer's parts: pick activations, see f and f', read each one's sheet and the
measured table, and ask which one to use.

Everything shown is computed by the engine (`playground.properties`, `playground.advice`); this
module only lays it out. The measured table is cached per device: it is deterministic but for
its timing column, and measuring all thirteen functions takes a few seconds.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from playground import activations, advice, charts, properties
from playground.config import SCHEMA_VERSION
from playground.train import available_devices
from ui import panels, screen
from ui.settings import literal

PLAYGROUND = "pages/1_playground.py"
KEYS = activations.HIDDEN_KEYS
DEFAULT_PICK = ["relu", "tanh", "sigmoid"]
RANGE = (-10.0, 10.0)
ROW_PX = 35  # a table row's height: the measured table is shown whole, without a scrollbar


LINK_KEYS, LINK_RANGE = "act", "x"  # the Explorer's link: ?act=relu,gelu&x=-4,4


def _from_link() -> list[str]:
    """Seed the picker from the page's link on a first visit (or a new link); what it cannot
    use is named, and the defaults stand in."""
    params = st.query_params.to_dict()
    arrived = (params.get(LINK_KEYS), params.get(LINK_RANGE))
    if arrived == st.session_state.get("explore_link") or not any(arrived):
        return []
    st.session_state["explore_link"] = arrived
    notices = []
    if arrived[0]:
        asked = [k.strip() for k in arrived[0].split(",") if k.strip()]
        keys = [k for k in dict.fromkeys(asked) if k in KEYS]
        if len(keys) < len(asked):
            unknown = ", ".join(literal(k) for k in asked if k not in KEYS)
            instead = "left out" if keys else "using the default pick"
            notices.append(
                f"act: {unknown} named no hidden activation ({', '.join(KEYS)}); {instead}"
            )
        st.session_state["explore_keys"] = keys or DEFAULT_PICK
    if arrived[1]:
        try:
            lo, hi = sorted(float(v) for v in arrived[1].split(","))
            if not RANGE[0] <= lo < hi <= RANGE[1]:
                raise ValueError
            st.session_state["explore_range"] = (lo, hi)
        except ValueError:
            notices.append(
                f"x must be two numbers from {RANGE[0]:g} to {RANGE[1]:g}; using the default range"
            )
    return notices


def _to_link(keys: list[str], span: tuple[float, float]) -> None:
    """What is drawn, in the address bar: a link opens the same plots."""
    written = {LINK_KEYS: ",".join(keys), LINK_RANGE: f"{span[0]:g},{span[1]:g}"}
    st.session_state["explore_link"] = (written[LINK_KEYS], written[LINK_RANGE])
    if {k: st.query_params.get(k) for k in written} != written:
        st.query_params.update(written)


def pick() -> tuple[list[str], dict[str, float | None], tuple[float, float]]:
    """The chosen activations, each one's parameter, and the x range to draw; both travel in
    the page's link."""
    for notice in _from_link():
        st.warning(f"Link: {notice}.", icon=":material/link:")
    label = {k: activations.get(k).label for k in KEYS}
    st.session_state.setdefault("explore_keys", DEFAULT_PICK)  # a link's pick may be there
    st.session_state.setdefault("explore_range", (-5.0, 5.0))
    keys = st.multiselect(
        "Activations",
        KEYS,
        format_func=label.get,
        key="explore_keys",
        help="Pick one to study it, or several to overlay them. Softmax, a function of a "
        "whole vector, is described under the table.",
    )
    lo, hi = st.slider("x range", *RANGE, step=0.5, key="explore_range", help="Inputs drawn.")
    alphas: dict[str, float | None] = {}
    tuned = [k for k in keys if activations.get(k).param is not None]
    for col, key in zip(st.columns(max(len(tuned), 1)), tuned, strict=False):
        param = activations.get(key).param
        assert param is not None
        alphas[key] = col.number_input(
            f"{label[key]}: {param.name}",
            min_value=param.low,
            max_value=param.high,
            value=param.default,
            step=param.step,
            key=f"explore_alpha_{key}",
            help=param.help,
        )
    _to_link(keys, (lo, hi))
    return keys, alphas, (lo, hi)


def plots(keys: list[str], alphas: dict[str, float | None], span: tuple[float, float]) -> None:
    """f and f' side by side, and how closely autograd agrees with the hand-written f'."""
    rows, gaps = [], {}
    for key in keys:
        c = properties.curve(key, *span, alphas.get(key))
        name = activations.get(key).label
        rows.append(pd.DataFrame({"x": c["x"], "activation": name, "f": c["f"], "d": c["slope"]}))
        gaps[name] = c["gap"]
    frame = pd.concat(rows, ignore_index=True)
    left, right = st.columns(2)
    panels.spec(charts.function_chart(frame, "f", "f(x)"), "explore_f").show(left)
    panels.spec(charts.function_chart(frame, "d", "f'(x)"), "explore_d").show(right)
    worst = max(gaps.values())
    each = ", ".join(f"{name} {gap:.1e}" for name, gap in gaps.items())
    st.caption(
        f"The derivative drawn is the hand-written one. Autograd's, computed at the same "
        f"{len(rows[0])} points in float64, differs from it by at most {worst:.1e} ({each}): "
        "the formulas below are the ones PyTorch trains with."
    )


def sheet(key: str, alpha: float | None) -> None:
    """One activation's formula, derivative, range, kinks, use and our note."""
    entry = activations.get(key)
    left, right = st.columns(2)
    left.latex(entry.formula)
    right.latex(entry.derivative_formula)
    a = f" (here alpha = {alpha:g})" if entry.param and alpha is not None else ""
    st.markdown(f"**Range** ${entry.range_latex}${a} · **best for** {entry.best_for}")
    st.markdown(entry.uses)
    found = properties.kinks(key, alpha)
    if found:
        for k in found:
            st.markdown(
                f"Not differentiable at x = {k.x:g}: the slope is {k.left:.4g} just left of it "
                f"and {k.right:.4g} just right. PyTorch returns **{k.autograd:.4g}** there, "
                "and that is the slope training uses."
            )
    else:
        st.markdown("Differentiable everywhere" + (" at this alpha." if entry.param else "."))
    if entry.correction:
        st.info(entry.correction, icon=":material/fact_check:")


@st.cache_data(show_spinner="Measuring every activation…", max_entries=4)
def _measured(device: str) -> list[properties.Properties]:
    return properties.table(device=device)


LATEX_WORDS = {r"\infty": "∞", r"\alpha": "α", r"\lambda": "λ", r"\ldots": "…", r"\approx": "≈"}


def plain(latex: str) -> str:
    """A range's LaTeX as plain text for a table cell: (-\\infty, 0] -> (-∞, 0]."""
    for word, text in LATEX_WORDS.items():
        latex = latex.replace(word, text)
    return latex.replace("\\", "")  # what is left: spacing commands


def _num(x: float | None, fmt: str = ".4g") -> str:
    if x is None:
        return "none"
    if math.isinf(x):
        return "-inf" if x < 0 else "inf"
    return format(x, fmt)


PHONE_COLUMNS = 2  # measured columns a table keeps on a phone, beside the activation's name


def _whole_table(rows: list[dict[str, Any]], columns: dict[str, Any]) -> None:
    """A table shown whole (no inner scrollbar), its first column pinned. On a phone, cut
    into tables of PHONE_COLUMNS columns each, every one with the names, none wider than the
    screen: nothing hides behind a sideways scroll there."""
    config = {"activation": st.column_config.TextColumn(pinned=True), **columns}
    frame = pd.DataFrame(rows)
    rest = [c for c in frame.columns if c != "activation"]
    step = PHONE_COLUMNS if screen.narrow() else len(rest)
    for start in range(0, len(rest), step):
        st.dataframe(
            frame[["activation", *rest[start : start + step]]],
            hide_index=True,
            width="stretch",
            height=ROW_PX * (len(rows) + 1) + 3,
            column_config=config,
        )


def _cost_scale() -> str:
    """How the usual table's cost words are read against the measured times, so a cost
    disagreement below can be traced to the two tables."""
    words = ", ".join(f"{w} {x:g}x" for w, x in properties.COST_WORDS.items())
    return (
        f"The cost words read as about this many times ReLU's: {words}; a word counts as wrong "
        f"only when the time is over {properties.COST_SLACK:g} times its figure or, for a word "
        f"above ReLU's 1x, under 1/{properties.COST_SLACK:g} of it."
    )


def table() -> None:
    """The usual table's columns beside the measured ones, and where the two part ways."""
    usable = [d for d, why in available_devices().items() if why is None]
    device = st.selectbox(
        "Measure on",
        usable,
        key="explore_device",
        help="Where the float32 slopes are measured and the functions timed.",
    )
    measured = _measured(device)
    usual, here = [], []
    for p in measured:
        e = activations.get(p.activation)
        usual.append(
            {
                "activation": e.label,
                "range": plain(e.table_range or e.range_latex),
                "zero-centred": e.zero_centred,
                "saturates": e.saturates,
                "dying units": "yes" if e.dying else "no",
                "cost": e.cost,
                "best for": e.best_for,
            }
        )
        here.append(
            {
                "activation": e.label,
                "mean out": round(p.mean_out, 4),
                "std out": round(p.std_out, 4),
                "min": _num(p.min_value),
                "at x": _num(p.argmin) if p.argmin is not None else "never reached",
                "f'(0)": round(p.d_at_0, 4),
                "flat < 0": f"{p.flat_share_neg:.0%} ({p.flat_kind_neg})",
                "flat > 0": f"{p.flat_share_pos:.0%} ({p.flat_kind_pos})",
                "slope 0 below": _num(p.zero_slope_below),
                "slope 0 above": _num(p.zero_slope_above),
                "time vs ReLU": round(p.cost_vs_relu or math.nan, 1),
            }
        )
    # two tables of a screen's width rather than one that hides half its columns off screen;
    # the activation's name stays in view when a narrow screen scrolls either sideways
    st.markdown("**The usual comparison table** (the range as it gives it)")
    wide = {
        "range": st.column_config.TextColumn(width="medium"),  # "(-1.758, ∞)" whole
        "best for": st.column_config.TextColumn(width="medium" if screen.narrow() else "large"),
    }
    _whole_table(usual, wide)
    st.markdown("**Measured here**, on the function PyTorch runs")
    _whole_table(here, {})
    st.caption(
        "Mean and std of f(Z) for standard-normal Z; the least value and "
        f"where it is reached; autograd's f'(0); the share of [-{properties.SIDE:g}, 0) and "
        f"(0, {properties.SIDE:g}] where |f'| < {properties.FLAT_SLOPE:g} (*exactly 0*: a "
        "dead side; *tends to 0*: saturation); the float32 input beyond which the slope is "
        f"exactly 0; forward plus backward time per element over ReLU's on {device} (it varies "
        f"from run to run on a busy machine). {_cost_scale()}"
    )
    found = [c for p in measured for c in properties.checks(p)]
    if found:
        st.markdown("**Where the usual table and the measurements disagree**")
        st.markdown(
            "\n".join(
                f"- **{activations.get(c.activation).label}**: the table says *{c.claim}*; "
                f"measured: {c.measured}. {c.verdict}"
                for c in found
            )
        )
    softmax = activations.get("softmax")
    st.caption(f"Softmax, ${softmax.formula}$: {softmax.uses}")


def advisor() -> None:
    """Which activation for a place, a task and a depth, with the reason and a link to try."""
    c1, c2, c3 = st.columns(3)
    place = c1.segmented_control(
        "Place", advice.PLACES, default="hidden", key="advise_place", format_func=_place_words
    )
    task = c2.selectbox("Task", advice.TASKS, key="advise_task", format_func=advice.TASK_WORDS.get)
    depth = c3.number_input("Hidden layers", 1, 200, 4, key="advise_depth")
    rec = advice.recommend(place or "hidden", task, int(depth))
    st.success(f"**{rec.title}**. {rec.reason}", icon=":material/recommend:")
    if rec.alternatives:
        st.markdown(rec.alternatives)
    st.markdown(f"**Pairing rule.** {rec.rule}")
    note = " (the Playground stops at 32 layers)" if depth > 32 else ""
    st.page_link(
        PLAYGROUND,
        label=f"Try it in the Playground{note}",
        icon=":material/play_circle:",
        query_params=_query(rec.settings),
    )


def _place_words(place: str) -> str:
    return {"hidden": "hidden layers", "output": "output layer"}[place]


def _query(settings: dict[str, Any]) -> dict[str, str]:
    return {"v": str(SCHEMA_VERSION), **{k: str(v) for k, v in settings.items()}}
