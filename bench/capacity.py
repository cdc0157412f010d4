"""How much training a server gives N sessions at once, per trainer backend; no browser.

Each simulated session does what the Playground page does with its trainer, through the same
interface: Play, then a snapshot with the decision map every 0.5 s and one with the histograms
every 2 s, then Pause. All N play together for a fixed window on the reference config (spiral,
6 x 8 tanh, SGD 0.03, batch 10), with the cap set to N so none is refused. Printed per backend
and N: the total steps/s, each session's steps/s, how far the slowest and fastest are from the
mean, and the worst Pause (the call, and that the counter then stands still). Last line:
`capacity_scaling_4`, the `ray` backend's total with 4 sessions over its total with 1. On 2
cores its ceiling is 2.0, less Ray's own daemons and the polling; `thread` stays near 1.0,
because every trainer thread shares the server's one GIL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._app import REFERENCE_QUERY  # noqa: E402
from playground import backends, configure_torch  # noqa: E402
from playground.config import from_query  # noqa: E402
from playground.runner import Slots  # noqa: E402

FAST_S, SLOW_S = 0.5, 2.0  # the page's two refresh periods (ui.session)


@dataclass
class Session:
    steps_per_s: float
    pause_s: float  # how long Pause took to return
    still: bool  # the counter did not move after Pause returned


def make_backend(name: str, limit: int) -> backends.ThreadBackend | backends.RayBackend:
    if name == "ray":
        return backends.RayBackend(limit, slots_name=f"capacity-{uuid.uuid4().hex}")
    return backends.ThreadBackend(Slots(limit))


def drive(trainer: backends.TrainerHandle, start: threading.Barrier, seconds: float) -> Session:
    """One session: Play, poll like the page for `seconds`, Pause."""
    start.wait()
    if not trainer.play():
        raise RuntimeError("a Play was refused: the cap should equal the number of sessions")
    t0, first = time.monotonic(), trainer.snapshot(visuals=False).step
    next_slow = t0
    while (now := time.monotonic()) - t0 < seconds:
        slow = now >= next_slow
        trainer.snapshot(visuals=("histograms",) if slow else ("boundary",))
        if slow:
            next_slow += SLOW_S
        time.sleep(max(0.0, FAST_S - (time.monotonic() - now)))
    last = trainer.snapshot(visuals=False).step
    rate = (last - first) / (time.monotonic() - t0)
    before = time.monotonic()
    trainer.pause()
    pause_s = time.monotonic() - before
    stopped = trainer.snapshot(visuals=False).step
    time.sleep(0.2)
    return Session(rate, pause_s, trainer.snapshot(visuals=False).step == stopped)


def measure(backend_name: str, n: int, seconds: float) -> list[Session]:
    backend = make_backend(backend_name, n)
    cfg, _ = from_query(dict(parse_qsl(REFERENCE_QUERY)))
    trainers = [backend.trainer(cfg) for _ in range(n)]  # built before the window opens
    start = threading.Barrier(n)
    out: list[Session | None] = [None] * n

    def run(i: int) -> None:
        out[i] = drive(trainers[i], start, seconds)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for t in trainers:
            t.close()
        backend.close()
    if any(s is None for s in out):
        raise RuntimeError("a session failed; see the traceback above")
    return [s for s in out if s is not None]


def report(name: str, n: int, sessions: list[Session]) -> float:
    rates = [s.steps_per_s for s in sessions]
    total, mean = sum(rates), statistics.mean(rates)
    spread = max(abs(r - mean) for r in rates) / mean if mean else float("nan")
    each = ", ".join(f"{r:,.0f}" for r in rates)
    worst = max(s.pause_s for s in sessions)
    still = "" if all(s.still for s in sessions) else "  (a counter moved after Pause!)"
    print(
        f"{name:<7} {n:>2} {total:>11,.0f} {spread:>8.0%} {worst * 1000:>9.0f} ms   {each}{still}"
    )
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s windows, N = 1, 2, 4")
    parser.add_argument("--seconds", type=float, help="window per N (default 20, quick 5)")
    parser.add_argument("--backends", default="thread,ray", help="comma-separated")
    args = parser.parse_args()
    configure_torch()
    seconds = args.seconds or (5.0 if args.quick else 20.0)
    ns = [1, 2, 4] if args.quick else [1, 2, 4, 8]
    names = [b.strip() for b in args.backends.split(",") if b.strip()]
    print(f"reference config, {seconds:g} s per N; {os.cpu_count()} cores on this host")
    print("sessions poll like the page: the map every 0.5 s, the histograms every 2 s")
    print(f"\n{'backend':<7} {'N':>2} {'steps/s':>11} {'spread':>8} {'pause':>12}   each session")
    totals: dict[tuple[str, int], float] = {}
    for name in names:
        for n in ns:
            totals[name, n] = report(name, n, measure(name, n, seconds))
    print("\nspread: the farthest session from the mean, as a share of the mean")
    if ("ray", 1) in totals and ("ray", 4) in totals:
        print(f"capacity_scaling_4: {totals['ray', 4] / totals['ray', 1]:.2f}")


if __name__ == "__main__":
    main()
