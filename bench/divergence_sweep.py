"""Runs pushed to diverge, every way the settings allow: none may crash, each must stop cleanly.

Every hidden activation x learning rates from 0.01 up to 10 x every optimiser x batch norm off
and on, each a short run of the engine (`Run`) on a small spiral, probed every tenth of the run;
then a few deep networks, multi-class and regression datasets, the deliberate-mistake output
pairings and inits, the time schedule, and the live trainer (Play, Pause, snapshots), the path
the page takes. A person drags the learning-rate slider to 10 to see what happens, so what
happens must be a stop with a reason and the run's history intact, never a traceback or a chart
of NaN.

Each run must: raise nothing (in the live trainer, stop with no "Training stopped" notice); keep
finite loss rows for steps 1..N and finite probe rows ending at its current step; and, when it
diverged, name a reason and a step past the checkpoint it rolled back to, hold finite weights
and a finite latest probe there, refuse to train further (and Play to restart) until `set_lr`
clears the stop, and then train again. Last line: `divergence_sweep_crashes: N`.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import setup_torch  # noqa: E402
from playground.activations import HIDDEN_KEYS  # noqa: E402
from playground.config import LR_GRID, OPTIMIZERS, RunConfig  # noqa: E402
from playground.runner import DIVERGED_NOTE, Slots, Snapshot, Trainer  # noqa: E402
from playground.train import Divergence, Run  # noqa: E402

STEPS = 200
SMALL_LR = 0.01  # a rate that should train: the sweep must not flag runs merely for being slow
LRS = (SMALL_LR, *(lr for lr in LR_GRID if lr >= 0.1))  # 0.01, 0.1, 0.3, 1, 3, 10
BASE = RunConfig(dataset="spiral", n_points=200, noise=0.1)  # 100 training points, 10 per batch
LIVE_TIMEOUT_S = 20.0  # a live run that has not reached its steps by then is reported
POLL_S = 0.02
TIME_SCHEDULE = {"probe_every": 0, "probe_ms": 10.0}  # the page's schedule, at its fastest
STOPPED = "Training stopped"  # the live trainer's notice for an exception it caught


@dataclass(frozen=True)
class Case:
    """One run to try: its config, how many steps, and whether through the live trainer."""

    cfg: RunConfig
    steps: int = STEPS
    live: bool = False

    @property
    def name(self) -> str:
        """The config as the code that rebuilds it, so a reported failure is its own repro."""
        default = RunConfig()
        diffs = [
            f"{f.name}={getattr(self.cfg, f.name)!r}"
            for f in fields(RunConfig)
            if getattr(self.cfg, f.name) != getattr(default, f.name)
        ]
        how = "Trainer" if self.live else "Run"
        return f"{how}(RunConfig({', '.join(diffs)})) x {self.steps} steps"


@dataclass
class Outcome:
    """What one case did, and everything about it that broke the contract."""

    case: Case
    seconds: float = 0.0
    crashed: str | None = None  # the exception, with where it was raised
    diverged: Divergence | None = None
    loss_rows: int = 0
    probe_rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str | None:
        return self.diverged.reason if self.diverged is not None else None


def probe_every(steps: int) -> int:
    """Ten probes per run, so a rollback has checkpoints to land on."""
    return max(1, steps // 10)


def _scheduled(rows: list[tuple[str, float, str, bool]]) -> list[RunConfig]:
    """(activation, lr, optimiser, batch norm) rows on the time-based probe schedule."""
    return [
        BASE.replace(activation=act, lr=lr, optimizer=opt, batch_norm=bn, **TIME_SCHEDULE)
        for act, lr, opt, bn in rows
    ]


def grid(steps: int = STEPS) -> list[Case]:
    """The full sweep: the main grid first, then the extras."""
    return [*main_grid(steps), *extras(steps)]


def main_grid(steps: int = STEPS) -> list[Case]:
    """Every hidden activation x LRS x every optimiser x batch norm off and on."""
    base = BASE.replace(probe_every=probe_every(steps))
    return [
        Case(base.replace(activation=act, lr=lr, optimizer=opt, batch_norm=bn), steps)
        for act, lr, opt, bn in itertools.product(HIDDEN_KEYS, LRS, OPTIMIZERS, (False, True))
    ]


def extras(steps: int = STEPS) -> list[Case]:
    """Deep networks, other tasks, mistake pairings and inits, penalties, the time schedule and
    the live trainer: the other ways into a divergence."""
    base = BASE.replace(probe_every=probe_every(steps))
    hot = [("sgd", 10.0), ("momentum", 3.0), ("adam", 1.0), ("rmsprop", 10.0)]
    cfgs: list[RunConfig] = []
    for (depth, width), act, (opt, lr), bn in itertools.product(
        [(8, 8), (16, 16)], ["relu", "tanh", "selu"], hot[:3], (False, True)
    ):
        cfgs.append(
            base.replace(
                depth=depth, width=width, activation=act, optimizer=opt, lr=lr, batch_norm=bn
            )
        )
    tasks = ["spiral3", "blobs", "iris", "digits", "plane", "multigauss", "diabetes", "noise"]
    for i, (dataset, (opt, lr)) in enumerate(itertools.product(tasks, hot)):
        act = ("relu", "tanh", "elu", "linear")[i % 4]
        cfgs.append(
            base.replace(
                dataset=dataset, activation=act, optimizer=opt, lr=lr, batch_norm=i % 2 == 1
            )
        )
    pairings = {
        "spiral": ["sigmoid_bce"],
        "spiral3": ["log_softmax_nll", "softmax_ce", "softmax_nll"],
        "plane": ["l1", "smooth_l1", "tanh_mse", "sigmoid_mse"],
    }
    for dataset, keys in pairings.items():
        for pairing, (opt, lr) in itertools.product(keys, [("sgd", 10.0), ("momentum", 3.0)]):
            cfgs.append(
                base.replace(
                    dataset=dataset, pairing=pairing, activation="relu", optimizer=opt, lr=lr
                )
            )
    for init, act, bn in itertools.product(["large", "small"], ["relu", "sigmoid"], (False, True)):
        cfgs.append(
            base.replace(
                init=init, activation=act, depth=6, lr=3.0, optimizer="momentum", batch_norm=bn
            )
        )
    cfgs += [
        base.replace(activation="relu", lr=10.0, l1=0.01),
        base.replace(activation="tanh", lr=10.0, optimizer="momentum", l2=0.01),
        base.replace(layer_activations="relu,tanh,linear", depth=3, lr=10.0, optimizer="momentum"),
        base.replace(activation="relu", lr=10.0, batch_size=100, optimizer="momentum"),
    ]
    timed = _scheduled(
        [
            ("linear", 10.0, "sgd", False),
            ("prelu", 10.0, "momentum", True),
            ("relu", 1.0, "momentum", False),
            ("tanh", 0.1, "adam", False),
        ]
    )
    live = _scheduled(
        [
            ("linear", 10.0, "sgd", False),
            ("prelu", 10.0, "momentum", True),
            ("leaky_relu", 10.0, "momentum", False),
            ("selu", 1.0, "momentum", False),
            ("tanh", 0.1, "adam", True),
        ]
    )
    live.append(BASE.replace(dataset="plane", lr=10.0, depth=4, **TIME_SCHEDULE))
    return [
        *(Case(c.validate(), steps) for c in cfgs + timed),
        *(Case(c.validate(), steps, live=True) for c in live),
    ]


def sample(cases: list[Case], k: int) -> list[Case]:
    """`k` cases spread evenly over `cases`, first and last included."""
    if k >= len(cases):
        return list(cases)
    if k <= 1:
        return cases[:k]
    return [cases[round(i * (len(cases) - 1) / (k - 1))] for i in range(k)]


# ---- the checks -----------------------------------------------------------------------------
def check(case: Case) -> Outcome:
    """Run one case; an exception anywhere is a crash, a broken promise a problem."""
    out = Outcome(case)
    start = time.perf_counter()
    try:
        (_check_live if case.live else _check_run)(case, out)
    except Exception as e:
        out.crashed = crash_text(e)
    out.seconds = time.perf_counter() - start
    return out


def crash_text(e: BaseException) -> str:
    """The exception and the innermost frame it came through, for a one-line report."""
    frames = traceback.extract_tb(e.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(e).__name__}: {e}{where}"


def _check_run(case: Case, out: Outcome) -> None:
    run = Run(case.cfg)
    taken = run.step(case.steps, probe_at_end=True)
    out.diverged = run.diverged
    check_history(run, out)
    if run.diverged is None:
        if taken != case.steps or run.step_count != case.steps:
            out.problems.append(f"took {taken} steps, at step {run.step_count}, not diverged")
    else:
        check_divergence(run.diverged, run.step_count, taken, out)
    check_views(run, out)
    if run.diverged is not None:
        check_stays_stopped(run, out)


def check_history(run: Run, out: Outcome, probed_now: bool = True) -> None:
    """Loss rows 1..step and probe rows from 0, finite; the latest probe and the weights finite.

    `probed_now`: the last probe is at the current step (a rollback, or a probe at the end); a
    live run paused under the time schedule has trained some steps past its last probe.
    """
    now = run.step_count
    steps = run.history.steps
    out.loss_rows = len(steps)
    if not np.array_equal(steps.column("step"), np.arange(1, now + 1)):
        out.problems.append(f"loss rows do not cover steps 1..{now} ({len(steps)} rows)")
    _finite(out, "loss rows", steps.column("step"), steps.column("loss"))
    probes = run.history.probes
    out.probe_rows = len(probes)
    at = probes.column("step")
    last = now if probed_now else run.latest.step
    if len(at) == 0 or at[0] != 0 or at[-1] != last or last > now or np.any(np.diff(at) <= 0):
        out.problems.append(f"probe rows at steps {at.tolist()} do not run from 0 to {last}")
    for key in ("train_loss", "train_metric", "epoch", "time", "lr"):
        _finite(out, f"probe {key}", at, probes.column(key))
    for key in ("test_loss", "test_metric"):
        col = probes.column(key)
        if run.cfg.probe_every > 0:  # the step schedule measures the test set at every probe
            _finite(out, f"probe {key}", at, col)
        else:  # the time schedule leaves NaN where it skipped the test set, never an inf
            _finite(out, f"probe {key}", at, np.where(np.isnan(col), 0.0, col))
            if probed_now and len(col) and not np.isfinite(col[-1]):
                out.problems.append(f"the last probe row's {key} is {col[-1]}")
    p = run.latest
    scalars = [p.train_loss, p.test_loss, p.train_metric, p.test_metric]
    if p.step != last or not np.all(np.isfinite([*scalars, *p.weight_norm])):
        out.problems.append(f"latest probe (step {p.step}, at {now}) holds {scalars}")
    bad = [k for k, v in run.state_dict().items() if not torch.isfinite(v).all()]
    if bad:
        state = "diverged" if run.diverged is not None else "not diverged"
        out.problems.append(f"weights or buffers not finite ({state}): {', '.join(bad)}")


def _finite(out: Outcome, what: str, at: np.ndarray, values: np.ndarray) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        out.problems.append(f"{what} not finite at steps {at[bad][:5].astype(int).tolist()}")


def check_divergence(d: Divergence, now: int, taken: int, out: Outcome) -> None:
    """A reason, a suggestion, a step past the checkpoint, and the run back at that checkpoint."""
    if not d.reason.strip() or not d.suggestion.strip() or not d.message().strip():
        out.problems.append(f"divergence without a reason or a suggestion: {d!r}")
    if not d.rolled_back_to < d.step <= taken:
        out.problems.append(
            f"diverged at step {d.step}, rolled back to {d.rolled_back_to}, {taken} steps taken"
        )
    if now != d.rolled_back_to:
        out.problems.append(f"at step {now} after rolling back to {d.rolled_back_to}")


def check_views(run: Run, out: Outcome) -> None:
    """What the page draws from the run now: the map finite, results and the CSV there."""
    grid = run.boundary(20)
    if grid is not None and not np.isfinite(grid["value"]).all():
        out.problems.append("the decision map is not finite")
    results = run.results()
    if len(results.predicted) != len(run.data.y_test) or not np.isfinite(results.predicted).all():
        out.problems.append("the test set's predictions are missing or not finite")
    run.histograms()
    if len(run.history.to_csv().splitlines()) != len(run.history.probes) + 1:
        out.problems.append("the history CSV does not have one line per probe")


def check_stays_stopped(run: Run, out: Outcome) -> None:
    """A diverged run trains no further until `set_lr` clears the stop; then it trains again."""
    at, rows = run.step_count, len(run.history.steps)
    if run.step(5) or run.step_count != at or len(run.history.steps) != rows:
        out.problems.append(f"trained on after diverging: at step {run.step_count}, was {at}")
    run.set_lr(max(run.cfg.lr / 10, 1e-5))
    if run.diverged is not None or run.step(1) != 1 or run.step_count != at + 1:
        out.problems.append("set_lr did not clear the stop")


def _check_live(case: Case, out: Outcome) -> None:
    trainer = Trainer(case.cfg, boundary_resolution=20, slots=Slots(1))
    try:
        notes: list[str] = []
        if not trainer.play():
            out.problems.append("Play was refused on a fresh trainer")
        snap = _play_until(trainer, case.steps, notes)
        out.diverged = snap.divergence
        check_snapshot(snap, out)
        # paused: the worker no longer touches the run
        check_history(trainer.run, out, probed_now=snap.divergence is not None)
        if snap.divergence is None and snap.step < case.steps:
            out.problems.append(f"reached step {snap.step} of {case.steps} in {LIVE_TIMEOUT_S} s")
        if snap.divergence is not None:
            check_divergence(snap.divergence, snap.step, snap.divergence.step, out)
            check_live_stop(trainer, snap, notes, out)
        stopped = [n for n in notes if n.startswith(STOPPED)]
        if stopped:
            out.crashed = stopped[0]
    finally:
        trainer.close()


def _play_until(trainer: Trainer, steps: int, notes: list[str]) -> Snapshot:
    """Poll as a page does until the run reaches `steps` or stops by itself; then Pause and
    take a full snapshot (map, histograms, results)."""
    deadline = time.monotonic() + LIVE_TIMEOUT_S
    while time.monotonic() < deadline:
        snap = trainer.snapshot(visuals=False)
        _note(snap, notes)
        if not snap.playing or snap.step >= steps:
            break
        time.sleep(POLL_S)
    trainer.pause()
    snap = trainer.snapshot()
    _note(snap, notes)
    return snap


def _note(snap: Snapshot, notes: list[str]) -> None:
    if snap.message:
        notes.append(snap.message)


def check_snapshot(snap: Snapshot, out: Outcome) -> None:
    """The page's copy: probe rows finite up to its latest probe (its step, after a rollback),
    a finite map and latest."""
    frame = snap.probes
    last = snap.step if snap.divergence is not None else snap.latest.step
    if len(frame) == 0 or frame["step"].iloc[-1] != last:
        out.problems.append(f"snapshot probes do not end at step {last}")
    if not np.isfinite(frame["train_loss"].to_numpy()).all():
        out.problems.append("snapshot probes hold a non-finite training loss")
    if snap.boundary is not None and not np.isfinite(snap.boundary["value"]).all():
        out.problems.append("snapshot decision map is not finite")
    if snap.results is None or snap.histograms is None:
        out.problems.append("snapshot lacks the results or histograms it was asked for")
    if not np.isfinite([snap.latest.train_loss, snap.latest.test_loss]).all():
        out.problems.append("snapshot's latest probe is not finite")


def check_live_stop(trainer: Trainer, snap: Snapshot, notes: list[str], out: Outcome) -> None:
    """Play and Step do nothing on a diverged trainer, and say why; a lower rate lets it go on."""
    if trainer.play():
        out.problems.append("Play restarted a diverged trainer")
    trainer.step(3)
    again = trainer.snapshot(visuals=False)
    _note(again, notes)
    if again.step != snap.step or again.message != DIVERGED_NOTE:
        out.problems.append(f"diverged trainer moved to {again.step} or said {again.message!r}")
    trainer.set_lr(max(snap.cfg.lr / 10, 1e-5))
    if not trainer.play():
        out.problems.append("Play refused after lowering the learning rate")
    deadline = time.monotonic() + LIVE_TIMEOUT_S
    while trainer.run.step_count <= snap.step and time.monotonic() < deadline:
        time.sleep(POLL_S)
    trainer.pause()
    after = trainer.snapshot(visuals=False)
    _note(after, notes)
    if after.step <= snap.step and after.divergence is None:
        out.problems.append(f"did not train on after set_lr (at step {after.step})")


# ---- report ---------------------------------------------------------------------------------
def report(outcomes: Iterable[Outcome], seconds: float) -> list[str]:
    """One line per crash and per run with problems, then the counts; the last line is the
    crash count the sweep is judged by."""
    outcomes = list(outcomes)
    lines: list[str] = []
    for o in outcomes:
        if o.crashed:
            lines.append(f"CRASH {o.case.name}: {o.crashed}")
        if o.problems:
            lines.append(f"PROBLEM {o.case.name}: {'; '.join(o.problems)}")
    diverged = [o for o in outcomes if o.diverged is not None]
    crashes = sum(o.crashed is not None for o in outcomes)
    live = sum(o.case.live for o in outcomes)
    lines.append(f"runs: {len(outcomes)} ({live} through the live trainer) in {seconds:.1f} s")
    lines.append(f"diverged: {len(diverged)}")
    for reason, n in Counter(o.reason for o in diverged).most_common():
        lines.append(f"  {n:4d}  {reason}")
    lines.append(f"with problems: {sum(bool(o.problems) for o in outcomes)}")
    lines.append(f"divergence_sweep_crashes: {crashes}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS, help="steps per run")
    parser.add_argument("--sample", type=int, default=0, help="run only K cases, spread out")
    args = parser.parse_args()
    setup_torch()
    cases = grid(args.steps)
    if args.sample:
        cases = sample(cases, args.sample)
    start = time.perf_counter()
    outcomes = [check(c) for c in cases]
    for line in report(outcomes, time.perf_counter() - start):
        print(line)


if __name__ == "__main__":
    main()
