"""Training speed of the engine on the TensorFlow Playground's reference setup, in epochs/s.

The TF Playground trains a 6x8 tanh net on the spiral with SGD in JavaScript; its speed is the
bar a PyTorch rewrite is judged against. This times `Run` as the app uses it (probes every
100 ms), the same with the 100x100 decision boundary drawn once per epoch, and a bare eager
PyTorch loop for scale, alternating the three in rounds and reporting medians.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (  # noqa: E402
    REFERENCE,
    BareLoop,
    interleaved,
    median,
    median_ratio,
    setup_torch,
    spread,
    timed,
)
from playground.train import Run  # noqa: E402

# The TF Playground's own JS engine on this setup, measured headless in a desktop browser.
JS_HEADLESS_EPOCHS_PER_S = 650
JS_WITH_BOUNDARY_EPOCHS_PER_S = 27


def with_boundary(run: Run, seconds: float, resolution: int = 100) -> int:
    """Train epoch by epoch, drawing the boundary after each, for about `seconds`; returns steps."""
    deadline = time.perf_counter() + seconds
    steps = 0
    while time.perf_counter() < deadline:
        steps += run.step(run.steps_per_epoch)
        run.boundary(resolution)
    return steps


def profile(run: Run, seconds: float) -> None:
    """Where a training step's time goes: cProfile of `train_for`, by own time."""
    prof = cProfile.Profile()
    prof.enable()
    steps = run.train_for(seconds)
    prof.disable()
    print(f"\ncProfile of {steps} steps of Run.train_for (timings inflated by the profiler):")
    pstats.Stats(prof).strip_dirs().sort_stats("tottime").print_stats(16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 short rounds (well under 1 min)")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 7)")
    parser.add_argument("--seconds", type=float, help="seconds per arm per round (default 2)")
    parser.add_argument("--profile", action="store_true", help="cProfile the Run's training")
    args = parser.parse_args()
    setup_torch()
    rounds = args.rounds or (3 if args.quick else 7)
    seconds = args.seconds or (0.5 if args.quick else 2.0)

    run, drawn = Run(REFERENCE), Run(REFERENCE)
    bare = BareLoop(run)
    spe = run.steps_per_epoch
    print(
        f"reference: spiral {REFERENCE.n_points} points, train {len(run.x_train)}, "
        f"{REFERENCE.depth}x{REFERENCE.width} tanh, sgd lr {REFERENCE.lr}, batch "
        f"{run.batch_size} ({spe} steps/epoch); {rounds} rounds x {seconds:g} s, 1 thread"
    )
    run.train_for(0.3)
    with_boundary(drawn, 0.3)
    bare.train_for(0.3)

    def epochs(fn: Callable[[], int]) -> float:
        n, dt = timed(fn)
        return n / spe / dt

    rates = interleaved(
        {
            "run": lambda: epochs(lambda: run.train_for(seconds)),
            "boundary": lambda: epochs(lambda: with_boundary(drawn, seconds)),
            "bare": lambda: epochs(lambda: bare.train_for(seconds)),
        },
        rounds,
    )
    for r in (run, drawn):
        if r.diverged is not None:
            raise RuntimeError(r.diverged.message())
    rows = (
        ("Run, probes every 100 ms", "run"),
        ("Run + 100x100 boundary each epoch", "boundary"),
        ("bare eager PyTorch loop", "bare"),
    )
    print(f"{'':<36} {'epochs/s':>9} {'rounds':>14} {'vs bare':>8}")
    for label, key in rows:
        ratio = median_ratio(rates[key], rates["bare"])
        print(f"{label:<36} {median(rates[key]):>9,.0f} {spread(rates[key]):>14} {ratio:>8.3f}")
    print(f"{'TF Playground JS, headless':<36} {JS_HEADLESS_EPOCHS_PER_S:>9,} {'(reference)':>14}")
    print(
        f"{'TF Playground JS, boundary per epoch':<36} {JS_WITH_BOUNDARY_EPOCHS_PER_S:>9,} "
        f"{'(reference)':>14}"
    )
    engine = median(rates["run"])
    print(
        f"engine / JS headless: {engine / JS_HEADLESS_EPOCHS_PER_S:.2f}x; with boundary: "
        f"{median(rates['boundary']) / JS_WITH_BOUNDARY_EPOCHS_PER_S:.2f}x"
    )
    if args.profile:
        profile(run, seconds)
    print(f"engine_epochs_per_s: {engine:.0f}")


if __name__ == "__main__":
    main()
