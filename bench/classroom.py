"""A room of students in real browsers: eight tabs press Play on one server, per backend.

One server with the default cap (PLAYGROUND_MAX_TRAINERS, 4) and one headless Chromium with a
context per student, all on this host's cores, the way a class shares a small server's. Each
student opens the reference setup with a seed of their own, and all press Play within a few
seconds. Then, per backend:

- how many train at once and how many queue, with the message a queued page shows;
- Play to the first movement of each page's Step counter;
- that a queued page shows no steps while others train (no page sees another's run);
- closing a training tab lets the head of the queue start, and how long that takes;
- every student's Pause latency (click to the counter's last change, `bench/_app.py`), each
  paused while the others still train, so the queue moves up as Pauses free slots.

Last line: `classroom_worst_pause_s`, the worst Pause on the `ray` backend (target under 1.0).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._app import (  # noqa: E402
    REFERENCE_QUERY,
    STEP_COUNTER,
    chromium,
    pause_latency,
    read_trace,
    start_sampler,
    step_value,
    streamlit_server,
)

STUDENTS = 8
CAP = 4
QUEUE_TEXT = re.compile("training slot")  # the queue note: "All 4 training slots on ..."


@dataclass
class Student:
    name: str
    context: Any
    page: Any
    click: float = 0.0  # page clock, ms
    first_move_s: float | None = None
    queue_note: str | None = None
    pause_s: float | None = None
    closed: bool = False


@dataclass
class Room:
    backend: str
    students: list[Student] = field(default_factory=list)
    play_spread_s: float = 0.0  # first to last Play click, wall clock
    queued_steps: list[int] = field(default_factory=list)  # queued pages' counters meanwhile
    playing_steps: list[int] = field(default_factory=list)
    queue_start_s: float | None = None  # a tab closed -> the queue's head moves
    queue_start_was_head: bool = False

    @property
    def pauses(self) -> list[float]:
        return [s.pause_s for s in self.students if s.pause_s is not None]


def counter(page: Any) -> int:
    return step_value(page.locator(STEP_COUNTER).first.inner_text())


def wait_moving(page: Any, limit_s: float) -> float | None:
    """Seconds until the page's counter moves past what it shows now, or None."""
    t0 = start_sampler(page)
    start = counter(page)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(0.1)
        moved = [t for t, s in read_trace(page).changes if s > start]
        if moved:
            return (moved[0] - t0) / 1e3
    return None


def open_students(browser: Any, url: str, n: int) -> list[Student]:
    home = browser.new_page()
    home.goto(url)  # a fresh server registers its pages on the first visit
    home.get_by_text("Activation Playground").first.wait_for(timeout=60_000)
    home.close()
    students = []
    for i in range(n):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{url}/playground?{REFERENCE_QUERY}&init_seed={101 + i}")
        page.get_by_text("Inside the network").wait_for(timeout=120_000)
        students.append(Student(f"student {i + 1}", context, page))
    return students


def press_all(room: Room) -> None:
    """Everyone presses Play, one after another as fast as the pages answer."""
    for s in room.students:
        start_sampler(s.page)
    t0 = time.monotonic()
    for s in room.students:
        s.page.get_by_role("button", name=re.compile("Play")).click()
    room.play_spread_s = time.monotonic() - t0
    time.sleep(12)
    for s in room.students:
        trace = read_trace(s.page)
        s.click = trace.clicks[0]
        moved = [t for t, step in trace.changes if t > s.click and step > 0]
        s.first_move_s = (moved[0] - s.click) / 1e3 if moved else None
        note = s.page.get_by_text(QUEUE_TEXT)
        s.queue_note = note.first.inner_text() if note.count() else None
    for s in room.students:
        (room.playing_steps if s.first_move_s is not None else room.queued_steps).append(
            counter(s.page)
        )


def close_one(room: Room) -> None:
    """Close a training tab; time the queue's head (the earliest Play among the queued: the
    students pressed in list order; each page's clock is its own, so clicks do not compare)."""
    playing = [s for s in room.students if s.first_move_s is not None]
    queued = [s for s in room.students if s.first_move_s is None]
    if not playing or not queued:
        return
    marks = {id(s): (start_sampler(s.page), counter(s.page)) for s in queued}
    t_close = time.monotonic()
    playing[0].context.close()
    playing[0].closed = True
    while time.monotonic() - t_close < 20:
        time.sleep(0.1)
        for s in queued:
            t0, start = marks[id(s)]
            moved = [t for t, step in read_trace(s.page).changes if step > start]
            if moved:
                room.queue_start_s = (moved[0] - t0) / 1e3
                room.queue_start_was_head = s is queued[0]
                return


def pause_everyone(room: Room) -> None:
    """Each open page in turn: wait until it trains (the queue moves up), then Pause it."""
    for s in [s for s in room.students if not s.closed]:
        if wait_moving(s.page, 30.0) is None:
            continue
        s.pause_s = pause_latency(s.page)


def run_room(backend: str, students: int = STUDENTS, cap: int = CAP) -> Room:
    env = {"PLAYGROUND_BACKEND": backend, "PLAYGROUND_MAX_TRAINERS": str(cap)}
    with streamlit_server(env=env, timeout=180) as server, chromium() as browser:
        room = Room(backend, open_students(browser, server.url, students))
        press_all(room)
        close_one(room)
        pause_everyone(room)
        for s in room.students:
            if not s.closed:
                s.context.close()
        return room


def _s(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def report(room: Room) -> list[str]:
    playing = [s for s in room.students if s.first_move_s is not None]
    queued = [s for s in room.students if s.queue_note is not None]
    notes = {s.queue_note.split(":")[0] for s in queued if s.queue_note}
    lines = [
        f"-- {room.backend} backend: {len(room.students)} students pressed Play within "
        f"{room.play_spread_s:.1f} s; {len(playing)} trained at once, {len(queued)} queued",
        *(f"   queue note: {n}: ..." for n in sorted(notes)),
        "   Play to first movement (s): "
        + ", ".join(_s(s.first_move_s) for s in room.students if s.first_move_s is not None),
        f"   queued pages' Step counters while the others trained: {room.queued_steps} "
        f"(the training ones: {room.playing_steps})",
        f"   a training tab closed -> the queue's head moved after {_s(room.queue_start_s)} s"
        + (" (it was the head)" if room.queue_start_was_head else " (NOT the head)")
        * (room.queue_start_s is not None),
        "   Pause latency (s), in turn, the others training: "
        + ", ".join(_s(s.pause_s) for s in room.students if not s.closed),
        f"   worst Pause {_s(max(room.pauses, default=None))} s",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="thread,ray", help="comma-separated (both)")
    args = parser.parse_args()
    print(
        f"{STUDENTS} Chromium contexts and the server share this host's {os.cpu_count()} "
        f"cores; cap {CAP} trainers; reference setup, a seed per student",
        flush=True,
    )
    rooms = {}
    for backend in args.backends.split(","):
        rooms[backend] = run_room(backend)
        print("\n".join(report(rooms[backend])), flush=True)
    if "ray" in rooms:
        print(f"classroom_worst_pause_s: {max(rooms['ray'].pauses, default=float('nan')):.2f}")


if __name__ == "__main__":
    main()
