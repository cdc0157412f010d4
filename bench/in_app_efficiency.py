"""How much training speed the live app keeps: visible steps/s over the headless engine's.

The engine alone (a `Run` trained in this process) is the ceiling; the app adds a web server,
chart rebuilds twice a second and a browser drawing them, all on the same two cores. This
measures both on the TensorFlow Playground's default network, alternating them (headless, app,
headless, app, ...) so drift in the host's load falls on both, with the app paused and still
while the headless loop runs.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._app import (  # noqa: E402
    REFERENCE_QUERY,
    busy_host_note,
    chromium,
    cpu_mark,
    cpu_split,
    format_split,
    format_trainer,
    open_playground,
    press_play,
    streamlit_server,
    trainer_time,
    visible_rate,
    wait_still,
)
from bench._common import REFERENCE, median, median_ratio, setup_torch, spread  # noqa: E402
from playground.config import RunConfig, from_query  # noqa: E402
from playground.runner import Trainer  # noqa: E402
from playground.train import Run  # noqa: E402

TARGET = 0.85
REFRESHES_PER_S = 2.0  # the page's live fragment reruns every 0.5 s while playing


def headless(run: Run, seconds: float) -> tuple[float, float]:
    """(steps/s, share of a core this thread got) for `seconds` of `Run.train_for`."""
    wall, cpu = time.perf_counter(), time.thread_time()
    n = run.train_for(seconds)
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    return n / wall, cpu / wall


def snapshot_ms(cfg: RunConfig, rounds: int = 20) -> float:
    """Median ms of one `Trainer.snapshot()` with visuals: the work a refresh does under the lock.

    Taken on a paused trainer after some training, so the history holds a realistic run.
    """
    trainer = Trainer(cfg)
    try:
        trainer.run.train_for(2.0)
        trainer.snapshot()
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            trainer.snapshot()
            times.append((time.perf_counter() - t0) * 1e3)
        return median(times)
    finally:
        trainer.close()


def mean_split(windows: list[dict[str, float]]) -> dict[str, float]:
    """Each consumer's cores averaged over windows (absent from a window counts as zero)."""
    keys = dict.fromkeys(k for w in windows for k in w)  # first-seen order
    return {k: sum(w.get(k, 0.0) for w in windows) / len(windows) for k in keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 4 s (well under 1 min)")
    parser.add_argument("--rounds", type=int, help="headless/app pairs (default 3, quick 2)")
    parser.add_argument("--seconds", type=float, help="seconds per measurement (20, quick 4)")
    parser.add_argument("--warmup", type=float, help="seconds of Play before the app's window")
    args = parser.parse_args()
    setup_torch()
    rounds = args.rounds or (2 if args.quick else 3)
    seconds = args.seconds or (4.0 if args.quick else 20.0)
    warmup = args.warmup if args.warmup is not None else (1.5 if args.quick else 3.0)
    linked, _ = from_query(dict(parse_qsl(REFERENCE_QUERY)))
    if linked != REFERENCE:
        raise SystemExit(f"the page's link and the headless config differ: {linked} vs {REFERENCE}")

    print("reference config: spiral, 500 points, 50 % train, 6 x 8 tanh, SGD lr 0.03, batch 10")
    print(f"{rounds} rounds of headless then app, {seconds:g} s each ({warmup:g} s app warm-up)")
    run = Run(REFERENCE)
    run.train_for(1.0)  # allocator, first shuffle
    rates: dict[str, list[float]] = {"headless": [], "app": []}
    per_cpu: dict[str, list[float]] = {"headless": [], "app": []}
    splits: dict[str, list[dict[str, float]]] = {"headless": [], "app": []}
    trainer_shares: list[dict[str, float]] = []
    print(
        f"{'round':>5} {'headless steps/s':>17} {'core share':>11} {'app steps/s':>12} "
        f"{'trainer core':>13} {'ratio':>6}"
    )
    with streamlit_server() as server, chromium() as browser:
        page = open_playground(browser, server)
        for r in range(rounds):
            wait_still(page)  # the app is paused and its page idle before the engine runs
            before = cpu_mark(server.pid)
            rate, share = headless(run, seconds)
            splits["headless"].append(cpu_split(before, cpu_mark(server.pid), server.pid))
            rates["headless"].append(rate)
            per_cpu["headless"].append(rate / share)
            press_play(page)
            time.sleep(warmup)
            before = cpu_mark(server.pid)
            seen = visible_rate(page, seconds)
            after = cpu_mark(server.pid)
            page.get_by_role("button", name=re.compile("Pause")).click()
            split = cpu_split(before, after, server.pid)
            splits["app"].append(split)
            shares = trainer_time(before, after, server.pid)
            if shares is not None:
                trainer_shares.append(shares)
            trainer = split["server: trainer thread"]
            rates["app"].append(seen.steps_per_s)
            per_cpu["app"].append(seen.steps_per_s / trainer if trainer else float("nan"))
            print(
                f"{r + 1:>5} {rate:>17,.0f} {share:>11.2f} {seen.steps_per_s:>12,.0f} "
                f"{trainer:>13.2f} {seen.steps_per_s / rate:>6.2f}"
            )

    ratio = median_ratio(rates["app"], rates["headless"])
    print(
        f"\nheadless {median(rates['headless']):,.0f} steps/s ({spread(rates['headless'])}), "
        f"app {median(rates['app']):,.0f} steps/s ({spread(rates['app'])})"
    )
    print(
        f"ratio of medians {median(rates['app']) / median(rates['headless']):.2f}, "
        f"median of per-round ratios {ratio:.2f} (target >= {TARGET:g})"
    )
    print(
        f"per core-second actually granted: headless {median(per_cpu['headless']):,.0f} "
        f"steps, app trainer {median(per_cpu['app']):,.0f} steps "
        f"(ratio {median(per_cpu['app']) / median(per_cpu['headless']):.2f}: what the app's "
        "locking and chart work cost the trainer itself, contention aside)"
    )
    for arm, windows in splits.items():
        print(f"CPU during the {arm} windows (mean over rounds):")
        print("\n".join(format_split(mean_split(windows))))
    print("the app's trainer thread, share of its wall time (mean over rounds):")
    print("\n".join(format_trainer(mean_split(trainer_shares) if trainer_shares else None)))
    held = snapshot_ms(REFERENCE)
    print(
        f"one page refresh holds the trainer's lock for {held:.1f} ms (Trainer.snapshot, "
        f"measured here), {held * REFRESHES_PER_S / 10:.1f} % of the time at "
        f"{REFRESHES_PER_S:g} refreshes/s"
    )
    note = busy_host_note(mean_split(splits["headless"] + splits["app"]))
    if note:
        print(note)
    print("target: " + ("met" if ratio >= TARGET else "missed"))
    print(f"in_app_efficiency: {ratio:.2f}")


if __name__ == "__main__":
    main()
