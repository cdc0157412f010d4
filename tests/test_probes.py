"""Probe measurements against counts worked out by hand on networks with known weights."""

import numpy as np
import pytest
import torch

from playground import activations
from playground.model import MLP
from playground.probes import N_BINS, LayerSpec, layer_stats, probe_rows

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
