"""Retake the home page's gallery thumbnails: every lab and scenario, as a projector shows it.

Each card's link opens in presenter mode at 1280 x 720 (the one screen a class sees), trains for
a few seconds where there is something to train, and the screen is saved, scaled to 480 x 270,
as docs/gallery/KEY.png. Run it after a change to what a lab or scenario shows:

    .venv/bin/python scripts/thumbnails.py [--only KEY ...] [--seconds 8]
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from bench._app import ROOT, chromium, streamlit_server  # noqa: E402
from playground.labs import all_labs  # noqa: E402
from playground.presets import PRESETS  # noqa: E402

GALLERY = ROOT / "docs" / "gallery"
# the chart beside the race or the map: what the card is about (gradients where not named)
SHOWN = {"dying-relu": "health", "textbook-dying-relu": "health", "dying_relu": "health"}
SCREEN, THUMB = (1280, 720), (480, 270)


def cards() -> dict[str, tuple[str, dict[str, str]]]:
    """Every thumbnail's key, and the page and link parameters it shows (as the home page)."""
    out = {key: ("labs", {"lab": key}) for key in all_labs()}
    out.update({key: ("playground", dict(p.query())) for key, p in PRESETS.items()})
    return out


def take(browser: object, url: str, seconds: float) -> bytes:
    """The projector's screen of `url` after `seconds` of training (none where nothing trains)."""
    page = browser.new_page(viewport={"width": SCREEN[0], "height": SCREEN[1]})
    page.goto(url)
    # Play where something trains; the initialisation lab has Reveal (a guess comes first)
    ready = page.get_by_role("button", name=re.compile("^(Play|Reveal)"))
    ready.first.wait_for(timeout=90_000)
    play = page.get_by_role("button", name=re.compile("^Play"))
    if play.count() and play.first.is_enabled():
        play.first.click()
        page.get_by_role("button", name=re.compile("Pause")).wait_for(timeout=30_000)
        page.wait_for_timeout(seconds * 1000)
        pause = page.get_by_role("button", name=re.compile("Pause"))
        if pause.count():  # a run that diverged has stopped by itself
            pause.first.click()
    page.mouse.move(SCREEN[0] - 1, SCREEN[1] - 1)  # no tooltip over the controls
    page.wait_for_timeout(2500)  # the slow charts' last redraw
    shot = page.screenshot()
    page.close()
    return shot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="keys to retake (default: every card)")
    parser.add_argument("--seconds", type=float, default=8.0, help="training before the shot")
    args = parser.parse_args()
    chosen = {k: v for k, v in cards().items() if not args.only or k in args.only}
    unknown = set(args.only or ()) - set(cards())
    if unknown:
        parser.error(f"no card {', '.join(sorted(unknown))}; choose from {', '.join(cards())}")
    GALLERY.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as server, chromium() as browser:
        for key, (path, query) in chosen.items():
            shown = SHOWN.get(key, "gradients")
            url = f"{server.url}/{path}?{urlencode({**query, 'present': shown})}"
            image = Image.open(io.BytesIO(take(browser, url, args.seconds))).convert("RGB")
            image.resize(THUMB, Image.Resampling.LANCZOS).save(GALLERY / f"{key}.png")
            print(f"{key}: {GALLERY / f'{key}.png'}")


if __name__ == "__main__":
    main()
