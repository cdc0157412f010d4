"""A student's phone: first paint and Play-to-first-step at 390 x 844 with the CPU slowed 4x.

A phone's CPU is several times slower than a laptop's, and the page's own work (drawing charts,
running the layout) is what a student waits for. Chrome's DevTools protocol slows the page's
CPU (`Emulation.setCPUThrottlingRate`); the server runs as usual on the same machine. Each run
opens a fresh tab: the time until Play can be pressed (first paint of the controls), then the
time from pressing Play until the Step counter shows a step, and until the first chart below
the fold (the network diagram, upright on a phone) has drawn.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._app import chromium, step_value, streamlit_server  # noqa: E402

PHONE = {"width": 390, "height": 844}
QUERY = "playground?dataset=spiral&depth=4&width=8&activation=relu"


def one_run(browser, url: str, throttle: float) -> tuple[float, float, float]:
    """(first paint, Play to first step, Play to the diagram) in seconds, one fresh tab."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
    try:
        start = time.perf_counter()
        page.goto(f"{url}/{QUERY}")
        play = page.get_by_role("button", name="Play")
        play.wait_for(timeout=120_000)
        painted = time.perf_counter() - start
        clicked = time.perf_counter()
        play.click()
        counter = page.locator('[aria-label="Step"] .tile-value')
        while step_value(counter.inner_text(timeout=120_000)) < 1:
            page.wait_for_timeout(20)
        stepped = time.perf_counter() - clicked
        page.get_by_label("The network, unit by unit chart").wait_for(timeout=120_000)
        diagram = time.perf_counter() - clicked
        page.get_by_role("button", name="Pause").click()
    finally:
        context.close()
    return painted, stepped, diagram


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh tabs, each timed (default 3)")
    parser.add_argument("--throttle", type=float, default=4.0, help="CPU slow-down (default 4)")
    args = parser.parse_args(argv)
    rows = []
    with streamlit_server() as server, chromium() as browser:
        warm = browser.new_page()  # a fresh server registers its pages on the first visit
        warm.goto(server.url)
        warm.get_by_text("Activation Playground").first.wait_for(timeout=60_000)
        warm.close()
        for i in range(args.runs):
            painted, stepped, drawn = one_run(browser, server.url, args.throttle)
            rows.append((painted, stepped, drawn))
            print(
                f"run {i + 1}: first paint {painted:.2f} s, Play to step 1 {stepped:.2f} s, "
                f"Play to the diagram {drawn:.2f} s",
                flush=True,
            )
    for name, col in zip(("first_paint", "play_to_step", "play_to_diagram"), zip(*rows)):
        runs = ", ".join(f"{x:.2f}" for x in col)
        median = statistics.median(col)
        print(f"phone_{name}_s: median {median:.2f} (runs: {runs}), CPU {args.throttle:g}x slower")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
