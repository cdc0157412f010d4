"""Training speed as a visitor sees it: the app's Step counter in headless Chromium.

The engine's own speed (engine_speed.py) says nothing about what the page shows; this runs the
real server and a real browser on the TensorFlow Playground's default network and reads the
counter the visitor reads. It also times how often the charts redraw, how quickly Pause takes
hold, and how much memory the server holds, and says where the CPU went when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._app import (  # noqa: E402
    RENDERER,
    STEPS_PER_EPOCH,
    PageWork,
    busy_host_note,
    chromium,
    cpu_mark,
    cpu_split,
    format_split,
    format_trainer,
    open_playground,
    pause_latency,
    press_play,
    rss_mb,
    streamlit_server,
    trainer_time,
    visible_rate,
    wait_still,
)
from bench._common import REFERENCE, setup_torch  # noqa: E402
from bench.in_app_efficiency import TARGET as IN_APP_TARGET  # noqa: E402
from bench.in_app_efficiency import headless  # noqa: E402
from playground.train import Run  # noqa: E402

TF_PLAYGROUND_EPOCHS_PER_S = 19.5  # its own page, same config, same headless Chromium and host
TARGET_EPOCHS_PER_S = 80.0
TARGET_REFRESHES_PER_S = 2.0
TARGET_BUSY = 0.25  # the page's main thread, share of the time while playing
TARGET_RENDERER_CORES = 0.3
REFRESH_TOLERANCE = 0.05  # the page's 0.5 s timer makes 2.0 the ceiling; allow timer jitter
PAUSES = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="an 8 s window (well under 1 min)")
    parser.add_argument("--seconds", type=float, help="measured window (default 20, quick 8)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of Play before it")
    args = parser.parse_args()
    seconds = args.seconds or (8.0 if args.quick else 20.0)
    setup_torch()
    run = Run(REFERENCE)
    run.train_for(1.0)  # allocator, first shuffle

    print("reference config: spiral, 500 points, 50 % train, 6 x 8 tanh, SGD lr 0.03, batch 10")
    print(f"window: {args.warmup:g} s warm-up, then {seconds:g} s read off the page's Step counter")
    print("the headless engine runs the same config in this process for as long, before and after")
    with streamlit_server() as server:
        memory = {"server started, no page open": rss_mb(server.pid)}
        with chromium() as browser:
            page = open_playground(browser, server)
            memory["page open, paused"] = rss_mb(server.pid)
            work = PageWork(page)
            wait_still(page)  # the page idle while the engine runs alone
            engine = [headless(run, seconds)[0]]
            press_play(page)
            time.sleep(args.warmup)
            before, work_before = cpu_mark(server.pid), work.read()
            seen = visible_rate(page, seconds)
            after, work_after = cpu_mark(server.pid), work.read()
            memory[f"after {args.warmup + seconds:g} s of training"] = rss_mb(server.pid)
            latencies = [pause_latency(page)]  # the first Pause ends the measured run
            for _ in range(PAUSES - 1):
                press_play(page)
                time.sleep(2.0)
                latencies.append(pause_latency(page))
            time.sleep(1.0)
            memory["after Pause"] = rss_mb(server.pid)
            engine.append(headless(run, seconds)[0])

    epochs = seen.steps_per_s / STEPS_PER_EPOCH
    print(f"\nsteps shown: {seen.steps:,} in the window ({seen.steps_per_s:,.0f} steps/s)")
    print(
        f"visible speed: {epochs:.1f} epochs/s (target >= {TARGET_EPOCHS_PER_S:g}; the "
        f"TensorFlow Playground's page: {TF_PLAYGROUND_EPOCHS_PER_S:g}, so "
        f"{epochs / TF_PLAYGROUND_EPOCHS_PER_S:.1f}x)"
    )
    print(
        f"chart refreshes: {seen.refreshes_per_s:.2f}/s (target >= {TARGET_REFRESHES_PER_S:g}); "
        f"gap between redraws median {seen.gap_median_s:.2f} s, longest {seen.gap_max_s:.2f} s"
    )
    print(
        f"pause latency (click to last counter change, {PAUSES} pauses): median "
        f"{statistics.median(latencies):.2f} s, max {max(latencies):.2f} s "
        f"[{', '.join(f'{x:.2f}' for x in latencies)}]"
    )
    print("server resident memory (VmRSS):")
    for label, mb in memory.items():
        print(f"  {label:<34} {mb:7.1f} MB")
    dt = after.t - before.t
    print(f"CPU during the measured window ({dt:.1f} s):")
    split = cpu_split(before, after, server.pid)
    print("\n".join(format_split(split)))
    busy, script = (b - a for a, b in zip(work_before, work_after))
    refreshes = seen.refreshes_per_s * dt
    per_refresh = f"{busy * 1e3 / refreshes:.0f} ms" if refreshes else "n/a"
    renderer = split.get(RENDERER, 0.0)
    print(
        f"the page's main thread: busy {busy / dt:.0%} of the window (target <= "
        f"{TARGET_BUSY:.0%}), {script / dt:.0%} in JavaScript"
    )
    print(f"the page's work per refresh: {per_refresh} of main-thread time")
    print(f"Chromium's renderer: {renderer:.2f} cores (target <= {TARGET_RENDERER_CORES:g})")
    engine_rate = sum(engine) / len(engine)
    in_app = seen.steps_per_s / engine_rate
    print(
        f"in-app ratio: {in_app:.2f} (target >= {IN_APP_TARGET:g}): the page showed "
        f"{seen.steps_per_s:,.0f} steps/s, the headless engine "
        f"{', '.join(f'{x:,.0f}' for x in engine)} steps/s before and after"
    )
    print("the trainer thread's wall time in that window:")
    print("\n".join(format_trainer(trainer_time(before, after, server.pid))))
    note = busy_host_note(split)
    if note:
        print(note)
    missed = []
    if epochs < TARGET_EPOCHS_PER_S:
        missed.append("speed")
    if seen.refreshes_per_s < TARGET_REFRESHES_PER_S * (1 - REFRESH_TOLERANCE):
        missed.append("refresh rate")
    if busy / dt > TARGET_BUSY:
        missed.append("main thread")
    if renderer > TARGET_RENDERER_CORES:
        missed.append("renderer")
    if in_app < IN_APP_TARGET:
        missed.append("in-app ratio")
    print("targets: " + ("met" if not missed else "missed: " + ", ".join(missed)))
    print(f"visible_epochs_per_s: {epochs:.1f}")


if __name__ == "__main__":
    main()
