"""Measured activation properties against values worked out independently here.

Moments come from closed forms or from Gauss-Hermite quadrature (numpy, not the engine's
trapezoid rule); minima from solving f'(x) = 0 with scipy; flat shares from inverting f'
by hand; the exact-zero thresholds are checked by their definition at float32 neighbours.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch
from scipy.optimize import brentq
from scipy.special import expit

from playground import activations, cli, properties


@pytest.fixture(scope="module")
def measured() -> dict[str, properties.Properties]:
    return {p.activation: p for p in properties.table(timed=False)}


def _gauss_hermite(f, n: int = 120) -> tuple[float, float]:
    """Mean and std of f(Z), Z ~ N(0, 1), by probabilists' Gauss-Hermite quadrature."""
    x, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / math.sqrt(2 * math.pi)
    mean = float(np.sum(w * f(x)))
    return mean, math.sqrt(float(np.sum(w * f(x) ** 2)) - mean**2)


def test_relu_moments_match_the_half_normal_closed_form(measured):
    relu = measured["relu"]
    assert relu.mean_out == pytest.approx(1 / math.sqrt(2 * math.pi), abs=1e-7)
    assert relu.std_out == pytest.approx(math.sqrt(0.5 - 1 / (2 * math.pi)), abs=1e-7)


@pytest.mark.parametrize(("key", "f"), [("tanh", np.tanh), ("sigmoid", expit)])
def test_smooth_moments_match_gauss_hermite(measured, key, f):
    mean, std = _gauss_hermite(f)
    assert measured[key].mean_out == pytest.approx(mean, abs=1e-8)
    assert measured[key].std_out == pytest.approx(std, abs=1e-8)


def test_odd_functions_are_zero_centred_and_sigmoid_is_not(measured):
    assert measured["tanh"].mean_out == pytest.approx(0.0, abs=1e-12)
    assert measured["sigmoid"].mean_out == pytest.approx(0.5, abs=1e-12)


def test_selu_keeps_a_standard_normal_input_standard(measured):
    assert measured["selu"].mean_out == pytest.approx(0.0, abs=1e-4)
    assert measured["selu"].std_out == pytest.approx(1.0, abs=1e-4)


def test_minimum_reached_or_only_approached(measured):
    # SiLU: f'(x) = s(x) (1 + x (1 - s(x))) = 0 where 1 + x (1 - s(x)) = 0
    root = brentq(lambda x: 1 + x * (1 - expit(x)), -2, -1, xtol=1e-14)
    assert measured["silu"].argmin == pytest.approx(root, abs=1e-6)
    assert measured["silu"].min_value == pytest.approx(root * expit(root), abs=1e-12)
    assert measured["relu"].min_value == 0.0 and measured["relu"].argmin == 0.0
    assert measured["hardswish"].min_value == pytest.approx(-0.375) and measured[
        "hardswish"
    ].argmin == pytest.approx(-1.5, abs=1e-6)
    for key, bound in (("sigmoid", 0.0), ("tanh", -1.0), ("elu", -1.0), ("softplus", 0.0)):
        assert measured[key].min_value == pytest.approx(bound, abs=1e-12), key
        assert measured[key].argmin is None, key  # approached, never reached
    selu = activations.SELU_SCALE * activations.SELU_ALPHA
    assert measured["selu"].min_value == pytest.approx(-selu) and measured["selu"].argmin is None
    for key in ("leaky_relu", "prelu", "linear"):
        assert measured[key].min_value == -math.inf and measured[key].argmin is None
        assert measured[key].record()["min_value"] is None  # JSON has no infinity


def test_slope_at_zero_is_autograds_convention(measured):
    want = {"relu": 0.0, "leaky_relu": 0.01, "prelu": 0.25, "elu": 1.0, "sigmoid": 0.25}
    want |= {"tanh": 1.0, "silu": 0.5, "gelu": 0.5, "softplus": 0.5, "linear": 1.0}
    for key, slope in want.items():
        assert measured[key].d_at_0 == pytest.approx(slope), key


def test_flat_shares_match_the_inverted_derivative(measured):
    # tanh' = 1 - tanh^2 < 0.01 beyond atanh(sqrt(0.99)); sigmoid' = s (1 - s) < 0.01 beyond
    # logit of the larger root of s^2 - s + 0.01 = 0
    tanh_edge = math.atanh(math.sqrt(0.99))
    s = (1 + math.sqrt(1 - 0.04)) / 2
    sigmoid_edge = math.log(s / (1 - s))
    for key, edge in (("tanh", tanh_edge), ("sigmoid", sigmoid_edge)):
        share = (properties.SIDE - edge) / properties.SIDE
        assert measured[key].flat_share_neg == pytest.approx(share, abs=1e-4), key
        assert measured[key].flat_share_pos == pytest.approx(share, abs=1e-4), key
    relu = measured["relu"]
    assert (relu.flat_share_neg, relu.flat_kind_neg) == (1.0, "exactly 0")
    assert (relu.flat_share_pos, relu.flat_kind_pos) == (0.0, "none")
    assert measured["sigmoid"].flat_kind_pos == "tends to 0"
    assert measured["tanh"].flat_kind_pos == "both"  # exactly 0 beyond +9.01 in float32
    assert measured["leaky_relu"].flat_share_neg == 0.0


LARGE = (512, 64)  # a batch well past any SIMD block, filled with one value


def _large_slopes(key: str, x: float) -> torch.Tensor:
    """Autograd's f' over a LARGE batch filled with x, built here rather than by the engine:
    the module straight from the registry and an explicit all-ones output gradient."""
    entry = activations.get(key)
    f = entry.module(entry.param.default if entry.param else 0.0)
    xg = torch.full(LARGE, x, dtype=torch.float32, requires_grad=True)
    y = f(xg)
    (grad,) = torch.autograd.grad(y, xg, torch.ones_like(y))
    return grad


def _all_zero(key: str, x: float) -> bool:
    return bool((_large_slopes(key, x) == 0).all())


def _none_zero(key: str, x: float) -> bool:
    return bool((_large_slopes(key, x) != 0).all())


def test_zero_slope_thresholds_are_where_float32_slopes_become_exactly_zero(measured):
    assert measured["sigmoid"].zero_slope_above == pytest.approx(16.6, abs=0.1)
    assert measured["sigmoid"].zero_slope_below == pytest.approx(-88.7, abs=0.1)
    assert measured["tanh"].zero_slope_above == pytest.approx(9.0, abs=0.05)
    assert measured["tanh"].zero_slope_below == pytest.approx(-9.0, abs=0.05)
    assert measured["relu"].zero_slope_below == 0.0 and measured["relu"].zero_slope_above is None
    assert measured["leaky_relu"].zero_slope_below is None


def test_thresholds_are_those_of_a_batch_not_of_one_element(measured):
    # a 1-element tensor takes PyTorch's scalar code: GELU's slope there lasts to -14.34
    assert measured["gelu"].zero_slope_below == pytest.approx(-6.1514, abs=1e-4)
    if torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512"):  # scalar code: -103.97
        assert measured["mish"].zero_slope_below == pytest.approx(-102.873, abs=1e-3)
    assert measured["hardswish"].zero_slope_below == -3.0


@pytest.mark.parametrize("key", activations.HIDDEN_KEYS)
def test_each_threshold_holds_on_a_large_batch(measured, key):
    """At the threshold and beyond, every slope of a large batch is 0; one float32 step
    towards 0, none is. Without a threshold, the slope far out is not 0."""
    for edge, far in (
        (measured[key].zero_slope_below, -3e38),
        (measured[key].zero_slope_above, 3e38),
    ):
        if edge is None:
            assert _none_zero(key, far), (key, far)
            continue
        # the next float32 towards the other side (for ReLU's edge 0, the least positive one)
        inward = float(np.nextafter(np.float32(edge), np.float32(-far)))
        assert _all_zero(key, edge) and _none_zero(key, inward), (key, edge)
        beyond = np.float32(edge) * np.float32([1.001, 1.5, 10.0, 1e6])
        assert all(_all_zero(key, float(b)) for b in beyond if np.isfinite(b)), (key, edge)


def test_slope_at_zero_is_the_same_across_a_batch(measured):
    for key, p in measured.items():
        assert _none_zero(key, 0.0) == (p.d_at_0 != 0), key
        assert bool((_large_slopes(key, 0.0) == np.float32(p.d_at_0)).all()), key


def test_the_analytic_derivatives_agree_with_autograd(measured):
    for p in measured.values():
        assert p.derivative_error < 1e-12, p.activation


def test_softmax_has_no_row():
    with pytest.raises(ValueError, match="output-layer"):
        properties.measure("softmax")


def test_cost_is_relative_to_relu():
    (relu, tanh) = properties.table(["relu", "tanh"])
    assert 0.2 < relu.cost_vs_relu < 5 and tanh.cost_vs_relu > 0


def test_cli_prints_the_table_and_writes_the_records(capsys):
    args = ["properties", "--activation", "relu", "--activation", "silu", "--json", "-"]
    assert cli.main(args) == 0
    out, err = capsys.readouterr()
    records = json.loads(out)["activations"]
    assert [r["activation"] for r in records] == ["relu", "silu"]
    keys = {"activation", "min_value", "argmin", "mean_out", "std_out", "d_at_0"}
    keys |= {"flat_share_neg", "flat_share_pos", "zero_slope_below", "zero_slope_above"}
    assert keys | {"cost_vs_relu"} <= set(records[0])
    assert records[1]["argmin"] == pytest.approx(-1.27846, abs=1e-5)
    assert "relu" in err and "zero_slope_below" in err  # the table goes to stderr with --json -
    with pytest.raises(SystemExit) as stop:
        cli.main(["properties", "--activation", "softmax"])
    assert stop.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def _timed(p: properties.Properties, ratio: float | None) -> properties.Properties:
    """`p` as if its cost had been measured at `ratio`: the rule is tested on chosen numbers,
    not on a timing that moves from run to run."""
    return dataclasses.replace(p, cost_vs_relu=ratio)


def _cost_checks(p: properties.Properties) -> list[properties.Check]:
    return [c for c in properties.checks(p) if c.claim.startswith("cost")]


def test_the_cost_words_read_as_ratios_to_relu():
    assert [properties.cost_word(r) for r in (0.4, 1.0, 1.3, 1.9, 3.5, 11.0)] == [
        "none",
        "very low",
        "low",
        "low",
        "medium",
        "high",
    ]
    # flagged only beyond a factor 2.5 of the word's figure: high 6x, medium 3x
    assert properties.cost_disagrees("high", 2.3) and not properties.cost_disagrees("high", 2.5)
    assert properties.cost_disagrees("medium", 7.6) and not properties.cost_disagrees("medium", 7.4)
    assert not properties.cost_disagrees("none", 0.01)  # nothing can cost less than nothing
    assert not properties.cost_disagrees("very low", 0.3)  # nor much less than ReLU
    for word, figure in properties.COST_WORDS.items():  # one step along the scale never flags
        assert not any(properties.cost_disagrees(word, f) for f in (figure / 2, figure * 2)), word


def test_sigmoid_measured_near_relu_contradicts_its_high_cost(measured):
    assert activations.get("sigmoid").cost == "high"
    (check,) = _cost_checks(_timed(measured["sigmoid"], 1.4))
    assert check.claim == "cost: high"
    assert check.measured.startswith("forward plus backward 1.4x ReLU's time, a low cost")
    assert "cheaper than the table says" in check.verdict
    assert not _cost_checks(_timed(measured["sigmoid"], 5.0))
    assert not _cost_checks(_timed(measured["tanh"], 5.0))


def test_a_cost_check_needs_a_timing_and_covers_every_row(measured):
    assert not [c for p in measured.values() for c in _cost_checks(p)]  # untimed: no cost word
    # PReLU is not in the subject's table, but its cost word is in the Explorer's
    (check,) = _cost_checks(_timed(measured["prelu"], 7.0))
    assert check.claim == "cost: very low" and "dearer than the table says" in check.verdict
    assert properties.checks(_timed(measured["prelu"], 1.0)) == []
    assert not _cost_checks(_timed(measured["relu"], 1.1))
    assert not _cost_checks(_timed(measured["linear"], 0.5))
    assert not _cost_checks(_timed(measured["hardswish"], 1.0))  # low: one step from very low


def test_the_table_saying_units_cannot_die_is_qualified_where_float32_flattens(measured):
    dying = {k: properties.dying_check(p) for k, p in measured.items()}
    # the table says sigmoid and tanh units do not die; float32 flattens them exactly
    assert "above x = 16.64" in dying["sigmoid"].measured
    assert "below x = -9.011" in dying["tanh"].measured
    assert "above x = 9.011" in dying["tanh"].measured
    # ReLU and Hardswish die by the table too: nothing to qualify; Leaky ReLU's slope is never 0
    assert dying["relu"] is None and dying["hardswish"] is None and dying["leaky_relu"] is None
    assert dying["linear"] is None
