"""The Explorer page under AppTest: its curves' data, the sheets, the table and the advice."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from apptools import ROOT
from streamlit.testing.v1 import AppTest

from playground import activations, advice, properties
from playground.config import RunConfig

PAGE = "pages/2_explorer.py"


def open_explorer(**state: object) -> AppTest:
    """The Explorer through the app's navigation (its links name the other pages)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    return at.switch_page(PAGE).run()


@pytest.fixture(scope="module")
def at() -> AppTest:
    return open_explorer()


def _chart_rows(at: AppTest, title: str) -> pd.DataFrame:
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        if spec.get("title") == title:
            frames = [pa.ipc.open_stream(d.data.data).read_all() for d in chart.proto.datasets]
            return max(frames, key=len).to_pandas()  # the lines' rows, not the axes' one
    raise AssertionError(f"no chart titled {title!r}")


def test_the_curves_are_the_functions_and_their_slopes(at):
    assert not at.exception
    f, d = _chart_rows(at, "f(x)"), _chart_rows(at, "f'(x)")
    assert set(f["activation"]) == {"ReLU", "Tanh", "Sigmoid"}
    tanh = f[f["activation"] == "Tanh"]
    assert np.allclose(tanh["f"], np.tanh(tanh["x"]))
    slope = d[d["activation"] == "Sigmoid"]
    s = 1 / (1 + np.exp(-slope["x"]))
    assert np.allclose(slope["d"], s * (1 - s))
    assert f["x"].min() == -5.0 and f["x"].max() == 5.0
    caption = " ".join(c.value for c in at.caption)
    assert "differs from it by at most" in caption


def test_each_sheet_has_its_formula_and_kinks(at):
    latex = [x.value for x in at.latex]
    assert any(r"\mathrm{ReLU}(x) = \max(0, x)" in v for v in latex)
    assert any(r"\tanh'(x) = 1 - \tanh^2(x)" in v for v in latex)
    text = " ".join(m.value for m in at.markdown)
    assert "Not differentiable at x = 0" in text and "PyTorch returns **0**" in text


def test_the_table_sets_the_claims_beside_the_measurements(at):
    usual, here = (df.value for df in at.dataframe)  # two tables a screen wide, not one
    assert list(usual.columns)[:3] == ["activation", "range", "zero-centred"]
    assert list(here.columns)[:3] == ["activation", "mean out", "std out"]
    assert len(here.columns) <= 12 and len(usual.columns) <= 7
    table = usual.merge(here, on="activation")
    relu = table[table["activation"] == "ReLU"].iloc[0]
    assert relu["mean out"] == pytest.approx(1 / math.sqrt(2 * math.pi), abs=1e-4)
    assert relu["min"] == "0" and relu["at x"] == "0" and relu["range"] == "[0, ∞)"
    sigmoid = table[table["activation"] == "Sigmoid"].iloc[0]
    assert sigmoid["at x"] == "never reached"
    assert len(table) == len(properties.activations.HIDDEN_KEYS)
    text = " ".join(m.value for m in at.markdown)
    assert "**Swish/SiLU**: the table says *range (-inf, inf): unbounded below*" in text
    assert "least value -0.2785 at x = -1.2785. The measurement: it is bounded below" in text


def test_changing_alpha_redraws_the_curve():
    at = open_explorer(explore_keys=["leaky_relu"])
    at.number_input(key="explore_alpha_leaky_relu").set_value(0.2).run()
    rows = _chart_rows(at, "f(x)")
    assert np.allclose(rows["f"], np.where(rows["x"] > 0, rows["x"], 0.2 * rows["x"]))
    assert "Not differentiable at x = 0" in " ".join(m.value for m in at.markdown)


@pytest.mark.parametrize("place", advice.PLACES)
@pytest.mark.parametrize("task", advice.TASKS)
def test_every_recommendation_opens_a_valid_playground_setup(place, task):
    rec = advice.recommend(place, task, 50)
    kinds = {"depth": int, "width": int, "lr": float}
    cfg = RunConfig(**{k: kinds.get(k, str)(v) for k, v in rec.settings.items()}).validate()
    assert cfg.depth == 32 and cfg.task == task
    if place == "hidden":
        assert rec.choice == "silu"  # 40+ layers: Swish, as the subject advises
        assert advice.recommend(place, task, 4).choice == "relu"
    else:
        assert rec.choice == {"binary": "bce_logits", "multiclass": "ce_logits"}.get(task, "mse")
        assert "leave that activation out" in rec.rule


def test_the_advisor_answers_and_links(at):
    at.selectbox(key="advise_task").set_value("multiclass").run()
    success = " ".join(s.value for s in at.success)
    assert "ReLU" in success
    assert "CrossEntropyLoss" in " ".join(m.value for m in at.markdown)


def _explorer_link(**params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    return at.switch_page(PAGE).run()


def test_the_pick_travels_in_the_link_and_a_link_opens_it():
    partly = _explorer_link(act="gelu,nope")
    assert partly.multiselect(key="explore_keys").value == ["gelu"]
    assert "nope named no hidden activation" in partly.warning[0].value
    assert "left out" in partly.warning[0].value  # GELU stays: not "the defaults"
    at = _explorer_link(act="gelu,selu", x="-3,2")
    assert not at.exception and not at.warning
    assert at.multiselect(key="explore_keys").value == ["gelu", "selu"]
    rows = _chart_rows(at, "f(x)")
    assert set(rows["activation"]) == {"GELU", "SELU"}
    assert rows["x"].min() == pytest.approx(-3.0) and rows["x"].max() == pytest.approx(2.0)
    at.multiselect(key="explore_keys").select("relu").run()
    assert at.query_params["act"] == "gelu,selu,relu" and at.query_params["x"] == "-3,2"


def test_a_bad_explorer_link_is_named_and_the_defaults_stand_in():
    at = _explorer_link(act="nope", x="9,1e9")
    assert not at.exception
    said = " ".join(w.value for w in at.warning)
    assert "act: nope named no hidden activation" in said and "using the default pick" in said
    assert "x must be two numbers" in said and "using the default range" in said
    assert at.multiselect(key="explore_keys").value == ["relu", "tanh", "sigmoid"]


def test_a_cost_word_the_timing_contradicts_is_named(monkeypatch):
    """Timing made exact: each activation costs its word's figure, but for sigmoid (1.4x,
    "high" in the table) and PReLU (7x, "very low")."""
    words = {k: activations.get(k).cost for k in activations.HIDDEN_KEYS}
    ratio = {k: properties.COST_WORDS[w] for k, w in words.items()}
    ratio |= {"sigmoid": 1.4, "prelu": 7.0}
    monkeypatch.setattr(
        properties, "cost_vs_relu", lambda key, alpha=None, device="cpu": ratio[key]
    )
    st.cache_data.clear()  # the page caches its measured table per device
    try:
        at = open_explorer()
    finally:
        st.cache_data.clear()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert (
        "**Sigmoid**: the table says *cost: high*; measured: forward plus backward 1.4x ReLU's "
        "time, a low cost ('high' reads as about 6x). The measurement: it is cheaper" in text
    )
    assert "**PReLU**: the table says *cost: very low*" in text and "dearer than" in text
    assert text.count("the table says *cost:") == 2  # the others hold
    here = at.dataframe[1].value
    assert here.set_index("activation").loc["Sigmoid", "time vs ReLU"] == 1.4
    caption = " ".join(c.value for c in at.caption)
    assert "high 6x" in caption and "2.5 times its figure" in caption
