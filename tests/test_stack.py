"""The lock-step comparison engine against each model trained alone with torch.optim."""

from __future__ import annotations

import torch

from playground.data import DataConfig, make_dataset
from playground.model import PAIRINGS, ModelSpec, build_model
from playground.stack import Model, Stack, batch_order, stack_for

STEPS = 200


def _data(name: str = "spiral"):
    data = make_dataset(DataConfig(name=name, n_points=300, noise=0.1, train_ratio=0.5, seed=3))
    x = torch.as_tensor(data.x_train, dtype=torch.float32)
    if data.task == "multiclass":
        y = torch.as_tensor(data.y_train, dtype=torch.long)
    else:
        y = torch.as_tensor(data.y_train, dtype=torch.float32).view(-1, 1)
    return data, x, y


def _alone(m: Model, data, x, y, width, depth, pairing, batches, bn=False, l1=0.0, l2=0.0):
    """One model as the Playground trains it: an nn.Module and a torch.optim optimiser."""
    spec = ModelSpec(
        data.n_features,
        data.n_classes if data.task == "multiclass" else 1,
        width,
        (m.activation,) * depth,
        (m.alpha,) * depth,
        m.init,
        m.seed,
        batch_norm=bn,
        output=PAIRINGS[pairing].output,
    )
    net = build_model(spec)
    weights = [lin.weight for lin in [*net.linears, net.head]]
    others = [p for p in net.parameters() if all(p is not w for w in weights)]
    params = [{"params": weights, "weight_decay": l2}, {"params": others}]
    opt = {
        "sgd": lambda: torch.optim.SGD(params, lr=m.lr),
        "momentum": lambda: torch.optim.SGD(params, lr=m.lr, momentum=0.9),
        "adam": lambda: torch.optim.Adam(params, lr=m.lr),
        "rmsprop": lambda: torch.optim.RMSprop(params, lr=m.lr),
    }[m.optimizer]()
    loss_fn = PAIRINGS[pairing].loss()
    out = []
    for idx in batches:
        loss = loss_fn(net(x[idx]), y[idx])
        penalty = l1 * sum(w.abs().sum() for w in weights) if l1 else 0.0
        opt.zero_grad()
        (loss + penalty).backward()
        opt.step()
        out.append(float(loss.detach()))
    net.eval()
    with torch.no_grad():
        out.append(float(loss_fn(net(x), y)))  # inference: batch norm's running statistics
    return out


def _check(models: list[Model], name: str = "spiral", width: int = 8, depth: int = 3, **opts):
    data, x, y = _data(name)
    pairing = {"binary": "bce_logits", "multiclass": "ce_logits"}.get(data.task, "mse")
    batches = batch_order(len(x), 10, STEPS, seed=7)
    stack = stack_for(data, models, width, depth, pairing, **opts)
    together = [stack.step(x[idx], y[idx]) for idx in batches]
    stack.training = False
    with torch.no_grad():
        together = torch.stack([*together, stack.losses(x, y)])
    bn = opts.get("batch_norm", False)
    for i, m in enumerate(models):
        alone = _alone(m, data, x, y, width, depth, pairing, batches, bn, *_penalties(opts))
        alone = torch.tensor(alone)
        rel = ((together[:, i] - alone).abs() / alone.abs().clamp(min=1e-6)).max()
        assert float(rel) <= 1e-4, (m, float(rel))
    return stack


def _penalties(opts: dict) -> tuple[float, float]:
    return opts.get("l1", 0.0), opts.get("l2", 0.0)


def test_seeds_of_one_activation_train_as_if_alone():
    _check([Model("tanh", 0.0, "xavier", s, 0.03, "sgd") for s in range(4)])


def test_mixed_activations_train_as_if_alone():
    keys = ["relu", "tanh", "sigmoid", "leaky_relu", "elu", "silu", "gelu", "prelu"]
    models = [
        Model(
            k,
            0.25 if k == "prelu" else 0.01 if k == "leaky_relu" else 1.0 if k == "elu" else 0.0,
            "he",
            s,
            0.03,
            "sgd",
        )
        for k in keys
        for s in (0, 1)
    ]
    _check(models)


def test_learning_rates_and_optimisers_train_as_if_alone():
    models = [
        Model("relu", 0.0, "he", 0, lr, opt)
        for opt, lr in (
            ("sgd", 0.1),
            ("momentum", 0.01),
            ("adam", 0.003),
            ("adam", 0.01),
            ("rmsprop", 0.001),
        )
    ]
    _check(models)


def test_batch_norm_and_penalties_train_as_if_alone():
    """Batch statistics per model while training, running statistics at inference; L1 and
    L2 on the weights as the Playground's run applies them."""
    models = [Model(k, 0.0, "he", s, 0.03, o) for k, o in (("relu", "sgd"), ("tanh", "adam"))
              for s in (0, 1)]  # fmt: skip
    _check(models, batch_norm=True)
    _check(models, l1=1e-3, l2=1e-2)


def test_multiclass_and_regression_losses_are_per_model():
    _check([Model("relu", 0.0, "he", s, 0.01, "adam") for s in range(3)], name="spiral3")
    _check([Model("tanh", 0.0, "xavier", s, 0.01, "sgd") for s in range(3)], name="multigauss")


def test_a_diverging_model_freezes_alone_with_its_reason():
    data, x, y = _data()
    models = [Model("relu", 0.0, "he", 0, 0.03, "sgd"), Model("relu", 0.0, "large", 0, 1e6, "sgd")]
    stack = Stack(models, data.n_features, 1, 8, 3, "bce_logits")
    batches = batch_order(len(x), 10, 100, seed=7)
    for idx in batches:
        stack.step(x[idx], y[idx])
    assert stack.active.tolist() == [True, False]
    assert "loss became" in stack.reasons[1]
    assert all(torch.isfinite(w[1]).all() for w in stack.weights)  # its last finite weights
    assert torch.isfinite(stack.losses(x, y)[0])


def test_the_speedup_benchmark_runs_and_prints_its_headline_last(monkeypatch, capsys):
    """A small sample of bench/compare_speedup.py (its figures are the benchmark's to judge)."""
    from bench import compare_speedup

    monkeypatch.setattr("sys.argv", ["compare_speedup", "--quick", "--steps", "20", "--depth", "2"])
    compare_speedup.main()
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("network: spiral, 2 x 8, batch 10")
    assert lines[-2].startswith("compare_speedup_seeds: ")
    assert lines[-1].startswith("compare_speedup_activations: ")
    assert float(lines[-1].split(": ")[1]) > 0
