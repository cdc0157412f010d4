"""Opening the Playground page under AppTest, as the page tests do."""

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
