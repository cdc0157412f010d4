"""A sample of the hostile-link fuzz (`bench/link_fuzz.py`): every page opens on a broken link
without a traceback and names what it did not apply; and the checker can fail."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.link_fuzz import (
    HOME,
    LABS,
    PAGES,
    PLAYGROUND,
    cases,
    check,
    expected,
    report,
)
from playground.config import LINK_KEYS, SETTING

pytestmark = pytest.mark.usefixtures("fresh_session")
SAMPLE = cases(30, seed=7)  # the pages in turn: six links each


@pytest.mark.parametrize(
    ("page", "params"), SAMPLE, ids=[f"{p}-{i}" for i, (p, _) in enumerate(SAMPLE)]
)
def test_a_hostile_link_opens_the_page_and_names_what_was_not_applied(page, params):
    assert check(page, params) is None


def test_the_sample_reaches_every_page():
    assert Counter(page for page, _ in SAMPLE) == {page: 6 for page in PAGES}


def test_the_cases_are_the_same_for_a_seed_and_cover_every_setting_and_link_key():
    many = cases(500, seed=0)
    assert many == cases(500, seed=0) and many != cases(500, seed=1)
    keys = {key for _, params in many for key in params}
    assert {*SETTING, *LINK_KEYS} <= keys
    assert any(isinstance(v, list) for _, params in many for v in params.values())


def test_the_oracle_names_each_bad_part_of_a_link():
    link = {"depth": "abc", "bogus": "1", "v": "2", "hide": "nope", "preset": "zz"}
    assert set(expected(PLAYGROUND, link)) == {"depth", "bogus", "version", "hide", "scenario"}
    assert expected(PLAYGROUND, {"depth": ["abc", "3"], "lr": " 0.1 "}) == []  # the last wins
    assert expected(LABS, {"lab": "nope", "seeds": "0", "target": "nan"}) == [
        "lab",
        "seeds",
        "target",
    ]
    assert expected(HOME, {"depth": "abc"}) == []  # Home reads no settings from a link


def test_a_page_that_raises_is_a_failure(tmp_path):
    page = tmp_path / "boom.py"
    page.write_text("import streamlit as st\nst.title('boom')\nraise RuntimeError('boom!')\n")
    failure = check(str(page), {})
    assert failure is not None and "boom!" in failure


def test_a_page_that_ignores_a_bad_link_is_a_failure(tmp_path):
    page = tmp_path / "quiet.py"
    page.write_text("import streamlit as st\nst.title('quiet')\n")
    failure = check(str(page), {"depth": "abc"}, expect=["depth"])
    assert failure is not None and "no notice naming 'depth'" in failure
    assert check(str(page), {"depth": "abc"}, expect=[]) is None


def test_the_report_ends_with_the_failure_count():
    lines = report(["FAIL pages/home.py ?x=1: exception: boom"], Counter({HOME: 3}), 1.5)
    assert lines[-1] == "link_fuzz_failures: 1"
    assert any("exception: 1" in line for line in lines)
