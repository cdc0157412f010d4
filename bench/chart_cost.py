"""What each chart costs the browser per redraw: a per-chart profile of the Playground page.

The page's main thread is one budget shared by every chart on it, so a slow page says little
about which chart to fix. This serves `_chart_app.py`, which trains the reference network and
redraws the metric tiles plus one chart at a time at the page's refresh rate, and reads from
Chromium's DevTools how long the page's main thread worked per redraw. The tiles alone are the
baseline; a chart's cost is its page's figure minus the baseline's. The whole Playground page,
measured the same way, comes last: its figure is what the charts add up to on screen together
(slow charts there redraw less often than the fast ones, see `ui.session.live`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._app import (  # noqa: E402
    RENDERER,
    STEP_COUNTER,
    PageWork,
    busy_host_note,
    chromium,
    cpu_mark,
    cpu_split,
    open_playground,
    press_play,
    streamlit_server,
    visible_rate,
)
from bench._chart_app import PIECES  # noqa: E402

SESSION_END_S = 6.0  # a closed page's trainer pauses after its heartbeat lapses (5 s)


@dataclass
class Cost:
    ms_per_redraw: float
    redraws_per_s: float
    busy_share: float  # of the window, the page's main thread
    renderer_cores: float
    other_cores: float  # processes outside this benchmark


def measure(page: Any, server_pid: int, warmup: float, seconds: float) -> Cost:
    """Main-thread work per redraw over a window of a live page, after a warm-up."""
    work = PageWork(page)
    time.sleep(warmup)
    before, busy_before = cpu_mark(server_pid), work.read()[0]
    seen = visible_rate(page, seconds)
    after, busy_after = cpu_mark(server_pid), work.read()[0]
    dt = after.t - before.t
    busy = busy_after - busy_before
    redraws = seen.refreshes_per_s * dt
    split = cpu_split(before, after, server_pid)
    return Cost(
        busy * 1e3 / redraws if redraws else float("nan"),
        seen.refreshes_per_s,
        busy / dt,
        split.get(RENDERER, 0.0),
        split.get("other processes on this host", 0.0),
    )


def chart_costs(names: list[str], warmup: float, seconds: float) -> dict[str, Cost]:
    with streamlit_server(script="bench/_chart_app.py") as server, chromium() as browser:
        out = {}
        for name in names:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{server.url}/?chart={quote(name)}")
            page.locator(STEP_COUNTER).first.wait_for(timeout=60_000)
            out[name] = measure(page, server.pid, warmup, seconds)
            page.close()
            time.sleep(SESSION_END_S)
        return out


def page_cost(warmup: float, seconds: float) -> Cost:
    with streamlit_server() as server, chromium() as browser:
        page = open_playground(browser, server)
        press_play(page)
        return measure(page, server.pid, warmup, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round of 4 s windows")
    parser.add_argument("--seconds", type=float, help="measured window per chart (8, quick 4)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds live before it")
    parser.add_argument("--rounds", type=int, help="passes over all charts (2, quick 1)")
    args = parser.parse_args()
    args.seconds = args.seconds or (4.0 if args.quick else 8.0)
    args.rounds = args.rounds or (1 if args.quick else 2)
    print("reference config: spiral, 500 points, 50 % train, 6 x 8 tanh, SGD lr 0.03, batch 10")
    window = f"{args.warmup:g} s live, then {args.seconds:g} s measured"
    print(f"each chart: {window}; {args.rounds} rounds")
    rounds = [chart_costs(list(PIECES), args.warmup, args.seconds) for _ in range(args.rounds)]
    pages = [page_cost(args.warmup, args.seconds) for _ in range(args.rounds)]
    base = [r["tiles only"].ms_per_redraw for r in rounds]
    print(f"\n{'chart':<24} {'ms per redraw (each round)':<30} {'minus tiles':>11} {'renderer':>9}")
    for name in PIECES:
        ms = [r[name].ms_per_redraw for r in rounds]
        extra = statistics.median(m - b for m, b in zip(ms, base))
        cores = statistics.median(r[name].renderer_cores for r in rounds)
        each = ", ".join(f"{m:.0f}" for m in ms)
        print(f"{name:<24} {each:<30} {extra:>9.0f} ms {cores:>5.2f} cores")
    each = ", ".join(f"{p.ms_per_redraw:.0f}" for p in pages)
    busy = ", ".join(f"{p.busy_share:.0%}" for p in pages)
    cores = ", ".join(f"{p.renderer_cores:.2f}" for p in pages)
    rates = ", ".join(f"{p.redraws_per_s:.2f}" for p in pages)
    print(f"\nwhole Playground page: {each} ms of main-thread work per redraw of the counter")
    print(f"  main thread busy {busy} of the time; renderer {cores} cores; {rates} redraws/s")
    other = max(c.other_cores for r in rounds for c in r.values())
    note = busy_host_note({"other processes on this host": other})
    if note:
        print(note)


if __name__ == "__main__":
    main()
