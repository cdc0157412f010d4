"""Throughput cost of the engine's instrumentation: `Run` with its default probe schedule versus
a bare PyTorch loop on the same architecture, data, batch order and optimiser.

The engine promises that watching a network train (loss buffer, probes ten times a second, the
test set on every fifth of them) costs at most a few per cent of training speed; this measures
that promise as a ratio, in one process, alternating the two loops in rounds so machine noise
falls on both alike.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import BareLoop, interleaved, median, median_ratio, setup_torch, timed  # noqa: E402
from playground.config import RunConfig  # noqa: E402
from playground.train import Run  # noqa: E402

TARGET = 0.95


@dataclass(frozen=True)
class Case:
    name: str
    cfg: RunConfig


def cases() -> list[Case]:
    """Small 2-D nets (step cost tiny, so fixed overheads show most) and a deeper real-data net."""
    spiral = RunConfig(dataset="spiral", activation="tanh", depth=4, width=16, batch_size=10)
    digits = RunConfig(  # all 1,797 digits, half of them for training
        dataset="digits", n_points=5000, activation="relu", depth=8, width=64, batch_size=32
    )
    reference = RunConfig(dataset="spiral", depth=6, width=8, activation="tanh", lr=0.03)
    out = [Case("reference 8x6 tanh b10 sgd", reference)]  # TF Playground's default
    for base, label in ((spiral, "spiral 16x4 tanh b10"), (digits, "digits 64x8 relu b32")):
        out.append(Case(f"{label} sgd", base.replace(optimizer="sgd", lr=0.03)))
        out.append(Case(f"{label} adam", base.replace(optimizer="adam", lr=0.003)))
    return out


@dataclass(frozen=True)
class Measured:
    """One case's medians over rounds, and how often it probed (per second of training)."""

    ratio: float
    run_rate: float  # instrumented steps/s
    bare_rate: float
    probe_rate: float
    test_rate: float  # probes that measured the test set too


def measure(case: Case, rounds: int, seconds: float) -> Measured:
    """Alternate the instrumented and the bare loop for `rounds` rounds of `seconds` each."""
    run = Run(case.cfg)
    bare = BareLoop(run)
    run.train_for(min(seconds, 0.5))  # warm-up: allocator, first shuffle, lazy optimiser state
    bare.train_for(min(seconds, 0.5))
    counts = {"probes": 0, "tests": 0, "t": 0.0}

    def instrumented() -> float:
        before, t_before = len(run.history.probes), run.train_seconds
        n, dt = timed(lambda: run.train_for(seconds))
        if run.diverged is not None:
            raise RuntimeError(f"{case.name}: diverged, pick a lower lr ({run.diverged.reason})")
        after = len(run.history.probes)
        if after < before:  # the series thinned: this round's count is unknown, skip it
            print(f"  note: probe history thinned during a round of {case.name}")
        else:
            tested = np.isfinite(run.history.probes.column("test_loss")[before:])
            counts["probes"] += after - before
            counts["tests"] += int(tested.sum())
            counts["t"] += run.train_seconds - t_before
        return n / dt

    def plain() -> float:
        n, dt = timed(lambda: bare.train_for(seconds))
        return n / dt

    rates = interleaved({"run": instrumented, "bare": plain}, rounds)
    per_s = 1 / counts["t"] if counts["t"] > 0 else float("nan")
    return Measured(
        median_ratio(rates["run"], rates["bare"]),
        median(rates["run"]),
        median(rates["bare"]),
        counts["probes"] * per_s,
        counts["tests"] * per_s,
    )


def breakdown(case: Case, seen: Measured, rounds: int, seconds: float, profile: bool) -> None:
    """Split the overhead into per-step bookkeeping and probe cost; optionally profile the probes.

    Predicted ratio = (1 - share) * step_ratio: the share of training time the probes take (each
    probe at its cost without the test set, plus the test pass where one was taken), times the
    ratio measured with probes switched off (loss buffer, schedule checks).
    """
    run = Run(case.cfg.replace(probe_every=100_000))  # probes never due: bookkeeping only
    bare = BareLoop(run)
    run.train_for(min(seconds, 0.5))
    bare.train_for(min(seconds, 0.5))

    def steps_per_s(loop: Run | BareLoop) -> float:
        n, dt = timed(lambda: loop.train_for(seconds))
        return n / dt

    rates = interleaved(
        {"run": lambda: steps_per_s(run), "bare": lambda: steps_per_s(bare)}, rounds
    )
    step_ratio = median_ratio(rates["run"], rates["bare"])
    plain, tested = (_probe_ms(run, with_test, max(rounds, 5)) for with_test in (False, True))
    share = (seen.probe_rate * plain + seen.test_rate * (tested - plain)) / 1e3
    print(f"\nwhere the time goes, {case.name}:")
    print(
        f"  steps without probes: {median(rates['run']):,.0f} vs bare {median(rates['bare']):,.0f}"
        f" steps/s, ratio {step_ratio:.3f}"
    )
    print(
        f"  one probe {plain:.2f} ms x {seen.probe_rate:.1f}/s, with the test set {tested:.2f} ms"
        f" x {seen.test_rate:.1f}/s = {share:.1%} of training time"
    )
    print(f"  predicted ratio {(1 - share) * step_ratio:.3f}")
    if not profile:
        return
    prof = cProfile.Profile()
    prof.enable()
    _probes(run, 30, with_test=True)
    prof.disable()
    print("  cProfile of 30 probes with the test set (by own time):")
    pstats.Stats(prof).strip_dirs().sort_stats("tottime").print_stats(12)


def _probe_ms(run: Run, with_test: bool, rounds: int) -> float:
    """Median milliseconds of one probe, in rounds of 10."""
    return median([timed(lambda: _probes(run, 10, with_test))[1] * 100 for _ in range(rounds)])


def _probes(run: Run, n: int, with_test: bool) -> int:
    """Take `n` probes exactly as a due probe is taken (measure, check, checkpoint).

    Calls the engine's private method on purpose: the cost of a probe is what is being measured.
    """
    for _ in range(n):
        run._probe_and_check(with_test)
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 short rounds (well under 1 min)")
    parser.add_argument("--rounds", type=int, help="alternating rounds per config (default 7)")
    parser.add_argument("--seconds", type=float, help="seconds per loop per round (default 2)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="split each config's overhead into steps and probes; cProfile the worst's probes",
    )
    args = parser.parse_args()
    setup_torch()
    rounds = args.rounds or (3 if args.quick else 7)
    seconds = args.seconds or (0.5 if args.quick else 2.0)
    print(f"instrumented Run (probe every 100 ms) vs bare loop; {rounds} rounds x {seconds:g} s")
    print(
        f"{'config':<28} {'run steps/s':>12} {'bare steps/s':>13} {'ratio':>7} {'probes/s':>9} "
        f"{'tests/s':>8}"
    )
    worst: tuple[float, Case] | None = None
    seen: dict[str, Measured] = {}
    for case in cases():
        m = seen[case.name] = measure(case, rounds, seconds)
        flag = "" if m.ratio >= TARGET else "  < target"
        print(
            f"{case.name:<28} {m.run_rate:>12,.0f} {m.bare_rate:>13,.0f} {m.ratio:>7.3f} "
            f"{m.probe_rate:>9.1f} {m.test_rate:>8.1f}{flag}"
        )
        if worst is None or m.ratio < worst[0]:
            worst = (m.ratio, case)
    assert worst is not None
    print(f"worst: {worst[1].name} (target >= {TARGET})")
    if args.profile:
        for case in cases():
            breakdown(case, seen[case.name], rounds, seconds, profile=case == worst[1])
    print(f"probe_overhead_worst_ratio: {worst[0]:.3f}")


if __name__ == "__main__":
    main()
