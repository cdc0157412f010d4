"""Tests for the activations registry: derivatives, ranges, and agreement with the subject matter.

Derivatives are checked at kinks too (x = 0 for the ReLU family, x = +-3 for Hardswish): the
registry follows PyTorch's autograd convention there, so the plotted f' is the one training uses.
"""

from __future__ import annotations

import math

import pytest
import torch

from playground import activations
from playground.activations import REGISTRY, Activation, get

SUBJECT_KEYS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "silu", "softmax", "linear")
EXTRA_KEYS = ("prelu", "gelu", "selu", "mish", "softplus", "hardswish")

# The subject matter's comparison table, transcribed: range in LaTeX, the tick marks as words
# (✅/❌/~✅ -> yes/no/approx; softmax's bare ✅ under "Saturates" -> both ends).
SUBJECT_TABLE: dict[str, dict[str, object]] = {
    "sigmoid": dict(range_latex=r"(0, 1)", zero_centred="no", saturates="both", dying=False,
                    cost="high"),
    "tanh": dict(range_latex=r"(-1, 1)", zero_centred="yes", saturates="both", dying=False,
                 cost="high"),
    "relu": dict(range_latex=r"[0, \infty)", zero_centred="no", saturates="no", dying=True,
                 cost="very low"),
    "leaky_relu": dict(range_latex=r"(-\infty, \infty)", zero_centred="no", saturates="no",
                       dying=False, cost="very low"),
    "elu": dict(range_latex=r"(-\alpha, \infty)", zero_centred="approx", saturates="negative",
                dying=False, cost="medium"),
    "silu": dict(range_latex=r"(-\infty, \infty)", zero_centred="no", saturates="no", dying=False,
                 cost="medium"),
    "softmax": dict(range_latex=r"(0, 1),\ \textstyle\sum_i \mathrm{softmax}(x)_i = 1",
                    zero_centred="no", saturates="both", dying=False, cost="high"),
    "linear": dict(range_latex=r"(-\infty, \infty)", zero_centred="yes", saturates="no",
                   dying=False, cost="none"),
}  # fmt: skip

# Table fields the registry deliberately changes; each such entry must carry a correction note.
CORRECTED_FIELDS: dict[str, set[str]] = {"silu": {"range_latex"}}
# Where the probes measure saturation differently from the table's "Saturates" column.

# Activations bounded below at a finite value: the dense-grid minimum must match output_range.
BOUNDED_BELOW = ("silu", "gelu", "mish", "hardswish", "elu", "selu")

HIDDEN = tuple(k for k in REGISTRY if k != "softmax")


def dense_grid(lo: float = -8.0, hi: float = 8.0, n: int = 16001) -> torch.Tensor:
    """A float64 grid with the points where derivatives go wrong: 0, near 0, and kinks."""
    specials = torch.tensor([0.0, 1e-6, -1e-6, 1e-12, -1e-12, 3.0, -3.0], dtype=torch.float64)
    return torch.cat([torch.linspace(lo, hi, n, dtype=torch.float64), specials]).sort().values


def alphas_for(act: Activation) -> list[float]:
    """The default alpha plus one other (float32-exact, since nn.PReLU stores float32)."""
    if act.param is None:
        return [0.0]
    other = 0.5 if act.param.default != 0.5 else 0.25
    return [act.param.default, other]


def curve(act: Activation, alpha: float, x: torch.Tensor) -> torch.Tensor:
    """f(x) from the activation's own torch module, in float64."""
    with torch.no_grad():
        return act.module(alpha).double()(x)


HIDDEN_CASES = [(k, a) for k in HIDDEN for a in alphas_for(REGISTRY[k])]


# --- derivatives ---


@pytest.mark.parametrize(("key", "alpha"), HIDDEN_CASES)
def test_derivative_matches_autograd(key: str, alpha: float) -> None:
    act = get(key)
    x = dense_grid().requires_grad_(True)
    act.module(alpha).double()(x).sum().backward()
    analytic = act.derivative(x.detach(), alpha)
    assert analytic.dtype == torch.float64
    torch.testing.assert_close(analytic, x.grad, rtol=1e-9, atol=1e-12)


def test_derivative_keeps_alpha_exact() -> None:
    # a slope of 0.2 must not be rounded through float32 (0.2000000029...)
    slope = get("leaky_relu").derivative(torch.tensor([-1.0], dtype=torch.float64), 0.2)
    assert slope.item() == 0.2


def test_softmax_derivative_is_jacobian_diagonal() -> None:
    act = get("softmax")
    gen = torch.Generator().manual_seed(0)
    for size in (2, 3, 7):
        for scale in (1.0, 5.0):
            x = torch.randn(size, generator=gen, dtype=torch.float64) * scale
            jac = torch.autograd.functional.jacobian(act.module(0.0), x)
            torch.testing.assert_close(act.derivative(x, 0.0), torch.diagonal(jac))


def test_softmax_derivative_works_along_last_dim_of_a_batch() -> None:
    act = get("softmax")
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    rows = torch.stack([act.derivative(row, 0.0) for row in x])
    torch.testing.assert_close(act.derivative(x, 0.0), rows)


# --- the subject matter's table and our corrections ---


@pytest.mark.parametrize("key", SUBJECT_KEYS)
def test_properties_match_subject_table_unless_corrected(key: str) -> None:
    act = get(key)
    corrected = CORRECTED_FIELDS.get(key, set())
    for field, expected in SUBJECT_TABLE[key].items():
        actual = getattr(act, field)
        if field in corrected:
            assert actual != expected, f"{key}.{field} is listed as corrected but is unchanged"
        else:
            assert actual == expected, f"{key}.{field}"
    assert act.in_subject


def test_every_corrected_field_has_a_correction_note() -> None:
    for key in CORRECTED_FIELDS:
        assert get(key).correction


@pytest.mark.parametrize("key", HIDDEN)
def test_slope_kind_is_what_autograd_computes(key: str) -> None:
    """The probes read piecewise-linear units off their sign: their slopes must be only these."""
    act = get(key)
    alpha = act.param.default if act.param else 0.0
    x = torch.linspace(-200.0, 200.0, 80_001).requires_grad_(True)
    act.module(alpha)(x).sum().backward()
    seen = set(x.grad.unique().tolist())
    expected = {"relu": {0.0, 1.0}, "leaky": {float(torch.tensor(alpha)), 1.0}, "identity": {1.0}}
    if act.slope_kind == "curved":  # every value down to exactly 0: it can be dead or saturated
        g = x.grad.abs()
        assert (g == 0).any() and ((g > 0) & (g < 0.01)).any(), key
    else:
        assert seen == expected[act.slope_kind], key


def test_float32_limits_quoted_in_the_notes() -> None:
    """The float32 thresholds the corrections quote, measured with the modules and autograd."""

    def slope(module: torch.nn.Module, value: float) -> float:
        # 64 values, not 1: one-element tensors take a scalar path that rounds differently
        x = torch.full((64,), value, requires_grad=True)
        (grad,) = torch.autograd.grad(module(x).sum(), x)
        return grad[0].item()

    def value(module: torch.nn.Module, x: float) -> float:
        return module(torch.full((64,), x))[0].item()

    sig, tanh, gelu = torch.nn.Sigmoid(), torch.nn.Tanh(), torch.nn.GELU()
    assert slope(sig, 16.5) > 0 and slope(sig, 16.7) == 0 and value(sig, 16.7) == 1
    assert slope(sig, -88.6) > 0 and slope(sig, -88.8) == 0 and value(sig, -88.8) == 0
    assert slope(tanh, 8.95) > 0 and slope(tanh, 9.05) == 0 and slope(tanh, -9.05) == 0
    assert value(gelu, -5.5) < 0 and value(gelu, -5.6) == 0
    assert slope(gelu, -6.1) != 0 and slope(gelu, -6.2) == 0
    silu, mish = torch.nn.SiLU(), torch.nn.Mish()
    assert value(silu, -88.6) < 0 and value(silu, -88.8) == 0
    assert value(mish, -102.8) < 0 and value(mish, -103.0) == 0
    for key, text in (("sigmoid", "16.6"), ("sigmoid", "88.7"), ("tanh", "9.0")):
        assert text in get(key).correction
    assert "5.54" in get("gelu").correction and "6.15" in get("gelu").correction


def test_notes_speak_in_the_apps_own_voice() -> None:
    for act in REGISTRY.values():
        for text in (act.correction or "", act.uses):
            assert "subject" not in text.lower(), act.key


def test_elu_is_smooth_at_zero_only_for_alpha_one() -> None:
    act = get("elu")
    for alpha, smooth in ((1.0, True), (0.5, False), (2.0, False)):
        left = act.derivative(torch.tensor([-1e-12], dtype=torch.float64), alpha).item()
        right = act.derivative(torch.tensor([1e-12], dtype=torch.float64), alpha).item()
        assert (abs(left - right) < 1e-9) == smooth
    assert "alpha = 1" in act.uses and "alpha = 1" in act.correction


@pytest.mark.parametrize("key", BOUNDED_BELOW)
def test_numeric_minimum_matches_output_range(key: str) -> None:
    act = get(key)
    lo, _ = act.output_range()
    assert -math.inf < lo < 0
    x = dense_grid(-30.0, 8.0, 380001)  # step 1e-4; reaches far enough for ELU/SELU's asymptote
    grid_min = curve(act, act.param.default if act.param else 0.0, x).min().item()
    assert abs(grid_min - lo) < 1e-4
    assert grid_min >= lo


def test_known_minimum_constants() -> None:
    assert get("silu").output_range()[0] == pytest.approx(-0.2784645, abs=1e-7)
    assert get("gelu").output_range()[0] == pytest.approx(-0.1699712, abs=1e-7)
    assert get("mish").output_range()[0] == pytest.approx(-0.3088434, abs=1e-7)
    assert get("hardswish").output_range()[0] == -0.375
    assert get("selu").output_range()[0] == pytest.approx(-1.7580993, abs=1e-7)
    assert get("elu").output_range(2.5) == (-2.5, math.inf)


def test_silu_minimum_sits_where_its_derivative_vanishes() -> None:
    x = torch.tensor([activations.SILU_ARGMIN], dtype=torch.float64)
    assert abs(get("silu").derivative(x, 0.0).item()) < 1e-12
    assert abs(activations.SILU_MIN - (activations.SILU_ARGMIN + 1)) < 1e-14


def test_sigmoid_saturates_and_in_float32_can_die() -> None:
    # exact arithmetic never reaches slope 0; float32, as training runs it, does above +16.64
    act = get("sigmoid")
    x = torch.tensor([-30.0, 30.0], dtype=torch.float64)
    grads = act.derivative(x, 0.0)
    assert (grads < 1e-12).all() and (grads > 0).all()
    z = torch.full((512, 8), 20.0, requires_grad=True)
    act.module(0.0)(z).sum().backward()
    assert (z.grad == 0).all()
    assert not act.dying and "dead" in act.correction  # the table says no; the note says when


def test_relu_negative_side_is_flat_not_saturating() -> None:
    act = get("relu")
    x = -torch.logspace(-6, 3, 50, dtype=torch.float64)
    assert (curve(act, 0.0, x) == 0).all()
    assert (act.derivative(x, 0.0) == 0).all()
    assert act.saturates == "no" and act.correction


def test_hardswish_can_die_by_exact_zero_definition() -> None:
    act = get("hardswish")
    x = torch.linspace(-50.0, -3.0, 100, dtype=torch.float64)
    assert (curve(act, 0.0, x) == 0).all()
    assert act.dying and act.slope_kind == "curved"


# --- ranges ---


@pytest.mark.parametrize(("key", "alpha"), HIDDEN_CASES)
def test_outputs_lie_inside_output_range(key: str, alpha: float) -> None:
    act = get(key)
    lo, hi = act.output_range(alpha)
    y = curve(act, alpha, dense_grid(-30.0, 30.0, 60001))
    assert lo <= y.min().item() and y.max().item() <= hi


def test_softmax_outputs_lie_inside_output_range() -> None:
    act = get("softmax")
    lo, hi = act.output_range()
    x = torch.randn(64, 10, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 4
    y = curve(act, 0.0, x)
    assert lo <= y.min().item() and y.max().item() <= hi
    torch.testing.assert_close(y.sum(dim=-1), torch.ones(64, dtype=torch.float64))


def test_leaky_with_zero_slope_has_relu_range() -> None:
    assert get("leaky_relu").output_range(0.0) == (0.0, math.inf)
    assert get("leaky_relu").output_range() == (-math.inf, math.inf)


def test_output_range_defaults_to_param_default() -> None:
    for act in REGISTRY.values():
        default = act.param.default if act.param else 0.0
        assert act.output_range() == act.output_range(default)


# --- registry shape and vocabulary ---


def test_keys_and_order() -> None:
    assert tuple(REGISTRY) == SUBJECT_KEYS + EXTRA_KEYS
    assert get("silu").label == "Swish/SiLU"
    assert all(not REGISTRY[k].in_subject for k in EXTRA_KEYS)


def test_hidden_keys_exclude_softmax_only() -> None:
    assert "softmax" not in activations.HIDDEN_KEYS
    assert activations.HIDDEN_KEYS == HIDDEN
    assert not get("softmax").hidden


def test_unknown_key_error_lists_valid_keys() -> None:
    with pytest.raises(KeyError) as info:
        get("nope")
    message = str(info.value)
    assert "nope" in message
    assert all(key in message for key in REGISTRY)


@pytest.mark.parametrize("key", tuple(REGISTRY))
def test_entry_is_complete(key: str) -> None:
    act = get(key)
    assert act.key == key and act.label
    assert act.formula.strip() and act.derivative_formula.strip() and act.range_latex.strip()
    assert act.uses.strip() and act.best_for.strip()
    assert act.zero_centred in {"yes", "no", "approx"}
    assert act.saturates in {"no", "both", "negative"}
    assert act.cost in {"none", "very low", "low", "medium", "high"}
    assert act.slope_kind in {"relu", "leaky", "identity", "curved"}
    if act.param:
        assert act.param.low <= act.param.default <= act.param.high and act.param.help


def test_slope_kinds() -> None:
    kinds = {k: a.slope_kind for k, a in REGISTRY.items() if a.slope_kind != "curved"}
    assert kinds == {"relu": "relu", "leaky_relu": "leaky", "prelu": "leaky", "linear": "identity"}


def test_params() -> None:
    specs = {
        k: (a.param.default, a.param.low, a.param.high) for k, a in REGISTRY.items() if a.param
    }
    assert specs == {
        "leaky_relu": (0.01, 0.0, 1.0),
        "elu": (1.0, 0.01, 5.0),
        "prelu": (0.25, 0.0, 1.0),
    }
    assert all(a.param.name == "alpha" for a in REGISTRY.values() if a.param)


def test_he_gain_slope() -> None:
    assert get("leaky_relu").negative_slope(0.2) == 0.2
    assert get("prelu").negative_slope(0.25) == 0.25
    assert get("relu").negative_slope(0.2) == 0.0
    assert get("elu").negative_slope(1.0) == 0.0


def test_module_factory_builds_fresh_modules_using_alpha() -> None:
    first, second = get("prelu").module(0.5), get("prelu").module(0.5)
    assert first is not second and first.weight is not second.weight
    assert first.weight.item() == 0.5
    assert get("leaky_relu").module(0.3).negative_slope == 0.3
    assert get("elu").module(2.0).alpha == 2.0
    assert get("gelu").module(0.0).approximate == "none"
    assert get("softmax").module(0.0).dim == -1
