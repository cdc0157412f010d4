"""The Labs page's parts: the picker, a lab's words, and its numbers.

A lab opens like a scenario: its shared settings are applied to the sidebar as a link's are
(with the controls it hides), under whatever the link itself sets, so a learner can change a
setting and see the lab answer differently. Its variants then race as a comparison.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from playground import activations, charts, labs
from playground.comparison_config import MAX_SEEDS, CompareConfig
from playground.config import SETTING, RunConfig, to_query
from playground.model import INITS
from playground.probes import PROBE_ROWS
from ui import present, screen, settings
from ui.panels import one_view
from ui.session import host_limits
from ui.settings import literal

LAB_KEYS = ("lab", "seeds", "target")  # the Labs page's own link parameters
KEY, SEEDS, NOTICE, TARGET = "lab_key", "lab_seeds", "lab_notice", "lab_target"


@st.cache_resource(show_spinner=False)
def found() -> dict[str, labs.Lab]:
    """Every lab, read once per server: a broken file is the server's error, said on the page."""
    return labs.all_labs()


def current(params: Mapping[str, Any], new_link: bool) -> labs.Lab:
    """The lab a new link names (or the first), else the one the session has open."""
    every = found()
    if new_link or KEY not in st.session_state:
        key = settings.link_param(params, "lab") or next(iter(every))
        notices: list[str] = []
        if key not in every:
            notices.append(f"no lab {key!r}; opened {next(iter(every))} instead.")
            key = next(iter(every))
        st.session_state[KEY] = key
        st.session_state[SEEDS] = _seeds_of(params, every[key], notices)
        st.session_state[TARGET] = _target_of(params, notices)
        st.session_state[NOTICE] = notices
    return every[st.session_state[KEY]]


def _seeds_of(params: Mapping[str, Any], lab: labs.Lab, notices: list[str]) -> int:
    """The link's seeds a variant (1 to MAX_SEEDS), else the lab's own, with a notice."""
    text = settings.link_param(params, "seeds").strip()
    if not text:
        return fitting_seeds(lab)
    try:
        seeds = int(text)
    except ValueError:
        seeds = 0
    if 1 <= seeds <= MAX_SEEDS and text.isascii():
        return seeds
    notices.append(
        f"seeds must be a whole number between 1 and {MAX_SEEDS} (got {text!r}); using "
        f"{fitting_seeds(lab)}."
    )
    return fitting_seeds(lab)


def _target_of(params: Mapping[str, Any], notices: list[str]) -> float:
    """The link's target loss (a number above 0), else the default, with a notice."""
    default = CompareConfig.target
    text = settings.link_param(params, "target").strip()
    if not text:
        return default
    try:
        target = float(text)
    except ValueError:
        target = math.nan
    if math.isfinite(target) and target > 0:
        return target
    notices.append(f"target loss must be a number above 0 (got {text!r}); using {default:g}.")
    return default


def fitting_seeds(lab: labs.Lab) -> int:
    """The lab's seeds, or as many as this server's limit on one comparison allows."""
    if lab.guess is not None:  # nothing trains: the host's limit on training does not apply
        return lab.seeds
    return max(1, min(lab.seeds, host_limits().max_compare_models // len(lab.variants)))


def picker(lab: labs.Lab) -> int:
    """The lab to open and how many seeds a variant; opening one applies it at once."""
    every = found()
    if present.chart() is not None:  # presenting, the race has the screen: the picker goes aside
        c1 = c2 = st.sidebar
    else:
        c1, c2 = st.columns([4, 1])
    st.session_state["lab_pick"] = lab.key
    c1.selectbox(
        "Lab",
        list(every),
        format_func=lambda k: f"{every[k].title}: {every[k].question}",
        key="lab_pick",
        on_change=_picked,
        help="Opening a lab applies its settings (the sidebar shows them) and races its variants.",
    )
    seeds = c2.number_input(
        "Seeds",
        1,
        MAX_SEEDS,
        key=SEEDS,
        help=f"Networks per variant, each from its own starting weights (the lab asks for "
        f"{lab.seeds}; the command line runs them all).",
    )
    return int(seeds)


def _picked() -> None:
    lab = found()[st.session_state["lab_pick"]]
    settings.apply_link(lab.query(), LAB_KEYS)
    st.session_state[KEY] = lab.key
    st.session_state[SEEDS] = fitting_seeds(lab)
    st.session_state[NOTICE] = []


def config(lab: labs.Lab, base: RunConfig, seeds: int) -> CompareConfig:
    """The lab's comparison: its variants over the sidebar's settings, the link's target."""
    return CompareConfig(
        base=base,
        values=tuple(v.key for v in lab.variants),
        seeds=seeds,
        custom=lab.variants,
        lab=lab.key,
        target=st.session_state.get(TARGET, CompareConfig.target),
    )


def words(lab: labs.Lab) -> None:
    """The question, what the experiment shows, and what to look at while it runs."""
    for notice in st.session_state.get(NOTICE) or ():
        st.warning(f"Link: {literal(notice)}", icon=":material/link:")
    st.subheader(lab.question)
    if present.chart() is not None:  # a projector's one screen: the words below the race
        return
    # a phone's first screen is for the question and Play: the words one tap away
    narrow = screen.narrow()
    with st.expander("What this shows, and what to look at") if narrow else st.container():
        st.markdown(lab.explanation)
        st.info(f"**What to look at.** {lab.watch}", icon=":material/visibility:")
        _details(lab)


def after_race(lab: labs.Lab) -> None:
    """Under the race: presenting, the words one click away (they take no screen there);
    then the question to try next."""
    if present.chart() is not None:
        with st.expander("What this shows, and what to look at"):
            st.markdown(lab.explanation)
            st.markdown(f"**What to look at.** {lab.watch}")
    next_question(lab)


def _details(lab: labs.Lab) -> None:
    """Which settings the variants own, the seeds a server can run, and a lab's extras."""
    own = sorted({SETTING[k].label.lower() for v in lab.variants for k, _ in v.settings})
    if own:
        st.caption(
            f"The variants set their own {', '.join(own)}; every other setting is the "
            "sidebar's, the same for all of them."
        )
    if lab.seeds > st.session_state.get(SEEDS, lab.seeds):
        st.caption(
            f"This lab asks for {lab.seeds} seeds a variant; this server runs at most "
            f"{fitting_seeds(lab)} for its {len(lab.variants)} variants. "
            f"`python -m playground lab {lab.key}` runs them all."
        )
    if lab.key == "output-loss":
        numbers()
    if lab.key == "textbook-dying-relu":
        script()


@st.cache_data(show_spinner="Running the script as written, 40 times…")
def _script() -> dict[str, Any]:
    return labs.textbook_script()


def script() -> None:
    """The classic script run as written, 40 seeds: NaN endings and dead units counted."""
    r = _script()
    dead = r["dead_of_5"]
    st.markdown(
        f"**The script as written**, {r['seeds']} seeds of {r['steps']} steps: "
        f"**{r['nan']}** end with a NaN loss; the other {len(dead)} leave "
        f"{min(dead)} to {max(dead)} of 5 units dead (median {sorted(dead)[len(dead) // 2]})."
    )


def numbers() -> None:
    """The output/loss lab's numbers, as PyTorch computes them."""
    rows = pd.DataFrame(labs.pairing_numbers())
    st.dataframe(
        rows.rename(columns=str.capitalize),
        hide_index=True,
        column_config={
            "Loss": st.column_config.NumberColumn(format="%.4g"),
            "Gradient": st.column_config.NumberColumn(
                format="%.3g", help="The largest gradient of the loss with respect to the logits."
            ),
        },
    )


GUESSES = (1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)


@st.cache_data(show_spinner="Measuring the starting weights…", max_entries=32)
def _spreads(key: str, activation: str, base: RunConfig, seeds: int) -> pd.DataFrame:
    lab = found()[key]
    return labs.spreads(dataclasses.replace(lab, settings=to_query(base)), activation, seeds)


def guess_and_reveal(lab: labs.Lab, base: RunConfig, seeds: int) -> None:
    """A lab with no training: the learner guesses one layer's spread, then sees every layer."""
    assert lab.guess is not None
    acts = list(dict.fromkeys(labs.variant_config(lab, v).activation for v in lab.variants))
    act = (
        st.segmented_control(
            "Activation", acts, default=acts[0], key="init_act", format_func=_label
        )
        or acts[0]
    )
    layer, init = lab.guess.layer, lab.guess.init
    words = f"{_label(act)} units and {INITS[init].split(',')[0]} initialisation"
    st.markdown(
        f"**Your guess first.** The inputs have a spread (std) of about 1. With {words}, how "
        f"much will layer {layer}'s outputs (of {base.depth} layers) still vary from one data "
        "point to the next?"
    )
    guess = st.select_slider(
        f"Layer {layer}'s spread", GUESSES, value=1.0, key=f"guess_{act}", format_func=_num
    )
    revealed = st.session_state.setdefault("revealed", {})
    if st.button("Reveal", key=f"reveal_{act}", type="primary", icon=":material/visibility:"):
        revealed[act] = guess
    if act not in revealed:
        st.caption("The measurement stays hidden until you reveal it.")
        return
    frame = _spreads(lab.key, act, base, seeds)
    mine = next(v.label for v in lab.variants if labs.variant_config(lab, v).init == init
                and labs.variant_config(lab, v).activation == act)  # fmt: skip
    measured = float(frame.query("variant == @mine and layer == @layer")["median"].iloc[0])
    ratio = measured / revealed[act]
    if 0.5 <= ratio <= 2:
        off = "within a factor of 2: well judged"
    elif ratio > 1:
        off = f"{ratio:.2g} times larger than your guess"
    else:
        off = f"{1 / ratio:.2g} times smaller than your guess"
    st.metric(f"Measured: layer {layer}, {mine}", _num(measured))
    st.markdown(f"You guessed **{_num(revealed[act])}**: the measurement is {off}.")
    labels = [v.label for v in lab.variants if labs.variant_config(lab, v).activation == act]
    chart = charts.band_chart(
        frame, "input_spread", "How much each layer's outputs vary with the input", labels,
        "spread across inputs", "log", over="layer",
    )  # fmt: skip
    one_view([chart], "init_spread", "How much each layer's outputs vary with the input")()
    st.caption(
        f"Median over {seeds} weight seeds, the band their lowest to highest, on up to "
        f"{PROBE_ROWS:,} training points. The spread across inputs: for each unit, the std of "
        "its output from one point to the next, averaged (root mean square) over the layer's "
        "units. A unit held at a fixed value by its bias has none, however large that value."
    )


def _label(key: str) -> str:
    return activations.get(key).label


def _num(x: float) -> str:
    return f"{x:.2g}"


def next_question(lab: labs.Lab) -> None:
    st.success(f"**Try next.** {lab.next}", icon=":material/lightbulb:")
