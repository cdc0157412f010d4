"""Memory of a long run: the history must stay bounded and the process must not grow.

A live page can train for hours; every step appends a loss row and every probe a row of
per-layer numbers. This trains a small fast net for 100,000 steps, sampling the process's
resident memory and the history's row counts along the way, so a leak or an unbounded series
shows up as growth after warm-up.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import setup_torch  # noqa: E402
from playground.config import RunConfig  # noqa: E402
from playground.train import Run  # noqa: E402

CONFIG = RunConfig(dataset="circle", depth=2, width=8, activation="tanh", batch_size=10)
PROBES = 4000  # twice the probe series' capacity, so its thinning is exercised too


def _status_kb(field: str) -> int | None:
    """A memory field of /proc/self/status in KiB, or None where there is no /proc."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float:
    """Current resident set size in MiB (falls back to the peak where /proc is missing)."""
    kb = _status_kb("VmRSS")
    return kb / 1024 if kb is not None else peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size in MiB: VmHWM, or getrusage (KiB on Linux, bytes on macOS)."""
    kb = _status_kb("VmHWM")
    if kb is not None:
        return kb / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="30,000 steps (well under 1 min)")
    parser.add_argument("--steps", type=int, help="steps to train (default 100,000)")
    args = parser.parse_args()
    setup_torch()
    total = args.steps or (30_000 if args.quick else 100_000)
    marks = sorted({total // 10, total // 2, total})  # 10k, 50k, 100k for the full run
    every = max(total // 20, 1)

    # A step-based schedule, not the default 100 ms one: the probe count then does not depend on
    # the machine's speed, and it is high enough that both series overflow their capacity.
    cfg = CONFIG.replace(probe_every=max(total // PROBES, 1))
    run = Run(cfg)
    caps = run.history.steps.capacity, run.history.probes.capacity
    print(
        f"circle {cfg.depth}x{cfg.width} tanh, batch {cfg.batch_size}, probe every "
        f"{cfg.probe_every} steps; {total:,} steps; history capacity: {caps[0]:,} step rows, "
        f"{caps[1]:,} probe rows"
    )
    print(f"{'step':>8} {'rss MiB':>8} {'step rows':>10} {'probe rows':>11} {'s':>6}")
    start_rss, t0 = rss_mb(), time.perf_counter()
    samples: list[tuple[int, float]] = []
    done = 0
    while done < total:
        done += run.step(min(every, total - done))
        if run.diverged is not None:
            raise RuntimeError(run.diverged.message())
        run.flush()
        rows = len(run.history.steps), len(run.history.probes)
        samples.append((done, rss_mb()))
        mark = "  <-" if done in marks else ""
        print(
            f"{done:>8,} {samples[-1][1]:>8.1f} {rows[0]:>10,} {rows[1]:>11,} "
            f"{time.perf_counter() - t0:>6.1f}{mark}"
        )
        if rows[0] > caps[0] or rows[1] > caps[1]:
            raise RuntimeError("a history series grew past its capacity")
    warm_step, warm_rss = next(s for s in samples if s[0] >= marks[0])
    end_rss = samples[-1][1]
    print(f"rss at start {start_rss:.1f} MiB, after warm-up (step {warm_step:,}) {warm_rss:.1f}")
    print(
        f"growth after warm-up: {end_rss - warm_rss:+.1f} MiB over {total - warm_step:,} steps "
        f"({(end_rss - warm_rss) * 1024 / max(total - warm_step, 1) * 1000:+.2f} KiB per 1k steps)"
    )
    print(f"memory_peak_rss_mb: {peak_rss_mb():.1f}")


if __name__ == "__main__":
    main()
