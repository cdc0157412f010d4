"""A sample of the divergence sweep (bench/divergence_sweep.py): runs pushed past what they can
take must stop with a reason and their history, never crash. The full sweep is the benchmark's.
"""

from __future__ import annotations

import itertools

import pytest

from bench import divergence_sweep as sweep
from bench.divergence_sweep import BASE, Case, check, extras, main_grid, report, sample
from playground.activations import HIDDEN_KEYS
from playground.config import OPTIMIZERS


def _pick(cases: list[Case], live: bool = False, **settings: object) -> Case:
    """The first case with these settings, so the sample follows the grid as it changes."""
    for case in cases:
        if case.live == live and all(getattr(case.cfg, k) == v for k, v in settings.items()):
            return case
    raise LookupError(f"no case with {settings} (live={live})")


def _sample() -> list[Case]:
    grid, more = main_grid(), extras()
    return [
        *sample(grid, 6),  # spread over activations, rates, optimisers, batch norm
        # diverge, after keeping some history and at once
        _pick(grid, activation="leaky_relu", lr=10.0, optimizer="sgd", batch_norm=False),
        _pick(grid, activation="elu", lr=3.0, optimizer="sgd", batch_norm=False),
        _pick(grid, activation="linear", lr=10.0, optimizer="sgd", batch_norm=False),
        _pick(more, dataset="plane", activation="relu", optimizer="sgd", pairing="auto"),
        _pick(more, activation="selu", depth=16, optimizer="sgd", batch_norm=False),
        _pick(more, dataset="spiral3", activation="relu", optimizer="sgd"),
        _pick(more, activation="linear", probe_every=0),  # the time schedule
        _pick(more, live=True, activation="linear", lr=10.0),  # Play, Pause, snapshots
        _pick(more, live=True, activation="tanh", optimizer="adam"),
    ]


@pytest.fixture(scope="module")
def outcomes() -> list[sweep.Outcome]:
    return [check(case) for case in _sample()]


def test_the_grid_covers_every_activation_optimiser_rate_and_batch_norm():
    seen = {(c.cfg.activation, c.cfg.optimizer, c.cfg.lr, c.cfg.batch_norm) for c in main_grid()}
    for lr in (1.0, 3.0, 10.0, sweep.SMALL_LR):
        for act, opt, bn in itertools.product(HIDDEN_KEYS, OPTIMIZERS, (False, True)):
            assert (act, opt, lr, bn) in seen
    assert all(not c.cfg.problems() and c.cfg.probe_every > 0 for c in main_grid())
    more = extras()
    assert any(c.live for c in more) and max(c.cfg.depth for c in more) >= 16
    assert {"multiclass", "regression"} <= {c.cfg.task for c in more}


def test_no_sampled_run_crashes_and_each_keeps_its_promises(outcomes):
    assert [(o.case.name, o.crashed) for o in outcomes if o.crashed] == []
    assert [(o.case.name, o.problems) for o in outcomes if o.problems] == []


def test_diverged_runs_stop_with_a_reason_and_keep_their_history(outcomes):
    diverged = [o for o in outcomes if o.diverged is not None]
    assert len(diverged) >= 5  # the sample must reach the code under test
    assert any(o.case.live for o in diverged)
    assert any(o.diverged.rolled_back_to > 0 for o in diverged)  # history to keep, not step 0
    for o in diverged:
        d = o.diverged
        assert d.reason and d.suggestion and d.rolled_back_to < d.step
        assert o.loss_rows == d.rolled_back_to  # a row for each step up to the checkpoint
        every = o.case.cfg.probe_every
        if every:  # the step schedule: a probe row at step 0 and every `every` steps after
            assert o.probe_rows == 1 + d.rolled_back_to // every
        else:
            assert o.probe_rows >= 1
    assert any(o.diverged is None for o in outcomes)  # and the sweep tells the two apart


def test_the_report_ends_with_the_crash_count(outcomes):
    lines = report(outcomes, 1.0)
    assert lines[-1] == "divergence_sweep_crashes: 0"
    assert any(line.startswith("diverged: ") for line in lines)


def test_an_exception_in_the_engine_is_reported_as_a_crash(monkeypatch):
    class Broken(sweep.Run):
        def step(self, n: int = 1, probe_at_end: bool = False) -> int:
            raise RuntimeError("boom")

    monkeypatch.setattr(sweep, "Run", Broken)
    out = check(Case(BASE.replace(probe_every=20), steps=10))
    assert out.crashed is not None and out.crashed.startswith("RuntimeError: boom")
    assert report([out], 1.0)[-1] == "divergence_sweep_crashes: 1"


def test_batch_norm_running_statistics_stay_finite_through_a_divergence():
    out = check(Case(BASE.replace(activation="linear", batch_norm=True, lr=10.0, probe_every=20)))
    assert out.crashed is None and out.diverged is not None
    assert out.problems == []
