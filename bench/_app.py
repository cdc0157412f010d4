"""Shared pieces of the browser benchmarks: a real server, a real Chromium, and what they cost.

The numbers that matter to a visitor are the ones the browser shows, so the benchmarks read the
page's own Step counter. Sampling happens inside the page (a DOM observer and a 50 ms timer)
rather than by polling through Playwright, so measuring takes almost no CPU from the app.
CPU time is read from /proc per process (and per thread of the server) to say where the cores
went when a target is missed.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
# The TensorFlow Playground's default network: spiral, 500 points, half for training, six hidden
# layers of eight tanh units, SGD at 0.03 in batches of 10 (the decision map is always drawn).
REFERENCE_QUERY = (
    "dataset=spiral&n_points=500&train_ratio=0.5&depth=6&width=8&activation=tanh"
    "&optimizer=sgd&lr=0.03&batch_size=10"
)
STEPS_PER_EPOCH = 25  # 250 training points in batches of 10
SAMPLE_MS = 50
STILL_S = 1.0  # a counter unchanged this long has stopped
# The Step tile's value; st.metric's test id as well, so the same scripts measure older pages
STEP_COUNTER = '.tile-value, [data-testid="stMetricValue"]'
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# In-page sampler: a MutationObserver notes every change of the Step counter's text, with the
# time on the page's clock, and a 50 ms timer samples it too (and proves the page's main thread
# was free to look: a counter is only "still" if the timer kept running while it did not move).
# Clicks are timestamped on the same clock, so click-to-standstill needs no Playwright round trip.
_SAMPLER_JS = """
([ms, sel]) => {
  if (window.__bench) { clearInterval(window.__bench.timer); window.__bench.observer.disconnect(); }
  const b = {changes: [], samples: 0, lastSample: 0, last: null, clicks: []};
  const check = () => {
    const el = document.querySelector(sel);
    const v = el ? el.textContent : null;
    if (v !== null && v !== b.last) { b.last = v; b.changes.push([performance.now(), v]); }
  };
  b.timer = setInterval(() => { b.samples += 1; check(); b.lastSample = performance.now(); }, ms);
  b.observer = new MutationObserver(check);
  b.observer.observe(document.body, {subtree: true, childList: true, characterData: true});
  if (!window.__benchClick) {
    window.__benchClick = true;
    document.addEventListener('click', () => {
      if (window.__bench) window.__bench.clicks.push(performance.now());
    }, true);
  }
  window.__bench = b;
  check();
  return performance.now();
}
"""


# ---- the server -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    proc: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.proc.pid


@contextmanager
def streamlit_server(
    timeout: float = 90.0,
    script: str = "app.py",
    options: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """The app as a visitor gets it: `streamlit run app.py` on a free loopback port.

    `options` are Streamlit's (`{"server.disconnectedSessionTTL": "10"}`), `env` is added to
    the server's environment (`{"PLAYGROUND_BACKEND": "ray"}`).
    """
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true"]
    cmd += ["--server.address", "127.0.0.1", "--server.port", str(port)]
    for name, value in (options or {}).items():
        cmd += [f"--{name}", value]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("streamlit did not start") from None
                time.sleep(0.2)
        yield Server(url, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (VmRSS), or NaN where /proc has no answer."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


# ---- the browser ------------------------------------------------------------------------------
@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium under Playwright (Playwright's own download is not used)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def open_playground(browser: Any, server: Server, query: str = REFERENCE_QUERY) -> Any:
    """Open `/` first (a fresh server registers its pages then), then the Playground deep link."""
    home = browser.new_page()
    home.goto(server.url)
    home.wait_for_selector('[data-testid="stApp"]')
    home.get_by_text("Activation Playground").first.wait_for(timeout=60_000)
    home.close()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server.url}/playground?{query}")
    page.get_by_text("Inside the network").wait_for(timeout=60_000)
    return page


def step_value(text: str) -> int:
    return int(re.sub(r"[^0-9]", "", text) or 0)


def press_play(page: Any) -> None:
    page.get_by_role("button", name=re.compile("Play")).click()
    page.get_by_role("button", name=re.compile("Pause")).wait_for(timeout=30_000)


class PageWork:
    """The page's main-thread busy time and JavaScript time so far, from Chromium's DevTools."""

    def __init__(self, page: Any) -> None:
        self._cdp = page.context.new_cdp_session(page)
        self._cdp.send("Performance.enable")

    def read(self) -> tuple[float, float]:
        """(seconds the renderer's main thread ran tasks, seconds of it in JavaScript)."""
        metrics = {
            m["name"]: m["value"] for m in self._cdp.send("Performance.getMetrics")["metrics"]
        }
        return metrics["TaskDuration"], metrics["ScriptDuration"]


# ---- what the page showed ---------------------------------------------------------------------
@dataclass
class Trace:
    """The Step counter's changes as the page saw them: (ms on the page's clock, step)."""

    changes: list[tuple[float, int]]
    clicks: list[float]
    samples: int
    last_sample: float  # page time of the sampler's latest tick

    def window(self, t0: float, t1: float) -> list[tuple[float, int]]:
        return [(t, s) for t, s in self.changes if t0 <= t <= t1]

    def still_since(self, t0: float) -> float:
        """How long (ms) the counter had stood still at the last sample, counting from `t0`."""
        last = max([t0, *(t for t, _ in self.changes)])
        return self.last_sample - last


def start_sampler(page: Any) -> float:
    """Start (or restart) the in-page sampler; returns the page clock in ms."""
    return float(page.evaluate(_SAMPLER_JS, [SAMPLE_MS, STEP_COUNTER]))


def page_now(page: Any) -> float:
    return float(page.evaluate("performance.now()"))


def read_trace(page: Any) -> Trace:
    raw = page.evaluate(
        "({changes: window.__bench.changes, clicks: window.__bench.clicks,"
        " samples: window.__bench.samples, lastSample: window.__bench.lastSample})"
    )
    changes = [(float(t), step_value(v)) for t, v in raw["changes"]]
    clicks = [float(c) for c in raw["clicks"]]
    return Trace(changes, clicks, int(raw["samples"]), float(raw["lastSample"]))


@dataclass
class Visible:
    """Training speed and refresh rate as the page showed them over one window."""

    steps_per_s: float
    refreshes_per_s: float
    gap_median_s: float  # typical time between two redraws of the counter
    gap_max_s: float  # the longest the page went without a redraw
    seconds: float
    steps: int


def visible_rate(page: Any, seconds: float) -> Visible:
    """Read the Step counter's changes over the next `seconds` of page time.

    Both rates are taken between the first and last change inside the window (steps shown,
    redraws counted), so the 2 Hz redraw does not quantise them.
    """
    t0 = start_sampler(page)
    time.sleep(seconds)
    t1 = page_now(page)
    moved = read_trace(page).window(t0, t1)[1:]  # the first entry is what was already shown
    span = (t1 - t0) / 1e3
    if len(moved) < 2:
        return Visible(0.0, 0.0, span, span, span, 0)
    (ta, sa), (tb, sb) = moved[0], moved[-1]
    dt = (tb - ta) / 1e3
    gaps = [(b[0] - a[0]) / 1e3 for a, b in zip(moved, moved[1:])]
    return Visible(
        (sb - sa) / dt,
        (len(moved) - 1) / dt,
        statistics.median(gaps),
        max([*gaps, (moved[0][0] - t0) / 1e3, (t1 - moved[-1][0]) / 1e3]),
        span,
        sb - sa,
    )


def pause_latency(page: Any, limit_s: float = 15.0) -> float:
    """Click Pause; seconds from the click to the counter's last change (it then stays still).

    "Still" means the in-page sampler kept ticking for a second without seeing a change, so a
    page too busy to look does not count as a page that stopped.
    """
    start_sampler(page)
    time.sleep(0.15)  # at least one sample of the value on screen before the click
    page.get_by_role("button", name=re.compile("Pause")).click()
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(0.25)
        trace = read_trace(page)
        if trace.clicks and trace.still_since(trace.clicks[0]) >= STILL_S * 1e3:
            page.get_by_role("button", name=re.compile("Play")).wait_for(timeout=10_000)
            last = trace.changes[-1][0] if trace.changes else trace.clicks[0]
            return max(last - trace.clicks[0], 0.0) / 1e3
    raise RuntimeError(f"the Step counter still moved {limit_s:g} s after Pause")


def wait_still(page: Any, limit_s: float = 15.0) -> int:
    """Wait until the counter has not moved for a second; returns the step it shows."""
    t0 = start_sampler(page)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(0.25)
        trace = read_trace(page)
        if trace.changes and trace.still_since(t0) >= STILL_S * 1e3:
            return trace.changes[-1][1]
    raise RuntimeError("the Step counter did not stand still")


# ---- where the CPU went -----------------------------------------------------------------------
def _stat(path: str) -> tuple[str, int, int] | None:
    """(comm, ppid, utime + stime in ticks) from a /proc stat file."""
    try:
        with open(path) as f:
            raw = f.read()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2 :].split()
    return comm, int(rest[1]), int(rest[11]) + int(rest[12])


def _descendants(root: int) -> dict[int, tuple[str, int]]:
    """Every live descendant of `root` (and root): pid -> (comm, CPU ticks)."""
    procs: dict[int, tuple[str, int, int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(f"/proc/{name}/stat")
            if st is not None:
                procs[int(name)] = st
    children: dict[int, list[int]] = {}
    for pid, (_, ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out: dict[int, tuple[str, int]] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            comm = procs[pid][0]
            if "chrom" in comm or "headless" in comm:
                comm = "chromium: " + _chromium_kind(pid)
            out[pid] = (comm, procs[pid][2])
        todo.extend(children.get(pid, []))
    return out


_KINDS = {
    "renderer": "renderer (page, charts)",
    "gpu-process": "gpu (compositing)",
    "browser": "browser",
}
RENDERER = "chromium: " + _KINDS["renderer"]  # the label `cpu_split` gives the page's process


def _chromium_kind(pid: int) -> str:
    """Which Chromium process this is, from its --type flag (none: the browser process)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            # Chromium rewrites its title, so flags may be space- rather than NUL-separated
            args = re.split(r"[\0 ]", f.read().decode(errors="replace"))
    except OSError:
        return "other"
    kind = next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), "browser")
    return _KINDS.get(kind, kind)


def _threads(pid: int) -> dict[int, int]:
    out: dict[int, int] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        st = _stat(f"/proc/{pid}/task/{tid}/stat")
        if st is not None:
            out[int(tid)] = st[2]
    return out


def _host_busy() -> int:
    """CPU ticks the whole host has spent busy (all but idle and iowait), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0
    return sum(fields[:8]) - fields[3] - fields[4]  # guest time is already in user


@dataclass
class CpuMark:
    t: float
    procs: dict[int, tuple[str, int]]
    server_threads: dict[int, int]
    server_sched: dict[int, tuple[int, int]]
    host_busy: int


def cpu_mark(server_pid: int) -> CpuMark:
    """Snapshot of CPU ticks: this benchmark's process tree, the server's threads, the host."""
    return CpuMark(
        time.monotonic(),
        _descendants(os.getpid()),
        _threads(server_pid),
        _schedstats(server_pid),
        _host_busy(),
    )


def _schedstats(pid: int) -> dict[int, tuple[int, int]]:
    """Per thread: (ns on a core, ns runnable but waiting for one), from schedstat."""
    out: dict[int, tuple[int, int]] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run, wait = f.read().split()[:2]
        except (OSError, ValueError):
            continue
        out[int(tid)] = (int(run), int(wait))
    return out


def _trainer_tid(a: CpuMark, b: CpuMark, server_pid: int) -> int | None:
    """The busiest server thread that lived through the window, the main thread aside."""
    old = a.server_threads
    used = {t: v - old[t] for t, v in b.server_threads.items() if t in old and t != server_pid}
    return max(used, key=lambda t: used[t]) if used else None


def trainer_time(a: CpuMark, b: CpuMark, server_pid: int) -> dict[str, float] | None:
    """Shares of the trainer thread's wall time: on a core, waiting for a core, blocked.

    Blocked is everything else: waiting for the GIL or the trainer's lock (both sleep in
    the kernel), and the worker's own idling, which is nil while playing.
    """
    tid = _trainer_tid(a, b, server_pid)
    if tid is None or tid not in a.server_sched or tid not in b.server_sched:
        return None
    wall = (b.t - a.t) * 1e9
    run = (b.server_sched[tid][0] - a.server_sched[tid][0]) / wall
    wait = (b.server_sched[tid][1] - a.server_sched[tid][1]) / wall
    return {"on a core": run, "waiting for a core": wait, "blocked (GIL, lock)": 1 - run - wait}


def cpu_split(a: CpuMark, b: CpuMark, server_pid: int) -> dict[str, float]:
    """Cores used between two marks: the server split by thread, Chromium, the rest of the host.

    The trainer is the busiest server thread that lived through the window, other than the main
    one; script reruns run on short-lived threads whose time only the process total keeps, so
    they are the process total minus the named threads.
    """
    dt = b.t - a.t
    cores: dict[str, float] = {}

    def add(label: str, ticks: float) -> None:
        cores[label] = cores.get(label, 0.0) + ticks / TICK / dt

    server_total = 0
    for pid, (comm, ticks) in b.procs.items():
        used = ticks - a.procs.get(pid, (comm, 0))[1]
        if pid == server_pid:
            server_total = used
        elif comm.startswith("chromium: "):
            add(comm, used)
        elif pid == os.getpid():
            add("bench (this script)", used)
        elif comm.startswith("node"):
            add("playwright driver", used)
        else:
            add(f"other ({comm})", used)
    old = a.server_threads
    main = b.server_threads.get(server_pid, 0) - old.get(server_pid, 0)
    tid = _trainer_tid(a, b, server_pid)
    trainer = 0 if tid is None else b.server_threads[tid] - old[tid]
    add("server: trainer thread", trainer)
    add("server: main thread (web server)", main)
    add("server: script reruns, other threads", max(server_total - trainer - main, 0))
    ours = sum(cores.values()) * dt * TICK
    add("other processes on this host", max(b.host_busy - a.host_busy - round(ours), 0))
    return cores


def busy_host_note(cores: dict[str, float], limit: float = 0.15) -> str | None:
    """A warning line when processes outside this benchmark took a real share of the host."""
    other = cores.get("other processes on this host", 0.0)
    if other <= limit:
        return None
    return (
        f"note: other processes on this host used {other:.2f} of its {os.cpu_count()} cores "
        "during the measurement, so the app's figures are lower than on a quiet host"
    )


def format_trainer(shares: dict[str, float] | None) -> list[str]:
    if shares is None:
        return ["  (no per-thread scheduler statistics on this host)"]
    return [f"  {k:<38} {v:6.1%}" for k, v in shares.items()]


def format_split(cores: dict[str, float]) -> list[str]:
    """One line per consumer, busiest first, and the host total against its core count."""
    total = sum(cores.values())
    lines = [f"  {k:<38} {v:5.2f} cores" for k, v in sorted(cores.items(), key=lambda kv: -kv[1])]
    label = f"total (of {os.cpu_count()} on this host)"
    lines.append(f"  {label:<38} {total:5.2f} cores")
    return lines
