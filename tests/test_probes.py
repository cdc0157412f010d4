"""Probe measurements against counts worked out by hand on networks with known weights."""

import copy

import numpy as np
import pytest
import torch

from playground import activations
from playground.model import MLP
from playground.probes import (
    N_BINS,
    LayerSpec,
    capture_stats,
    layer_stats,
    predict,
    probe_pass,
    probe_rows,
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


def test_leaky_relu_counts_units_stuck_negative():
    # pre-activations: x0 -> (1, -1, 0.5): not stuck; -x0 - 10 -> always negative: stuck;
    # 0 -> (0, 0, 0): <= 0 everywhere: stuck (its output is exactly 0).
    net = _net("leaky_relu", [([[1, 0], [-1, 0], [0, 0]], [0, -10, 0])], alpha=0.1)
    stats = layer_stats(net, X, [LayerSpec("leaky_relu", 0.1)])
    assert stats.dead.tolist() == [2]


def test_tanh_saturated_units_match_hand_count():
    # |pre| = 10|x0| >= 5 for every input -> tanh' <= 1.8e-4: saturated; pre = 0 -> tanh' = 1;
    # pre = 4 everywhere -> tanh'(4) = 1.3e-3: saturated; x1 -> (2, 0, -3): tanh'(0) = 1: not.
    net = _net("tanh", [([[10, 0], [0, 0], [0, 0]], [0, 0, 4])])
    assert layer_stats(net, X, [LayerSpec("tanh", 0.0)]).saturated.tolist() == [2]
    net = _net("tanh", [([[0, 1], [0, 0], [10, 0]], [0, 4, 0])])
    stats = layer_stats(net, X, [LayerSpec("tanh", 0.0)])
    assert stats.saturated.tolist() == [2]
    assert np.isnan(stats.dead).all()


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
    # and unit f = tanh(10 * c) = tanh(10) is saturated for every input; e = tanh(0) is not.
    acts = [activations.get("relu").module(0.0), activations.get("tanh").module(0.0)]
    net = MLP(2, 1, 3, acts)
    with torch.no_grad():
        net.linears[0].weight.copy_(torch.tensor([[1.0, 0], [0, 0], [0, 0]]))
        net.linears[0].bias.copy_(torch.tensor([0.0, -1, 1]))
        net.linears[1].weight.copy_(torch.tensor([[1.0, 0, 0], [0, 0, 0], [0, 0, 10]]))
        net.linears[1].bias.zero_()
    stats = layer_stats(net, X, [LayerSpec("relu", 0.0), LayerSpec("tanh", 0.0)])
    assert stats.dead[0] == 1 and np.isnan(stats.dead[1])
    assert np.isnan(stats.saturated[0]) and stats.saturated[1] == 1


# ---- one-sided and two-sided saturation, dead by exact zeros for the smooth ReLUs ---------


def _constant_units(key: str, rows: list[tuple[list[float], float]], alpha: float = 0.0):
    """A one-layer, width-3 net whose units' pre-activations are w . x + b, set by hand."""
    return _net(key, [([w for w, _ in rows], [b for _, b in rows])], alpha)


@pytest.mark.parametrize(
    ("key", "units", "dead", "saturated"),
    [
        # GELU: pre = x0 - 9 is in {-8, -10, -8.5}: output exactly 0 and slope ~0 -> dead and
        # saturated; at its minimum (-0.75) the slope is 0 too, but that is not saturation
        ("gelu", [([1, 0], -9), ([0, 0], -0.751791524693564), ([0, 1], 0)], 1, 1),
        # SiLU: at its minimum, and just below it (slope 0.005), not saturated; at -10 saturated
        # but alive (output -4.5e-4); at -100 the float32 output is exactly 0: dead too
        ("silu", [([0, 0], activations.SILU_ARGMIN), ([0, 0], -10), ([0, 0], -100)], 1, 2),
        ("silu", [([0, 0], -1.30), ([0, 0], -1.25), ([1, 0], 5)], 0, 0),
        # Mish: at its minimum not saturated; at -20 saturated, alive; at -110 dead as well
        ("mish", [([0, 0], -1.1924312145155), ([0, 0], -20), ([0, 0], -110)], 1, 2),
        # ELU: -10 everywhere saturated (and stuck negative, its dead rule); -3 stuck but its
        # slope e^-3 = 0.05 is not saturated; 10 x0 reaches the positive side
        ("elu", [([0, 0], -10), ([0, 0], -3), ([10, 0], 0)], 2, 1),
        ("selu", [([0, 0], -10), ([0, 0], -3), ([10, 0], 0)], 2, 1),
        # Softplus (no dead rule): sigmoid(-10) = 4.5e-5 saturated, sigmoid(-4) = 0.018 not
        ("softplus", [([0, 0], -10), ([0, 0], -4), ([0, 0], 5)], None, 1),
        # sigmoid is two-sided: 10 x0 in {10, -10, 5} has slope < 0.0067 on both sides
        ("sigmoid", [([10, 0], 0), ([0, 0], -20), ([0, 0], 0)], None, 2),
        ("tanh", [([10, 0], 0), ([0, 0], 30), ([0, 0], -2)], None, 2),
    ],
)
def test_dead_and_saturated_on_hand_weighted_units(key, units, dead, saturated):
    alpha = 1.0 if key == "elu" else 0.0
    stats = layer_stats(_constant_units(key, units, alpha), X, [LayerSpec(key, alpha)])
    if dead is None:
        assert np.isnan(stats.dead).all()
    else:
        assert stats.dead.tolist() == [dead]
    assert stats.saturated.tolist() == [saturated]


def test_tail_rule_follows_the_registry():
    # one-sided activations need every input below their tail; two-sided ones do not
    for key in ("silu", "gelu", "mish"):
        act = activations.get(key)
        lo = act.output_range()[0]
        x = torch.tensor([act.tail_below], dtype=torch.float64)
        assert act.saturation_side == "negative" and act.tail_below < 0
        assert act.module(0.0).double()(x).item() > lo  # the tail starts below the minimum
    assert activations.get("sigmoid").saturation_side == "both"
    assert activations.get("relu").saturation_side is None  # flat, not saturating


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
