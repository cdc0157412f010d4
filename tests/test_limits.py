"""A shared host's limits on one run: the cost counted by hand, refused with it named."""

import pytest
from apptools import open_page, tile

from playground import limits
from playground.config import RunConfig
from playground.limits import HostLimits


def test_network_cost_is_the_dense_layers_multiply_adds():
    # spiral: 2 inputs -> 8 -> 8 -> 1 logit
    assert limits.network_madds(RunConfig(dataset="spiral", depth=2, width=8)) == 16 + 64 + 8
    # digits: 64 inputs -> 3 x 16 -> 10 classes
    digits = RunConfig(dataset="digits", depth=3, width=16)
    assert limits.network_madds(digits) == 64 * 16 + 2 * 16 * 16 + 16 * 10


def test_the_defaults_refuse_what_froze_the_page_and_name_its_cost():
    host = HostLimits()
    assert limits.over(RunConfig(), host) == []
    assert limits.over(RunConfig(depth=16, width=256), host) == []
    ((key, message),) = limits.over(RunConfig(depth=32, width=512), host)
    assert key == "width" and "8.13 M multiply-adds per input point" in message
    assert "13 G at every redraw" in message  # 40 x 40 cells through the network
    ((key, message),) = limits.over(RunConfig(depth=4, width=512, batch_size=5000), host)
    assert key == "batch_size" and "11.8 G multiply-adds" in message  # 3 x 787,968 x 5,000


def test_limits_come_from_the_environment_then_secrets_then_defaults():
    env = {"PLAYGROUND_MAX_NETWORK_MADDS": "2_000_000"}
    got = HostLimits.from_settings(env, {"max_network_madds": 5, "max_step_madds": 7})
    assert got == HostLimits(max_network_madds=2_000_000, max_step_madds=7)
    assert HostLimits.from_settings({}, {}) == HostLimits()
    with pytest.raises(ValueError, match="PLAYGROUND_MAX_STEP_MADDS.*'lots'"):
        HostLimits.from_settings({"PLAYGROUND_MAX_STEP_MADDS": "lots"}, {})


@pytest.mark.usefixtures("fresh_session")
def test_an_over_limit_network_is_refused_on_the_page_and_the_run_goes_on():
    at = open_page()
    at.slider(key="cfg_depth").set_value(32).run()  # 32 x 8: within the limits, rebuilt
    at.button(key="step").click().run()
    at.select_slider(key="cfg_width").set_value(512).run()
    assert not at.exception
    assert any("8\\.13 M multiply" in e.value and "per input point" in e.value for e in at.error)
    assert any("The current run is unchanged" in e.value for e in at.error)
    assert tile(at, "Step") == "1"  # the run that was there is still there


@pytest.mark.usefixtures("fresh_session")
def test_a_bad_limit_setting_is_a_message_on_the_page_not_a_traceback(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_STEP_MADDS", "lots")
    at = open_page()
    assert not at.exception
    wrong = "PLAYGROUND_MAX_STEP_MADDS (or limits.max_step_madds) = 'lots'"
    assert any(wrong in e.value and "whole number" in e.value for e in at.error)


@pytest.mark.usefixtures("fresh_session")
def test_a_first_visit_to_an_over_limit_link_says_nothing_runs_yet():
    at = open_page(depth="32", width="512")
    assert not at.exception
    (error,) = at.error
    assert "per input point" in error.value and "Nothing runs until the settings can" in error.value
