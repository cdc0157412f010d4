"""Helpers the tests share: opening the Playground under AppTest, waiting on a trainer."""

import html
import re
import time
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGE_NAME = "pages/1_playground.py"
PAGE = str(ROOT / PAGE_NAME)


def open_page(**params: str) -> AppTest:
    """The Playground as a first visit to a link with these parameters."""
    at = AppTest.from_file(PAGE, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def open_file(page: str, **params: str) -> AppTest:
    """A page file (under the repository) as a first visit to a link with these parameters."""
    at = AppTest.from_file(str(ROOT / page), default_timeout=90)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def tile(at: AppTest, label: str) -> str:
    """The value a metric tile shows, read from the page's HTML as the browser gets it."""
    tag = f'aria-label="{html.escape(label)}"'
    for block in at.html:
        found = re.search(re.escape(tag) + r'.*?class="tile-value"[^>]*>([^<]*)<', block.value)
        if found:
            return html.unescape(found.group(1))
    raise AssertionError(f"no tile labelled {label!r}")


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Whether `predicate` came true within `timeout` seconds (polled every 20 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False
