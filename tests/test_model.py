"""Initialisation schemes, output heads and the activation/loss pairing rules."""

import dataclasses
import math

import pytest
import torch

from playground.model import INITS, PAIRINGS, ModelSpec, build_model, default_pairing

FAN = 400


def _first_weight(init: str, key: str = "relu", alpha: float = 0.0) -> torch.nn.Linear:
    model = build_model(ModelSpec(FAN, 1, FAN, (key, key), (alpha, alpha), init, seed=0))
    return model.linears[1]  # FAN x FAN, so fan-in = fan-out = FAN


@pytest.mark.parametrize(
    ("init", "std"),
    [
        ("he", math.sqrt(2 / FAN)),
        ("he_uniform", math.sqrt(2 / FAN)),
        ("xavier", math.sqrt(2 / (2 * FAN))),
        ("xavier_uniform", math.sqrt(2 / (2 * FAN))),
        ("lecun", 1 / math.sqrt(FAN)),
        ("small", 0.01),
        ("large", 1.0),
        ("default", 1 / math.sqrt(FAN) / math.sqrt(3)),
    ],
)
def test_init_scheme_weight_std(init, std):
    lin = _first_weight(init)
    assert lin.weight.std().item() == pytest.approx(std, rel=0.03)
    if init == "default":
        assert lin.bias.abs().max().item() <= 1 / math.sqrt(FAN)
        assert lin.bias.abs().max().item() > 0
    else:
        assert torch.count_nonzero(lin.bias) == 0


def test_he_uses_the_activations_negative_slope():
    lin = _first_weight("he", "leaky_relu", 0.5)
    assert lin.weight.std().item() == pytest.approx(math.sqrt(2 / (1.25 * FAN)), rel=0.03)


def test_same_seed_same_weights_without_touching_global_rng():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    spec = ModelSpec(2, 1, 8, ("tanh",) * 3, (0.0,) * 3, "default", seed=7)
    a = build_model(spec)
    assert torch.equal(state, torch.get_rng_state())
    b = build_model(ModelSpec(2, 1, 8, ["tanh"] * 3, [0.0] * 3, "default", seed=7))
    assert b.linears[0].weight.shape == (8, 2)
    c = build_model(dataclasses.replace(spec, seed=8))
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(va, vb), k
    assert not torch.equal(a.linears[0].weight, c.linears[0].weight)


def test_model_spec_is_a_hashable_value():
    spec = ModelSpec(2, 1, 8, ["relu", "tanh"], [0.0, 0.0], "he", seed=0)
    assert spec.layer_keys == ("relu", "tanh") and spec.alphas == (0.0, 0.0)
    assert spec == ModelSpec(2, 1, 8, ("relu", "tanh"), (0.0, 0.0), "he", seed=0)
    assert hash(spec) == hash(ModelSpec(2, 1, 8, ("relu", "tanh"), (0.0, 0.0), "he", seed=0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.width = 4  # type: ignore[misc]
    with pytest.raises(ValueError, match="alphas"):
        ModelSpec(2, 1, 8, ("relu", "tanh"), (0.0,), "he", seed=0)


def test_all_inits_listed():
    assert set(INITS) == {
        "default",
        "he",
        "he_uniform",
        "xavier",
        "xavier_uniform",
        "lecun",
        "small",
        "large",
    }


def test_heads_follow_the_pairing():
    x = torch.randn(16, 2)
    sig = build_model(ModelSpec(2, 1, 4, ("relu",), (0.0,), "he", 0, output="sigmoid"))(x)
    assert ((sig > 0) & (sig < 1)).all()
    logp = build_model(ModelSpec(2, 3, 4, ("relu",), (0.0,), "he", 0, output="log_softmax"))(x)
    torch.testing.assert_close(logp.exp().sum(1), torch.ones(16))


def test_default_pairings_and_warnings():
    assert [default_pairing(t) for t in ("binary", "multiclass", "regression")] == [
        "bce_logits",
        "ce_logits",
        "mse",
    ]
    mistakes = {k for k, p in PAIRINGS.items() if p.warning}
    assert mistakes == {"softmax_ce", "softmax_nll", "tanh_mse", "sigmoid_mse"}
    assert PAIRINGS["softmax_ce"].warning and not PAIRINGS["ce_logits"].warning
    assert PAIRINGS["log_softmax_nll"].output == "log_softmax"


def test_sigmoid_bce_cost_at_extreme_logits_is_real():
    """The note on sigmoid + BCELoss: a confidently wrong logit gets a capped loss, no gradient."""
    logit = torch.tensor([[40.0]], requires_grad=True)
    target = torch.tensor([[0.0]])
    stable = torch.nn.BCEWithLogitsLoss()(logit, target)
    assert stable.item() == pytest.approx(40.0)
    stable.backward()
    assert logit.grad.item() == pytest.approx(1.0)
    logit.grad = None
    classic = torch.nn.BCELoss()(torch.sigmoid(logit), target)
    assert classic.item() == pytest.approx(100.0)  # log(0) clamped at -100
    classic.backward()
    assert logit.grad.item() == 0.0


def test_softmax_into_cross_entropy_cannot_reach_zero_loss():
    """The warning on softmax + CrossEntropyLoss: even a perfect prediction keeps a large loss."""
    perfect = torch.tensor([[1.0, 0.0, 0.0]])  # softmax output, fully confident and right
    loss = torch.nn.CrossEntropyLoss()(perfect, torch.tensor([0]))
    assert loss.item() > 0.5
