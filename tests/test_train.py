"""The training run: learning, reproducibility, divergence and rollback, reset, devices."""

import time

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from playground import train
from playground.config import RunConfig
from playground.inspection import inspect_init
from playground.probes import layer_stats
from playground.train import Run, resolve_device, run_to_end

SMALL = RunConfig(
    dataset="circle",
    n_points=200,
    activation="relu",
    depth=2,
    width=8,
    init="he",
    optimizer="adam",
    lr=0.01,
    batch_size=10,
)


def _losses(run: Run) -> np.ndarray:
    run.flush()
    return run.history.steps.column("loss").copy()


def test_learns_an_easy_dataset():
    run = run_to_end(Run(SMALL.replace(n_points=400)), 1500)
    assert run.diverged is None
    assert run.latest.test_metric > 0.95
    assert run.latest.train_loss < 0.1


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"batch_norm": True, "optimizer": "momentum", "l1": 1e-3, "l2": 1e-3, "activation": "tanh"},
    ],
)
def test_same_seeds_same_trajectory_whatever_the_probe_schedule(extra):
    cfg = SMALL.replace(**extra)
    runs = [
        Run(cfg.replace(probe_every=1)),
        Run(cfg.replace(probe_every=7)),
        Run(cfg.replace(probe_every=0, probe_ms=10)),
    ]
    for run in runs:
        run.step(300)
    first = _losses(runs[0])
    assert len(first) == 300 and np.isfinite(first).all()
    for other in runs[1:]:
        np.testing.assert_array_equal(_losses(other), first)
        for (k, a), b in zip(runs[0].model.state_dict().items(), other.model.state_dict().values()):
            assert torch.equal(a, b), k
    assert len(runs[0].history.probes) == 301  # step 0 plus every step


def test_different_weight_seed_changes_the_trajectory_but_not_the_data():
    a, b = Run(SMALL), Run(SMALL.replace(init_seed=1))
    assert np.array_equal(a.data.x_train, b.data.x_train)
    a.step(20)
    b.step(20)
    assert not np.array_equal(_losses(a), _losses(b))


def test_reset_restores_initial_weights_and_replays_identically():
    run = Run(SMALL)
    initial = run.state_dict()
    run.step(50)
    first = _losses(run)
    assert not torch.equal(run.state_dict()["linears.0.weight"], initial["linears.0.weight"])
    run.reset()
    for k, v in run.state_dict().items():
        assert torch.equal(v, initial[k]), k
    assert run.step_count == 0 and len(run.history.steps) == 0
    run.step(50)
    np.testing.assert_array_equal(_losses(run), first)


def test_learning_rate_changes_mid_run_without_reset():
    run = Run(SMALL)
    run.step(30)
    before = run.state_dict()
    run.set_lr(0.0005)
    assert run.step_count == 30
    assert all(g["lr"] == 0.0005 for g in run.opt.param_groups)
    assert torch.equal(run.state_dict()["linears.0.weight"], before["linears.0.weight"])
    run_to_end(run, 10)
    assert run.latest.lr == 0.0005 and run.step_count == 40


@pytest.mark.parametrize("schedule", [{"probe_every": 5}, {"probe_ms": 10}])
def test_divergence_stops_rolls_back_and_can_go_on(schedule):
    run = Run(
        RunConfig(
            dataset="plane",
            activation="relu",
            depth=2,
            width=8,
            optimizer="sgd",
            lr=10.0,
            batch_size=10,
            **schedule,
        )
    )
    taken = run.step(500)
    assert taken < 500, "plain SGD at lr 10 on regression should diverge"
    div = run.diverged
    assert div is not None and "learning rate" in div.suggestion.lower()
    assert div.rolled_back_to == run.step_count <= div.step
    assert run.latest.step == run.latest.test_step == run.step_count  # a tested checkpoint
    assert all(torch.isfinite(p).all() for p in run.model.parameters())
    steps = run.history.steps.column("step")
    assert len(steps) == 0 or steps[-1] <= run.step_count  # history kept up to the rollback
    assert run.step(10) == 0  # stopped until the person acts
    run.set_lr(0.001)
    assert run.step(100) == 100 and run.diverged is None
    assert np.isfinite(_losses(run)).all()


def test_probe_measures_gradients_on_the_probe_set():
    run = Run(SMALL.replace(probe_every=10))
    run.step(10)
    p = run.latest
    assert p.step == 10 and len(p.grad_norm) == 2
    assert (p.grad_norm > 0).all() and (p.signal_norm > 0).all() and (p.weight_norm > 0).all()
    frame = run.history.probes.layer_frame(["dead_fraction", "grad_norm"])
    assert len(frame) == 2 * len(run.history.probes)


def test_default_schedule_probes_by_training_time():
    run = Run(SMALL.replace(probe_every=0, probe_ms=20))
    run.train_for(0.5)
    rate = (len(run.history.probes) - 1) / run.train_seconds
    assert 10 <= rate <= 60


def test_decision_boundary_grid():
    run = Run(SMALL)
    grid = run.boundary(resolution=50)
    assert grid["value"].shape == (50, 50)
    assert ((grid["value"] >= 0) & (grid["value"] <= 1)).all()
    multi = Run(RunConfig(dataset="blobs", n_classes=4)).boundary(resolution=20)
    assert set(np.unique(multi["class"])) <= {0, 1, 2, 3}
    assert Run(RunConfig(dataset="iris")).boundary() is None  # 4 features: no 2-D map


def test_missing_device_falls_back_to_cpu_with_a_reason():
    if not torch.cuda.is_available():
        device, note = resolve_device("cuda")
        assert device.type == "cpu" and "CUDA" in note
        assert Run(SMALL.replace(device="cuda")).device.type == "cpu"
    assert resolve_device("cpu") == (torch.device("cpu"), None)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    cpu, gpu = Run(SMALL), Run(SMALL.replace(device="cuda"))
    cpu.step(200)
    gpu.step(200)
    np.testing.assert_allclose(_losses(gpu), _losses(cpu), rtol=1e-3, atol=1e-5)


def test_inspect_shows_vanishing_and_preserved_signal():
    deep = RunConfig(dataset="spiral", n_points=200, activation="tanh", depth=12, width=32)
    small = inspect_init(deep.replace(init="small"), seeds=2)
    assert small["post_std"].iloc[-1] < 1e-6 * small["post_std"].iloc[0]
    xavier = inspect_init(deep.replace(init="xavier"), seeds=2)
    assert xavier["post_std"].iloc[-1] > 0.1 * xavier["post_std"].iloc[0]
    relu = inspect_init(deep.replace(activation="relu", init="he"), seeds=3)
    assert relu["dead_fraction"].notna().all() and relu["saturated_fraction"].isna().all()
    assert xavier["dead_fraction"].notna().all() and xavier["resting_fraction"].isna().all()
    assert list(relu["layer"]) == list(range(1, 13))


def test_rollback_restores_the_measurements_of_the_restored_weights():
    run = Run(
        RunConfig(
            dataset="plane",
            activation="relu",
            depth=4,
            width=64,
            init="large",
            optimizer="sgd",
            lr=10.0,
            probe_every=1,
        )
    )
    run.step(50)
    assert run.diverged is not None
    assert run.latest.step == run.latest.test_step == run.step_count
    assert np.isfinite(run.latest.train_loss) and np.isfinite(run.latest.test_loss)


def test_batch_norm_layers_are_measured_with_batch_statistics_and_left_untouched():
    cfg = RunConfig(
        dataset="spiral",
        n_points=300,
        activation="relu",
        depth=4,
        width=32,
        init="large",
        batch_norm=True,
    )
    frame = inspect_init(cfg, seeds=1)
    np.testing.assert_allclose(frame["pre_std"], 1.0, atol=0.02)  # normalised over the batch
    unnormalised = inspect_init(cfg.replace(batch_norm=False), seeds=1)
    assert unnormalised["pre_std"].iloc[-1] > 10
    run = Run(cfg)
    before = {k: v.clone() for k, v in run.model.state_dict().items()}
    run.histograms()
    run._probe(with_test=True)
    for k, v in run.model.state_dict().items():
        assert torch.equal(v, before[k]), k


# ---- gradients measured alike at every probe ----------------------------------------------


def test_gradient_norms_agree_from_probe_to_probe_when_the_weights_barely_move():
    """Every probe, step 0 included, measures gradients on the same probe set: at lr 1e-5 the
    weights barely move, so neither should the norms (on single minibatches they jumped 5x)."""
    cfg = RunConfig(
        dataset="circle",
        activation="tanh",
        depth=3,
        width=8,
        batch_size=10,
        lr=1e-5,
        probe_every=1,
    )
    run = Run(cfg)
    run.step(20)
    for key in ("grad_norm", "signal_norm"):
        norms = run.history.probes.column(key)
        assert len(norms) == 21 and (norms > 0).all()
        np.testing.assert_allclose(norms[1:], norms[:-1], rtol=0.01)  # step to step
        np.testing.assert_allclose(norms, np.broadcast_to(norms[0], norms.shape), rtol=0.01)


def test_step_zero_gradients_match_inspect_init():
    cfg = SMALL.replace(activation="tanh", n_points=300)
    frame = inspect_init(cfg, seeds=1)
    first = Run(cfg).latest
    np.testing.assert_allclose(frame["grad_norm"], first.grad_norm, rtol=1e-5)
    np.testing.assert_allclose(frame["signal_norm"], first.signal_norm, rtol=1e-5)


# ---- dead since ------------------------------------------------------------------------------

DYING = SMALL.replace(depth=4, width=16, n_points=200, optimizer="adam", lr=0.05, probe_every=5)


def _replay_dead_since(masks: list[np.ndarray], steps: list[int]) -> np.ndarray:
    """Per unit, the first probe of the current unbroken run of dead probes (-1: alive now)."""
    since = np.full(masks[0].shape, -1)
    for mask, step in zip(masks, steps):
        since = np.where(mask, np.where(since >= 0, since, step), -1)
    return since


def test_dead_since_is_the_first_probe_from_which_a_unit_stayed_dead():
    run = Run(DYING)
    masks, steps = [run.latest.layers.dead_mask.copy()], [0]
    for _ in range(60):
        run.step(5)
        masks.append(run.latest.layers.dead_mask.copy())
        steps.append(run.step_count)
        np.testing.assert_array_equal(np.stack(run.dead_since), _replay_dead_since(masks, steps))
    since = np.stack(run.dead_since)
    assert since.shape == (4, 16) and since.dtype == np.int64
    assert set(np.unique(since[since >= 0]) % 5) == {0}  # as precise as the probe schedule
    assert (since == 0).any() and (since > 0).any()  # dead from the start, and died later
    stacked = np.stack(masks)
    assert (stacked[:-1] & ~stacked[1:]).any(), "the premise: some units come back to life"
    from_start = run.history.probes.column("dead_from_start_fraction")
    np.testing.assert_allclose(from_start[-1], (since == 0).mean(1))
    assert (from_start[1:] <= from_start[:-1]).all()  # only ever lost, never gained


def test_dead_from_start_is_not_applicable_where_units_cannot_die():
    run = Run(SMALL.replace(activation="leaky_relu", probe_every=5))
    run.step(10)
    assert np.isnan(run.history.probes.column("dead_from_start_fraction")).all()
    assert all((row == -1).all() for row in run.dead_since)


def test_dead_since_rolls_back_with_the_weights_and_clears_on_reset():
    run = Run(DYING)
    start = np.stack(run.dead_since)
    assert set(np.unique(start)) == {-1, 0}
    run.step(50)
    kept = np.stack(run.dead_since)
    with torch.no_grad():  # finite weights whose outputs overflow: the probe runs, then fails
        for lin in run.model.linears:
            lin.weight.mul_(1e20)
    after = layer_stats(run.model, run.x_probe, run.specs, histograms=False).dead_mask
    assert not np.array_equal(after, kept >= 0)
    run._probe_and_check(with_test=True)
    assert run.diverged is not None and run.step_count == 50
    np.testing.assert_array_equal(np.stack(run.dead_since), kept)
    assert run.latest.layers.dead_mask.tolist() == (kept >= 0).tolist()
    run.reset()
    np.testing.assert_array_equal(np.stack(run.dead_since), start)


# ---- the test set on its own schedule --------------------------------------------------------


def _tested(run: Run) -> pd.DataFrame:
    """The history rows of the probes that measured the test set."""
    frame = run.history.probes.frame(scalar_only=True)
    return frame[np.isfinite(frame["test_loss"])]


def _test_numbers(cfg: RunConfig, step: int) -> tuple[float, float]:
    """Test loss and accuracy at `step`, from a replay of the run and the textbook formulas.

    The trajectory does not depend on the probe schedule, so a replay that never probes has
    the run's weights at every step.
    """
    replay = Run(cfg.replace(probe_every=100_000))
    replay.step(step)
    with torch.no_grad():
        logits = replay.model(replay.x_test)
    loss = F.binary_cross_entropy_with_logits(logits, replay.y_test)
    accuracy = ((logits > 0).float() == replay.y_test).float().mean()
    return loss.item(), accuracy.item()


def test_time_schedule_measures_the_test_set_on_every_fifth_probe(monkeypatch):
    monkeypatch.setattr(train, "PROBE_BUDGET", 1.0)  # a slow host must not stretch the interval
    run = Run(SMALL)  # probes every 100 ms: the test set every 500 ms
    run.train_for(1.2)
    frame = run.history.probes.frame(scalar_only=True)
    assert len(frame) >= 8 and np.isfinite(frame["train_loss"]).all()
    every_fifth = np.arange(len(frame)) % 5 == 0  # step 0 included
    np.testing.assert_array_equal(np.isfinite(frame["test_loss"]), every_fifth)
    np.testing.assert_array_equal(np.isfinite(frame["test_metric"]), every_fifth)
    by_steps = Run(SMALL.replace(probe_every=3))
    by_steps.step(30)
    assert len(_tested(by_steps)) == len(by_steps.history.probes) == 11  # every probe


def test_latest_carries_the_test_values_last_measured():
    run = Run(SMALL.replace(probe_ms=20))  # the test set every 25th probe
    run.train_for(0.6)
    while np.isfinite(run.history.probes.column("test_loss")[-1]):
        run.train_for(0.05)  # until the latest probe is one that skipped the test set
    p, last = run.latest, _tested(run).iloc[-1]
    assert p.step == run.history.probes.column("step")[-1] > p.test_step == last["step"] > 0
    assert (p.test_loss, p.test_metric) == (last["test_loss"], last["test_metric"])
    loss, accuracy = _test_numbers(SMALL, p.test_step)
    assert p.test_loss == pytest.approx(loss, rel=1e-5)
    assert p.test_metric == pytest.approx(accuracy, abs=1e-6)


def test_step_zero_and_a_step_always_measure_the_test_set():
    run = Run(SMALL)
    assert run.latest.test_step == 0 and len(_tested(run)) == 1
    run.train_for(0.25)  # a few probes into the test set's interval
    run.step(3, probe_at_end=True)  # what a Step does
    p = run.latest
    assert p.step == p.test_step == run.step_count
    assert _tested(run)["step"].iloc[-1] == p.step
    loss, accuracy = _test_numbers(SMALL, p.step)
    assert p.test_loss == pytest.approx(loss, rel=1e-5)
    assert p.test_metric == pytest.approx(accuracy, abs=1e-6)


def test_divergence_between_test_evaluations_rolls_back_to_a_tested_state():
    run = Run(SMALL.replace(probe_ms=10_000))  # no probe falls due on its own
    run.step(20, probe_at_end=True)  # tested: a checkpoint
    run.step(10)
    run._probe_and_check(with_test=False)  # finite, untested: no checkpoint
    with torch.no_grad():  # finite weights whose outputs overflow
        for lin in [*run.model.linears, run.model.head]:
            lin.weight.mul_(1e15)
    run._probe_and_check(with_test=False)
    div = run.diverged
    assert div is not None and "training set" in div.reason
    assert div.step == 30 and div.rolled_back_to == run.step_count == 20
    assert run.latest.step == run.latest.test_step == 20
    assert np.isfinite(run.latest.test_loss)
    np.testing.assert_array_equal(run.history.probes.column("step"), [0, 20])
    assert all(torch.isfinite(p).all() for p in run.model.parameters())


def test_a_costly_probe_stretches_the_interval_so_probes_keep_to_their_budget():
    run = Run(SMALL)
    assert run.probe_interval_ms() == SMALL.probe_ms  # no cost known yet: as configured
    probe = run._probe

    def costly(with_test):  # a probe of a big network: at least 20 ms
        time.sleep(0.02)
        return probe(with_test)

    run._probe = costly
    before = len(run.history.probes)
    run.train_for(1.5)
    # at 20 ms and a 2 % budget, one probe a second at most, not one every 100 ms
    assert run._probe_cost_ms >= 20
    assert run.probe_interval_ms() >= 20 / train.PROBE_BUDGET
    assert len(run.history.probes) - before <= 3


def test_train_for_runs_over_its_slice_by_one_slow_step_at_most(monkeypatch):
    """A big network's steps are slow: the slice (what a Pause waits for) ends near its time."""
    run = Run(RunConfig(dataset="circle", depth=2, width=8))
    real_step = run._train_step

    def slow_step() -> None:
        real_step()
        time.sleep(0.01)

    monkeypatch.setattr(run, "_train_step", slow_step)
    run.train_for(0.02)  # learns the time per step
    for _ in range(3):
        before = run.step_count
        run.train_for(0.05)
        assert 1 <= run.step_count - before <= 6  # 5 fit in 50 ms, one more may start at 45 ms


def test_train_for_takes_fast_steps_in_chunks(monkeypatch):
    run = Run(RunConfig(dataset="circle", depth=2, width=8))
    calls = []
    real = run.step
    monkeypatch.setattr(run, "step", lambda n, **kw: calls.append(n) or real(n, **kw))
    run.train_for(0.1)
    assert calls[0] == 1 and max(calls) == train.CHUNK
