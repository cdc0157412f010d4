"""A live comparison: its config and link, its engine against the Playground's own runs, its
measurements against hand computations, and the trainer contract on both backends."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch
from apptools import wait_for

from playground import limits
from playground.comparison import MAX_PROBES, Comparison
from playground.comparison_config import CompareConfig, compare_from_query
from playground.comparison_trainer import CompareTrainer
from playground.config import RunConfig
from playground.runner import Slots
from playground.train import Run

BASE = RunConfig(dataset="circle", n_points=200, depth=2, width=8, probe_every=10)


def _cmp(**kw) -> CompareConfig:
    return CompareConfig(base=kw.pop("base", BASE), **kw)


# ---- config and link ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"values": ("relu",)}, "2 to 16 values"),
        ({"values": ("relu", "relu")}, "once"),
        ({"seeds": 0}, "seeds must be between 1 and 16"),
        ({"seeds": 17}, "seeds must be between 1 and 16"),
        ({"vary": "pairing", "values": ("bce_logits", "mse")}, "for regression tasks"),
        ({"vary": "depth", "values": (1, 2)}, "vary must be one of"),
        ({"target": 0.0}, "above 0"),
    ],
)
def test_a_comparison_that_cannot_run_says_why(changes, words):
    problems = _cmp(**changes).problems()
    assert problems and any(words in m for _, m in problems), problems


def test_batch_norm_with_batches_of_one_is_refused_for_the_variant_that_has_it():
    cfg = _cmp(base=BASE.replace(batch_size=1), vary="batch_norm", values=(False, True))
    assert [k for k, _ in cfg.problems()] == ["batch_norm"]


def test_a_link_round_trips_and_bad_parts_fall_back_with_a_notice():
    cfg = _cmp(vary="lr", values=(0.003, 0.05, 0.3), seeds=3, target=0.2)
    assert compare_from_query(cfg.query(), BASE) == (cfg, [])
    got, notices = compare_from_query({"vary": "colour", "values": "a,b", "seeds": "x"}, BASE)
    assert got.vary == "activation" and got.seeds == 4
    assert any("vary must be one of" in n for n in notices)
    assert any("seeds must be a number" in n for n in notices)
    got, notices = compare_from_query({"vary": "activation", "values": "relu,nope"}, BASE)
    assert got.values == ("relu", "tanh", "gelu") and "nope" in notices[0]
    got, notices = compare_from_query({"values": "relu", "seeds": "99"}, BASE)
    assert got.values == ("relu", "tanh", "gelu") and got.seeds == 4 and len(notices) == 2


def test_the_host_counts_a_comparisons_models():
    ok = _cmp(
        values=tuple(["relu", "tanh", "sigmoid", "elu", "selu", "gelu", "silu", "mish"]), seeds=4
    )
    assert ok.n_models == 32 and limits.over(ok, limits.HostLimits()) == []
    big = ok.replace(seeds=5)
    ((key, message),) = limits.over(big, limits.HostLimits())
    assert key == "seeds" and "8 variants x 5 seeds is 40 models" in message
    wide = _cmp(base=BASE.replace(width=512, depth=4, batch_size=100), seeds=4)
    assert any("12 4 x 512 networks" in m for _, m in limits.over(wide, limits.HostLimits()))


def test_the_cap_counts_models_not_trainers():
    slots = Slots(limit=4, max_models=20)
    assert slots.take("compare", 16) and slots.take("playground", 1)
    assert not slots.take("second comparison", 16) and slots.place("second comparison") == 1
    assert slots.models() == 17
    slots.release("compare")
    assert slots.take("second comparison", 16) and slots.models() == 17


# ---- the engine ---------------------------------------------------------------------------------
def _run_losses(cfg: RunConfig, steps: int) -> list[float]:
    """The Playground's own run of one variant: train loss at each probe."""
    run = Run(cfg)
    run.step(steps)
    return list(run.history.probes.frame()["train_loss"])


@pytest.mark.parametrize(
    ("vary", "values"),
    [
        ("activation", ("relu", "tanh", "gelu")),
        ("optimizer", ("sgd", "adam")),
        ("batch_norm", (False, True)),  # two shapes: two lock-step groups
    ],
)
def test_seed_0_of_each_variant_trains_exactly_as_the_playground_would(vary, values):
    """Same data, same batches, same initial weights: a variant's first seed is the Playground
    run of that variant's config, probe for probe (float32, relative 1e-4 after 200 steps)."""
    cfg = _cmp(vary=vary, values=values, seeds=2)
    comparison = Comparison(cfg)
    comparison.step(200)
    curves = comparison.curves()
    for value, label in zip(values, cfg.labels(), strict=True):
        ours = curves[(curves["variant"] == label) & (curves["seed"] == 0)]["train_loss"]
        alone = _run_losses(cfg.variant(value), 200)
        np.testing.assert_allclose(ours.to_numpy(), alone, rtol=1e-4)
    assert len(comparison.groups) == (2 if vary == "batch_norm" else 1)


def test_dead_share_is_the_hand_counted_share_of_units_silent_on_every_probe_input():
    comparison = Comparison(_cmp(values=("relu", "leaky_relu"), seeds=1))
    stack = comparison.groups[0].stack
    with torch.no_grad():
        stack.biases[0][0, 0, :3] = -1e3  # relu model: three first-layer units can never fire
    comparison.step(1, probe_at_end=True)
    w = [p[0].detach() for p in stack.weights]
    b = [p[0].detach() for p in stack.biases]
    h1 = torch.relu(comparison.x_probe @ w[0] + b[0])
    h2 = torch.relu(h1 @ w[1] + b[1])
    expected = ((h1 == 0).all(0).sum() + (h2 == 0).all(0).sum()).item() / 16
    dead = comparison.curves().groupby("variant")["dead_share"].last()
    assert expected >= 3 / 16 and dead["ReLU"] == pytest.approx(expected)
    assert np.isnan(dead["Leaky ReLU"])  # its slope is never 0: it cannot die, not "0 % dead"


def test_by_layer_a_deep_sigmoid_network_passes_its_first_layers_almost_no_gradient():
    """The vanishing-gradient picture: per layer, the weight-gradient norm of each model
    after one step, against each layer's gradient worked out by autograd on its own."""
    deep = BASE.replace(dataset="spiral", depth=10, width=8, init="xavier")
    comparison = Comparison(_cmp(base=deep, values=("sigmoid", "relu"), seeds=3))
    comparison.step(1, probe_at_end=True)
    grads = comparison.profile().query("metric == 'grad_norm'").set_index(["variant", "layer"])
    sigmoid, relu = grads.loc["Sigmoid"]["median"], grads.loc["ReLU"]["median"]
    assert sigmoid.loc[1] < 1e-3 * relu.loc[1]  # orders of magnitude at the first layer
    assert sigmoid.loc[1] < 1e-2 * sigmoid.loc[10]  # and rising towards the output
    stack = comparison.groups[0].stack
    own = stack.weights[0].grad[0].norm()  # the first model's first layer, as autograd left it
    raw = comparison.layers_now["grad_norm"][0, 0]
    assert raw == pytest.approx(float(own), rel=1e-6)


def test_a_unit_killed_between_probes_is_dated_to_the_next_probe():
    comparison = Comparison(
        _cmp(base=BASE.replace(probe_every=5), values=("relu", "tanh"), seeds=2)
    )
    comparison.step(10)  # probes at steps 5 and 10
    stack = comparison.groups[0].stack
    alive_before = comparison.dead_since[0, 0, :3] < 0
    with torch.no_grad():
        stack.biases[0][0, 0, :3] = -1e3  # ReLU model 0: three first-layer units die now
    comparison.step(10, probe_at_end=True)  # probes at 15 and 20
    assert alive_before.all() and (comparison.dead_since[0, 0, :3] == 15).all()
    assert (comparison.dead_since[2:] == -1).all()  # tanh units never count as dead
    row = comparison.table(comparison.curves()).set_index("variant").loc["ReLU"]
    died = comparison.dead_since[:2]
    assert row["died_at"] == np.median(died[died > 0])
    assert row["dead_from_start"] == pytest.approx((died == 0).mean())


def test_bands_and_table_are_medians_and_extremes_over_live_seeds():
    comparison = Comparison(_cmp(values=("relu", "tanh"), seeds=3, target=0.6))
    comparison.step(60)
    curves = comparison.curves()
    bands = comparison.bands(curves)
    last = curves[curves["step"] == curves["step"].max()]
    relu = last[last["variant"] == "ReLU"]["test_loss"].to_numpy()
    row = bands[(bands["metric"] == "test_loss") & (bands["variant"] == "ReLU")].iloc[-1]
    assert (row["median"], row["lo"], row["hi"]) == pytest.approx(
        (np.median(relu), relu.min(), relu.max())
    )
    table = comparison.table(curves).set_index("variant")
    assert table.loc["ReLU", "test_loss"] == pytest.approx(np.median(relu))
    hits = curves[(curves["variant"] == "Tanh") & (curves["train_loss"] <= 0.6)]
    firsts = hits.groupby("seed")["step"].min()
    assert table.loc["Tanh", "reached"] == len(firsts)
    if len(firsts):
        assert table.loc["Tanh", "steps_to_target"] == firsts.median()


def test_a_diverging_variant_freezes_alone_and_all_diverged_stops():
    plane = BASE.replace(dataset="plane", activation="relu", probe_every=5)
    cfg = _cmp(base=plane, vary="lr", values=(0.01, 10.0), seeds=2)
    comparison = Comparison(cfg)
    comparison.step(100)
    table = comparison.table(comparison.curves()).set_index("variant")
    assert table.loc["lr 10", "diverged_seeds"] == 2 and table.loc["lr 0.01", "diverged_seeds"] == 0
    assert comparison.diverged is None and comparison.step_count == 100
    all_bad = Comparison(cfg.replace(values=(3.0, 10.0)))
    all_bad.step(100)
    assert all_bad.diverged is not None and "Every model" in all_bad.diverged.message()


def test_a_long_run_keeps_its_history_bounded():
    comparison = Comparison(_cmp(base=BASE.replace(probe_every=1), seeds=1))
    comparison.step(MAX_PROBES + 50)
    steps = comparison.steps
    assert len(steps) <= MAX_PROBES and steps[0] == 0 and steps[-1] == MAX_PROBES + 50


# ---- the trainer contract -----------------------------------------------------------------------
SMALL = CompareConfig(base=BASE, seeds=2)


@pytest.fixture
def compare_trainers(backend, closing):
    return lambda cfg=SMALL: closing(backend.trainer(cfg))


def test_a_comparison_plays_pauses_steps_and_resets_on_either_backend(compare_trainers):
    t = compare_trainers()
    t.step(5)
    snap = t.snapshot(visuals=False)
    assert snap.step == 5 and list(snap.table["variant"]) == ["ReLU", "Tanh", "GELU"]
    assert set(snap.bands["metric"]) >= {"train_loss", "test_metric", "dead_share"}
    assert t.play() and wait_for(lambda: t.snapshot().step > 50)
    t.pause()
    paused_at = t.snapshot().step
    assert not t.playing
    t.reset()
    assert t.snapshot().step == 0 and paused_at > 50
    assert t.apply(t.snapshot().cfg.replace(target=0.3)) == "display"
    assert t.apply(t.snapshot().cfg.replace(seeds=3)) == "rebuilt" and t.info.n_models == 9
    table, curves, cfg = t.export()
    assert list(pd.read_csv(io.StringIO(table))["variant"]) == ["ReLU", "Tanh", "GELU"]
    assert set(pd.read_csv(io.StringIO(curves))["seed"]) == {0, 1, 2}
    assert '"vary": "activation"' in cfg


def test_a_comparison_waits_while_the_host_is_full_of_models(closing):
    slots = Slots(limit=4, max_models=10)
    big = closing(CompareTrainer(_cmp(seeds=3), slots=slots))  # 9 models
    other = closing(CompareTrainer(_cmp(values=("relu", "tanh"), seeds=1), slots=slots))
    assert big.play() and not other.play() and other.queued
    big.pause()
    assert wait_for(lambda: other.playing, timeout=5)
    other.pause()
