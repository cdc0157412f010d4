"""The Compare page under AppTest: a link opens a comparison, its controls drive it, bad links
and over-limit comparisons get their messages, and the table and charts hold its numbers."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from apptools import open_file, tile
from streamlit.testing.v1 import AppTest


@pytest.fixture(autouse=True)
def _fresh(fresh_session):
    """Each test its own session cache: a trainer of one test never answers another's."""


def open_compare(**params: str) -> AppTest:
    return open_file("pages/3_compare.py", **params)


def _table(at: AppTest):
    return at.dataframe[0].value


def _main_text(at: AppTest) -> str:
    return " ".join(
        [c.value for c in at.caption]
        + [m.value for m in at.markdown]
        + [w.value for w in at.warning]
    )


def test_a_link_opens_its_comparison_with_every_variant_in_the_table():
    at = open_compare(
        vary="optimizer", values="sgd,adam,rmsprop", seeds="2", dataset="spiral", depth="3"
    )
    assert not at.exception
    assert list(_table(at)["Variant"]) == ["sgd", "adam", "rmsprop"]
    assert tile(at, "Models") == "6" and tile(at, "Step") == "0"
    assert "3 variants x 2 seeds = **6 models**" in _main_text(at)
    assert at.multiselect(key="cmp_values_optimizer").value == ["sgd", "adam", "rmsprop"]
    written = at.query_params
    assert written["vary"] == "optimizer" and written["values"] == "sgd,adam,rmsprop"
    assert written["seeds"] == "2" and written["depth"] == "3"


def test_step_trains_every_model_and_the_charts_carry_the_bands():
    at = open_compare(values="relu,tanh", seeds="3")
    at.button(key="step").click().run()
    assert tile(at, "Step") == "1"
    chart = next(
        c
        for c in at.get("vega_lite_chart")
        if "Training loss" in json.loads(c.proto.spec)["description"]
    )
    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
    band = max(frames, key=len)
    assert set(band["variant"]) == {"ReLU", "Tanh"} and set(band["step"]) == {0, 1}
    assert (band["lo"] <= band["median"]).all() and (band["median"] <= band["hi"]).all()


def test_a_bad_link_opens_the_defaults_with_notices():
    at = open_compare(vary="activation", values="relu,nope", seeds="99")
    assert not at.exception
    notices = " ".join(w.value for w in at.warning)
    assert "nope" in notices and "seeds must be between 1 and 16" in notices
    assert list(_table(at)["Variant"]) == ["ReLU", "Tanh", "GELU"]


def test_a_comparison_over_the_hosts_model_limit_is_refused_with_its_size():
    at = open_compare(
        values="relu,tanh,sigmoid,elu,selu,gelu,silu,mish,leaky_relu", seeds="4"
    )  # 9 x 4 = 36 models, over the default 32
    errors = " ".join(e.value for e in at.error)
    assert "9 variants x 4 seeds is 36 models" in errors and "Nothing runs" in errors


def test_changing_what_varies_rebuilds_and_rewrites_the_link():
    at = open_compare(values="relu,tanh", seeds="2")
    at.selectbox(key="cmp_vary").set_value("init").run()
    assert list(_table(at)["Variant"]) == ["he", "xavier", "small"]
    assert at.query_params["vary"] == "init" and at.query_params["values"] == "he,xavier,small"
    at.multiselect(key="cmp_values_init").set_value(["he", "large"]).run()
    assert list(_table(at)["Variant"]) == ["he", "large"]
    at.selectbox(key="cmp_vary").set_value("activation").run()  # its own values come back
    assert at.multiselect(key="cmp_values_activation").value == ["relu", "tanh"]


def test_one_value_is_not_a_comparison():
    at = open_compare(values="relu,tanh", seeds="2")
    at.multiselect(key="cmp_values_activation").set_value(["relu"]).run()
    errors = " ".join(e.value for e in at.error)
    assert "2 to 16 values" in errors and "current run is unchanged" in errors
    assert list(_table(at)["Variant"]) == ["ReLU", "Tanh"]  # the last good comparison stays
