"""Server memory over a long stretch of real browser sessions coming and going.

One server (the `thread` backend unless PLAYGROUND_BACKEND says otherwise) and one headless
Chromium. Visits, up to `--open` at a time, each open the Playground on a deep link, press
Play, Reset after a while, Play again, and then either close the tab or load another setup in
it (which, to the server, is a dropped session plus a new one). The setups cycle through every
dataset, activation and network size up to the host's limits (`playground.limits`). The
server's resident memory is sampled every second throughout.

The baseline is the server after one warm-up visit (the reference setup, then a real dataset)
has closed and its session has been freed (the disconnected-session TTL plus the heap trimmer's
period). The real dataset is there because its first use imports scikit-learn, about 70 MB
that every server pays once and keeps: a one-off cost of the app, not memory that sessions
leave behind, which is what the growth measures; the growth is the server, the
same time after the last visit closed, minus that baseline. Targets on the `thread` backend:
peak at most 1 GB, growth at most 100 MB. Last line: `soak_rss_growth_mb: X`.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._app import (  # noqa: E402
    REFERENCE_QUERY,
    STEP_COUNTER,
    chromium,
    open_playground,
    press_play,
    rss_mb,
    step_value,
    streamlit_server,
)
from playground import activations  # noqa: E402
from playground.allocator import TRIM_EVERY_S  # noqa: E402
from playground.config import RunConfig, to_query  # noqa: E402
from playground.data import DATASETS  # noqa: E402
from playground.limits import HostLimits, network_madds, over  # noqa: E402

SIZES = [(2, 8), (6, 8), (3, 64), (8, 128), (16, 256), (4, 512)]  # (depth, width)
WARM_REAL = RunConfig(dataset="digits")  # the warm-up's second setup: see the module docstring
OUTPUT_ONLY = {"softmax"}  # an output activation: not offered for hidden layers


def setups() -> Iterator[RunConfig]:
    """Datasets, activations and sizes in turn, skipping what the host's limits refuse."""
    hidden = [name for name in activations.REGISTRY if name not in OUTPUT_ONLY]
    for i in itertools.count():
        cfg = RunConfig(
            dataset=list(DATASETS)[i % len(DATASETS)],
            activation=hidden[i % len(hidden)],
            depth=SIZES[i % len(SIZES)][0],
            width=SIZES[i % len(SIZES)][1],
        )
        if not cfg.problems() and not over(cfg, HostLimits()):
            yield cfg


def peak_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM) in MiB: exact, not sampled."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Visit:
    """One tab: its steps (what to do, and how long to wait after), done one at a time."""

    context: Any
    page: Any
    plan: list[tuple[str, Any, float]]
    due: float = 0.0


@dataclass
class Tally:
    opened: int = 0
    trained: int = 0  # page loads whose Step counter had moved when they were left
    loads: int = 0
    errors: list[str] = field(default_factory=list)
    stalls: list[float] = field(default_factory=list)  # s a page's buttons stayed disabled
    biggest: int = 0  # the largest network's multiply-adds per point
    datasets: set[str] = field(default_factory=set)
    activations: set[str] = field(default_factory=set)


def plan(cfgs: Iterator[RunConfig], visit_s: float, n: int) -> list[tuple[str, Any, float]]:
    """Play, Reset, Play again; the second visit and every third after it then load another
    setup in the same tab."""
    third = visit_s / 3
    steps = [("play", None, third), ("reset", None, 1.0), ("play", None, third)]
    if n % 3 == 2:
        steps += [("load", next(cfgs), 0.0), ("play", None, third)]
    return [*steps, ("close", None, 0.0)]


def _leave(visit: Visit, tally: Tally) -> None:
    tally.trained += step_value(visit.page.locator(STEP_COUNTER).first.inner_text()) > 0


def _load(page: Any, server_url: str, cfg: RunConfig, tally: Tally) -> None:
    page.goto(f"{server_url}/playground?{urlencode(to_query(cfg))}")
    page.get_by_text("Inside the network").wait_for(timeout=60_000)
    tally.loads += 1
    tally.datasets.add(cfg.dataset)
    tally.activations.add(cfg.activation)
    tally.biggest = max(tally.biggest, network_madds(cfg))


def connected(page: Any, button: str, tally: Tally, limit_s: float = 120.0) -> bool:
    """Wait while the page's buttons are disabled, which Streamlit does while the page has
    lost its connection to the server; each wait over half a second is a stall."""
    start = time.monotonic()
    target = page.get_by_role("button", name=re.compile(button)).first
    while not target.is_enabled():
        if time.monotonic() - start > limit_s:
            tally.errors.append(f"the page stayed disconnected for {limit_s:g} s")
            return False
        time.sleep(0.25)
    if (waited := time.monotonic() - start) > 0.5:
        tally.stalls.append(waited)
    return True


def act(visit: Visit, server_url: str, tally: Tally) -> bool:
    """Do the visit's next step; False once it has closed."""
    what, cfg, wait = visit.plan.pop(0)
    page = visit.page
    if what in ("play", "reset") and not connected(page, what.title(), tally):
        what = "close"
    if what == "play":
        press_play(page)
    elif what == "reset":
        page.get_by_role("button", name=re.compile("Reset")).click()
    elif what == "load":
        _leave(visit, tally)
        _load(page, server_url, cfg, tally)
    if page.locator('[data-testid="stException"]').count():
        tally.errors.append(page.locator('[data-testid="stException"]').first.inner_text())
    if what == "close":
        _leave(visit, tally)
        visit.context.close()
        return False
    visit.due = time.monotonic() + wait
    return True


def open_visit(
    browser: Any, server_url: str, cfg: RunConfig, tally: Tally, steps: list[tuple[str, Any, float]]
) -> Visit:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    _load(page, server_url, cfg, tally)
    tally.opened += 1
    return Visit(context, page, steps)


def settle(pid: int, wait_s: float, samples: list[tuple[float, float]]) -> float:
    """Wait while closed sessions are freed and the heap trimmed; the server's memory then."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        samples.append((time.monotonic(), rss_mb(pid)))
        time.sleep(1.0)
    return rss_mb(pid)


@dataclass
class Result:
    baseline: float
    peak: float
    final: float
    samples: list[tuple[float, float]]
    tally: Tally

    @property
    def growth(self) -> float:
        return self.final - self.baseline


def run(
    minutes: float,
    max_open: int = 4,
    ttl_s: float = 120.0,
    visit_s: float = 60.0,
    settle_s: float | None = None,
) -> Result:
    """Warm up, settle, `minutes` of visits, settle; `settle_s` defaults to the time closed
    sessions take to be freed: the TTL, then the heap trimmer's period, and a margin."""
    settle_s = ttl_s + TRIM_EVERY_S + 5 if settle_s is None else settle_s
    samples: list[tuple[float, float]] = []
    tally = Tally()
    cfgs = setups()
    options = {"server.disconnectedSessionTTL": f"{ttl_s:g}"}
    with streamlit_server(options=options) as server, chromium() as browser:
        warm = open_playground(browser, server, REFERENCE_QUERY)
        press_play(warm)
        time.sleep(10)
        _load(warm, server.url, WARM_REAL, Tally())  # real data imports scikit-learn, once
        press_play(warm)
        time.sleep(5)
        warm.close()
        baseline = settle(server.pid, settle_s, samples)
        visits: list[Visit] = []
        end = time.monotonic() + minutes * 60
        next_open = 0.0
        while time.monotonic() < end or visits:
            now = time.monotonic()
            if now < end and len(visits) < max_open and now >= next_open:
                steps = plan(cfgs, visit_s, tally.opened + 1)
                visits.append(open_visit(browser, server.url, next(cfgs), tally, steps))
                next_open = now + visit_s / max_open  # staggered: tabs open and close in turn
            for visit in [v for v in visits if v.due <= time.monotonic()]:
                if not act(visit, server.url, tally):
                    visits.remove(visit)
            samples.append((time.monotonic(), rss_mb(server.pid)))
            time.sleep(0.5)
        final = settle(server.pid, settle_s, samples)
        # the kernel updates VmHWM lazily, so a sample can top it by a page or two
        peak = max(peak_mb(server.pid), *(mb for _, mb in samples))
        return Result(baseline, peak, final, samples, tally)


def report(result: Result, minutes: float) -> list[str]:
    t = result.tally
    t0 = result.samples[0][0]
    lines = [
        f"{minutes:g} min of visits: {t.opened} tabs opened, {t.loads} page loads, "
        f"{t.trained} of them trained; {len(t.datasets)} datasets, {len(t.activations)} "
        f"activations, networks up to {t.biggest:,} multiply-adds per point",
        f"errors on the pages (tracebacks, pages lost): {len(t.errors)}",
        *(f"  {e.splitlines()[0][:120]}" for e in t.errors[:5]),
        f"pages that lost their connection for a while: {len(t.stalls)}"
        + (f", {max(t.stalls):.1f} s at most" if t.stalls else ""),
        "server memory (MB) by minute, min-max of the samples:",
    ]
    by_minute: dict[int, list[float]] = {}
    for at, mb in result.samples:
        by_minute.setdefault(int((at - t0) // 60), []).append(mb)
    lines += [f"  {m:3d}  {min(v):6.0f} - {max(v):6.0f}" for m, v in sorted(by_minute.items())]
    lines += [
        f"baseline (warm-up visit closed and freed) {result.baseline:.0f} MB",
        f"peak {result.peak:.0f} MB (target at most 1024 on the thread backend)",
        f"after every visit closed and was freed {result.final:.0f} MB",
        f"soak_rss_growth_mb: {result.growth:.0f}",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, help="length of the visits (default 20)")
    parser.add_argument("--quick", action="store_true", help="2 minutes, a 10 s session TTL")
    parser.add_argument("--open", type=int, default=4, help="tabs open at a time (4)")
    parser.add_argument("--ttl", type=float, help="disconnected-session TTL in s (120)")
    args = parser.parse_args()
    minutes = args.minutes or (2.0 if args.quick else 20.0)
    ttl = args.ttl or (10.0 if args.quick else 120.0)
    print(f"one server, one Chromium, up to {args.open} tabs; session TTL {ttl:g} s", flush=True)
    result = run(minutes, args.open, ttl, visit_s=30.0 if args.quick else 60.0)
    print("\n".join(report(result, minutes)))


if __name__ == "__main__":
    main()
