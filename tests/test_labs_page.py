"""The Labs page under AppTest: a lab's link opens it with its settings and words, the picker
opens another at once, and its variants race as a comparison."""

from __future__ import annotations

import pytest
from apptools import open_file, tile
from streamlit.testing.v1 import AppTest


@pytest.fixture(autouse=True)
def _fresh(fresh_session):
    """Each test its own session cache."""


def open_labs(**params: str) -> AppTest:
    return open_file("pages/4_labs.py", **params)


def _variants(at: AppTest) -> list[str]:
    return list(next(d.value for d in at.dataframe if "Variant" in d.value.columns)["Variant"])


def test_a_labs_link_applies_its_settings_hides_its_controls_and_races_its_variants():
    at = open_labs(lab="dying-relu")
    assert not at.exception
    assert at.subheader[0].value == "Why do ReLU units stop learning, and what brings them back?"
    assert at.sidebar.select_slider(key="cfg_lr").value == 1.0  # the lab's shared settings
    assert not [s for s in at.sidebar.selectbox if s.key == "cfg_dataset"]  # hidden
    assert _variants(at)[0] == "ReLU, lr 1.0" and len(_variants(at)) == 7
    assert tile(at, "Models") == "28"  # 7 variants x 4 seeds: this server's 32-model limit
    assert "runs them all" in " ".join(c.value for c in at.caption)
    assert at.query_params["lab"] == "dying-relu" and at.query_params["seeds"] == "4"
    at.button(key="step").click().run()
    assert tile(at, "Step") == "1"


def test_the_picker_opens_another_lab_at_once_with_its_settings():
    at = open_labs(lab="dying-relu")
    at.selectbox(key="lab_pick").set_value("vanishing-gradients").run()
    assert at.sidebar.slider(key="cfg_depth").value == 15
    assert _variants(at) == ["Sigmoid", "Tanh", "ReLU"]
    assert at.query_params["lab"] == "vanishing-gradients"


def test_the_output_loss_lab_shows_its_numbers_and_an_unknown_lab_a_notice():
    at = open_labs(lab="output-loss")
    numbers = next(d.value for d in at.dataframe if "Pairing" in d.value.columns)
    bce = numbers[numbers["Pairing"] == "Sigmoid + BCELoss"].iloc[0]
    assert (bce["Loss"], bce["Gradient"]) == (100.0, 0.0)
    at = open_labs(lab="nope")
    assert "no lab 'nope'" in " ".join(w.value for w in at.warning)
    assert at.subheader[0].value.startswith("Why do ReLU units")


def test_the_initialisation_lab_hides_the_measurement_until_the_guess_is_in():
    at = open_labs(lab="initialisation")
    assert not at.exception and not at.get("vega_lite_chart")
    assert not at.metric and "stays hidden" in " ".join(c.value for c in at.caption)
    at.select_slider(key="guess_relu").set_value(0.01).run()
    at.button(key="reveal_relu").click().run()
    (measured,) = at.metric
    assert measured.label == "Measured: layer 20, ReLU, Xavier"
    assert 1e-5 < float(measured.value) < 1e-3  # about 2^-10 of layer 1's spread, not 1
    assert "You guessed **0.01**" in " ".join(m.value for m in at.markdown)
    assert len(at.get("vega_lite_chart")) == 1 and not [b for b in at.button if b.key == "play"]


def test_the_textbook_lab_runs_the_script_as_written_beside_the_race():
    at = open_labs(lab="textbook-dying-relu")
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**The script as written**, 40 seeds of 100 steps: **12** end with a NaN loss" in text
    assert _variants(at) == ["ReLU, lr 1.0 (the textbook's)", "ReLU, lr 0.1"]
    assert tile(at, "Models") == "32"  # 2 variants x 16 seeds
