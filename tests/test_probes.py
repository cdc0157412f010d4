"""Probe measurements against counts worked out by hand on networks with known weights."""

import copy

import numpy as np
import pytest
import torch

from playground import activations
from playground.model import MLP
from playground.probes import (
    N_BINS,
    SATURATION_THRESHOLD,
    LayerSpec,
    can_reach,
    capture_stats,
    layer_stats,
    predict,
    probe_pass,
    probe_rows,
    unit_masks,
)

X = torch.tensor([[1.0, 2.0], [-1.0, 0.0], [0.5, -3.0]])


def _net(key: str, layers: list[tuple[list[list[float]], list[float]]], alpha: float = 0.0) -> MLP:
    """A width-3 MLP whose hidden weights are set by hand."""
    acts = [activations.get(key).module(alpha) for _ in layers]
    net = MLP(2, 1, 3, acts)
    with torch.no_grad():
        for lin, (w, b) in zip(net.linears, layers):
            lin.weight.copy_(torch.tensor(w))
            lin.bias.copy_(torch.tensor(b))
    return net


def test_relu_dead_units_match_hand_count():
    # layer 1: unit a = relu(x0) is zero at input 2 only -> alive; unit b = relu(-1) dead;
    # unit c = relu(1) alive. layer 2 reads (a, b, c):
    # unit d = relu(-a - c) is zero everywhere (a, c >= 0) -> dead; e = relu(a - 0.5): values
    # 0.5, 0, 0 -> alive (dead at two inputs is not dead); f = relu(-5 + 0*..) -> dead.
    net = _net(
        "relu",
        [
            ([[1, 0], [0, 0], [0, 0]], [0, -1, 1]),
            ([[-1, 0, -1], [1, 0, 0], [0, 0, 0]], [0, -0.5, -5]),
        ],
    )
    stats = layer_stats(net, X, [LayerSpec("relu", 0.0)] * 2)
    assert stats.dead.tolist() == [1, 2]
    np.testing.assert_allclose(stats.dead_fraction, [1 / 3, 2 / 3])
    assert np.isnan(stats.saturated).all()  # ReLU's flat side is not saturation


def test_leaky_relu_units_stuck_negative_rest_and_cannot_die():
    # pre-activations: x0 -> (1, -1, 0.5): not stuck; -x0 - 10 -> always negative: stuck;
    # 0 -> (0, 0, 0): <= 0 everywhere: stuck (slope alpha there, as autograd has it at 0).
    net = _net("leaky_relu", [([[1, 0], [-1, 0], [0, 0]], [0, -10, 0])], alpha=0.1)
    stats = layer_stats(net, X, [LayerSpec("leaky_relu", 0.1)])
    assert stats.resting.tolist() == [2]
    assert np.isnan(stats.dead).all() and np.isnan(stats.saturated).all()  # cannot be either


def test_tanh_saturated_units_match_hand_count():
    # |pre| = 10|x0| >= 5 for every input -> tanh' <= 1.8e-4: saturated; pre = 0 -> tanh' = 1;
    # pre = 4 everywhere -> tanh'(4) = 1.3e-3: saturated; x1 -> (2, 0, -3): tanh'(0) = 1: not.
    net = _net("tanh", [([[10, 0], [0, 0], [0, 0]], [0, 0, 4])])
    assert layer_stats(net, X, [LayerSpec("tanh", 0.0)]).saturated.tolist() == [2]
    net = _net("tanh", [([[0, 1], [0, 0], [10, 0]], [0, 4, 0])])
    stats = layer_stats(net, X, [LayerSpec("tanh", 0.0)])
    assert stats.saturated.tolist() == [2]
    assert stats.dead.tolist() == [0] and np.isnan(stats.resting).all()


def test_moments_and_histograms():
    net = _net("sigmoid", [([[1, 0], [0, 1], [1, 1]], [0, 0, 0])])
    stats = layer_stats(net, X, [LayerSpec("sigmoid", 0.0)])
    pre = X @ torch.tensor([[1.0, 0, 1], [0, 1, 1]])
    assert stats.pre_mean[0] == pytest.approx(pre.mean().item(), abs=1e-6)
    assert stats.post_std[0] == pytest.approx(torch.sigmoid(pre).std().item(), abs=1e-6)
    edges, counts = stats.hist_post[0]
    assert len(edges) == N_BINS + 1 and counts.sum() == 9
    assert edges[0] == 0 and edges[-1] == 1  # sigmoid's bins span its range (0, 1)
    expected, _ = np.histogram(torch.sigmoid(pre).numpy().ravel(), bins=edges)
    np.testing.assert_array_equal(counts, expected)


def test_probe_leaves_batch_norm_statistics_alone():
    net = MLP(2, 1, 3, [torch.nn.ReLU()], batch_norm=True)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    layer_stats(net, X, [LayerSpec("relu", 0.0)])
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert net.training


def test_predict_is_inference_and_leaves_batch_norm_alone():
    net = MLP(2, 1, 3, [torch.nn.ReLU(), torch.nn.Tanh()], batch_norm=True)
    net(torch.randn(16, 2, generator=torch.Generator().manual_seed(0)))  # move running stats
    before = {k: v.clone() for k, v in net.state_dict().items()}
    out = predict(net, X)
    torch.testing.assert_close(out, copy.deepcopy(net).eval()(X))  # running statistics
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert net.training and not out.requires_grad


def test_probe_rows_are_a_fixed_subset():
    rows = probe_rows(2000, data_seed=3)
    assert len(rows) == 512 and len(set(rows.tolist())) == 512 and rows.max() < 2000
    np.testing.assert_array_equal(rows, probe_rows(2000, data_seed=3))
    assert not np.array_equal(rows, probe_rows(2000, data_seed=4))
    np.testing.assert_array_equal(probe_rows(100, 0), np.arange(100))


def test_mixed_activations_are_measured_per_layer():
    # layer 1 (ReLU): unit b = relu(-1) is dead; layer 2 (tanh) reads (a, b, c) = (relu(x0), 0, 1)
    # and unit f = tanh(5 * c) = tanh(5) is saturated for every input (slope 1.8e-4, not 0);
    # e = tanh(0) is not.
    acts = [activations.get("relu").module(0.0), activations.get("tanh").module(0.0)]
    net = MLP(2, 1, 3, acts)
    with torch.no_grad():
        net.linears[0].weight.copy_(torch.tensor([[1.0, 0], [0, 0], [0, 0]]))
        net.linears[0].bias.copy_(torch.tensor([0.0, -1, 1]))
        net.linears[1].weight.copy_(torch.tensor([[1.0, 0, 0], [0, 0, 0], [0, 0, 5]]))
        net.linears[1].bias.zero_()
    stats = layer_stats(net, X, [LayerSpec("relu", 0.0), LayerSpec("tanh", 0.0)])
    assert stats.dead.tolist() == [1, 0]
    assert np.isnan(stats.saturated[0]) and stats.saturated[1] == 1


# ---- one rule for every activation: dead, resting, saturated ------------------------------

# Per hidden activation, units whose input is the same constant c for every probe input, and
# the state each must be in. Worked out by hand in float32: e^-200 underflows to exactly 0
# (the least float32 is 1.4e-45), so every exponential-tailed slope is exactly 0 there; the
# sigmoid's slope s (1 - s) is exactly 0 once s rounds to 1 (x above 16.64), tanh's 1 - t^2
# once t rounds to +-1 (|x| above 9.01); ELU's slope at -0.5 is e^-0.5 = 0.61 and SELU's at -3
# is 1.0507 * 1.6733 * e^-3 = 0.088: on their negative side, not dead, not even saturated.
UNIT_CASES = {
    "sigmoid": [(20, "dead"), (-10, "saturated"), (0, "live")],  # slope 0, 4.5e-5, 0.25
    "tanh": [(10, "dead"), (-10, "dead"), (4, "saturated")],  # 0, 0, 1.3e-3
    "relu": [(-1, "dead"), (0, "dead"), (1, "live")],  # autograd: ReLU'(0) = 0
    "leaky_relu": [(-1, "resting"), (0, "resting"), (1, "live")],  # slope alpha = 0.01
    "prelu": [(-1, "resting"), (0, "resting"), (2, "live")],  # slope alpha = 0.25
    "elu": [(-0.5, "live"), (-10, "saturated"), (-200, "dead")],  # 0.61, 4.5e-5, 0
    "selu": [(-3, "live"), (-10, "saturated"), (-200, "dead")],  # 0.088, 8e-5, 0
    "silu": [(-200, "dead"), (-10, "saturated"), (1, "live")],  # 0, -4.1e-4, 0.93
    "gelu": [(-200, "dead"), (-4, "saturated"), (-3, "live")],  # 0, -5.0e-4, -0.012
    "mish": [(-200, "dead"), (-20, "saturated"), (1, "live")],  # 0, -4e-8, 1.05
    "softplus": [(-200, "dead"), (-10, "saturated"), (0, "live")],  # 0, 4.5e-5, 0.5
    "hardswish": [(-4, "dead"), (-1.52, "saturated"), (1, "live")],  # 0, -0.0067, 0.83
    "linear": [(-100, "live"), (0, "live"), (100, "live")],  # always 1
}


def _states(key: str, alpha: float, constants: list[float]) -> list[str]:
    """Each unit's state when its input is `c` for every one of 64 probe inputs."""
    pre = torch.tensor(constants, dtype=torch.float32).expand(1, 64, len(constants))
    found = unit_masks([LayerSpec(key, alpha)], pre.contiguous())
    names = []
    for u in range(len(constants)):
        flags = [bool(m[0, u]) for m in (found.dead, found.resting, found.saturated)]
        names.append(("dead", "resting", "saturated")[flags.index(True)] if any(flags) else "live")
    return names


def test_every_hidden_activation_has_a_case():
    assert set(UNIT_CASES) == set(activations.HIDDEN_KEYS)


@pytest.mark.parametrize("key", list(UNIT_CASES))
def test_unit_states_on_hand_built_units(key):
    act = activations.get(key)
    alpha = act.param.default if act.param else 0.0
    constants, expected = zip(*UNIT_CASES[key], strict=True)
    assert _states(key, alpha, list(constants)) == list(expected)


@pytest.mark.parametrize("alpha", [0.01, 0.005])
def test_a_leaky_unit_rests_below_the_saturation_threshold(alpha):
    # in float32 alpha 0.01 is 0.0099999998, a hair from the threshold, and 0.005 is below
    # it: by slope alone the second would be "saturated", but resting comes first
    assert float(np.float32(0.005)) < SATURATION_THRESHOLD
    assert _states("leaky_relu", alpha, [-1.0, -50.0]) == ["resting", "resting"]
    assert _states("leaky_relu", 0.0, [-1.0]) == ["dead"]  # alpha 0 is ReLU: slope exactly 0


def test_a_unit_needs_every_input_to_be_in_a_state():
    # one probe input on the live side is enough to keep a unit out of any state
    pre = torch.full((1, 8, 2), 20.0)
    pre[0, 0, 0] = 0.0  # the sigmoid's slope is 0.25 at one input of unit 1
    found = unit_masks([LayerSpec("sigmoid", 0.0)], pre)
    assert found.dead[0].tolist() == [False, True]


def test_states_agree_with_autograd_on_a_training_sized_tensor():
    # the rule's zeros are autograd's: compare with a backward pass through a real network
    gen = torch.Generator().manual_seed(0)
    for key in activations.HIDDEN_KEYS:
        act = activations.get(key)
        alpha = act.param.default if act.param else 0.0
        z = (torch.randn(1, 512, 16, generator=gen) * 60).requires_grad_(True)
        act.module(alpha)(z).sum().backward()
        grad = z.grad.abs()
        found = unit_masks([LayerSpec(key, alpha)], z.detach())
        expect_dead = (grad == 0).all(1)[0] if can_reach(LayerSpec(key, alpha))[0] else None
        if expect_dead is not None:
            assert found.dead[0].tolist() == expect_dead.tolist(), key


# ---- exact zeros, precise moments ------------------------------------------------------------


def test_exact_zeros_have_a_bin_of_their_own():
    # unit a = relu(x0): zero at input 2 only (1 zero); b = relu(-1): 3 zeros; c = relu(x1): zero
    # at inputs 2 (x1 = 0) and 3 (x1 = -3): 2 zeros. Pre of b's twin (w = 0, b = 0) is 0.
    net = _net("relu", [([[1, 0], [0, 0], [0, 1]], [0, -1, 0])])
    stats = layer_stats(net, X, [LayerSpec("relu", 0.0)])
    with torch.no_grad():
        z = net.linears[0](X)
        a = torch.relu(z)
    assert stats.zeros_post.tolist() == [(a == 0).sum().item()] == [6]
    assert stats.zeros_pre.tolist() == [(z == 0).sum().item()]
    for (edges, counts), zeros in zip(stats.hist_post, stats.zeros_post):
        assert counts.sum() + zeros == a.numel()
        nonzero = a[a != 0].numpy()
        np.testing.assert_array_equal(counts, np.histogram(nonzero, bins=edges)[0])
    for (_, counts), zeros in zip(stats.hist_pre, stats.zeros_pre):
        assert counts.sum() + zeros == z.numel()


def test_a_layer_with_one_value_gets_a_readable_bin_range():
    net = _net("relu", [([[0, 0], [0, 0], [0, 0]], [-1, -1, -1])])  # every unit dead
    stats = layer_stats(net, X, [LayerSpec("relu", 0.0)])
    (edges, counts), zeros = stats.hist_post[0], stats.zeros_post[0]
    assert (edges[0], edges[-1]) == (0.0, 1.0) and counts.sum() == 0 and zeros == 9


def test_std_is_accurate_when_the_mean_dwarfs_the_spread():
    gen = torch.Generator().manual_seed(0)
    z = 300 + 0.05 * torch.randn(512, 8, generator=gen)
    stats = capture_stats([(z, torch.tanh(z))], [LayerSpec("tanh", 0.0)], histograms=False)
    expected = np.std(z.double().numpy(), ddof=1)
    assert stats.pre_std[0] == pytest.approx(expected, rel=0.01)
    assert stats.pre_mean[0] == pytest.approx(z.double().mean().item(), rel=1e-6)


# ---- the probe's forward-and-gradient pass ----------------------------------------------------


def _reference_norms(net: MLP, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Weight-gradient and signal norms by the textbook route: backward and retain_grad."""
    twin = copy.deepcopy(net)
    capture: list = []
    out = twin(x, capture)
    for z, _ in capture:
        z.retain_grad()
    torch.nn.functional.mse_loss(out, y).backward()
    return torch.stack(
        [
            torch.stack([lin.weight.grad.norm() for lin in twin.linears]),
            torch.stack([z.grad.norm() for z, _ in capture]),
        ]
    )


def test_probe_pass_gradients_match_backward_and_leave_grad_buffers_alone():
    gen = torch.Generator().manual_seed(1)
    net = MLP(2, 1, 5, [torch.nn.Tanh(), torch.nn.ReLU()])
    x, y = torch.randn(20, 2, generator=gen), torch.randn(20, 1, generator=gen)
    extra = torch.randn(7, 2, generator=gen)  # rows that ride along but stay out of the loss
    measured = probe_pass(net, torch.cat([x, extra]), y, torch.nn.functional.mse_loss)
    assert all(p.grad is None for p in net.parameters())
    torch.testing.assert_close(measured.norms[:2], _reference_norms(net, x, y))
    weights = torch.stack([lin.weight.norm() for lin in net.linears]).detach()
    torch.testing.assert_close(measured.norms[2], weights)
    assert measured.out.shape == (27, 1) and not measured.out.requires_grad
    assert [z.shape for z, _ in measured.capture] == [(20, 5), (20, 5)]
    alone = probe_pass(net, x, y, torch.nn.functional.mse_loss)
    torch.testing.assert_close(alone.norms, measured.norms)
