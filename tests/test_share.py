"""Sharing: the link a page offers opens the same settings, and its QR code is that link."""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qsl, urlsplit

import pytest
import segno
from apptools import ROOT, open_page
from PIL import Image
from streamlit.testing.v1 import AppTest

from playground.comparison_config import COMPARE_KEYS, compare_from_query
from playground.config import from_query
from ui import share
from ui.share import Address, is_loopback, students_address


@pytest.fixture(autouse=True)
def _fresh(fresh_session):
    """Each test its own session cache."""


def _shared(at) -> dict[str, str]:
    code = next(c for c in at.code if "?" in c.value)
    return dict(parse_qsl(urlsplit(code.value).query, keep_blank_values=True))


def test_the_shared_link_is_short_and_opens_the_same_settings():
    at = open_page(dataset="spiral", activation="relu", depth="4", lr="0.3", hide="lr")
    query = _shared(at)
    assert query == {
        "v": "1", "dataset": "spiral", "activation": "relu", "depth": "4", "lr": "0.3",
        "hide": "lr",
    }  # fmt: skip
    address_bar = {k: v for k, v in at.query_params.items()}
    assert from_query(query) == from_query(address_bar)


def test_a_comparisons_shared_link_keeps_what_varies():
    at = AppTest.from_file(str(ROOT / "pages/3_compare.py"), default_timeout=90)
    for k, v in {"vary": "optimizer", "values": "sgd,adam", "seeds": "2", "depth": "3"}.items():
        at.query_params[k] = v
    at.run()
    query = _shared(at)
    assert {k: query[k] for k in ("vary", "values", "seeds", "depth")} == {
        "vary": "optimizer", "values": "sgd,adam", "seeds": "2", "depth": "3",
    }  # fmt: skip
    base, _ = from_query(query, extra=COMPARE_KEYS)
    cfg, notices = compare_from_query(query, base)
    assert (cfg.values, cfg.seeds, base.depth, notices) == (("sgd", "adam"), 2, 3, [])


def test_the_qr_code_is_the_link():
    link = "http://localhost:8501/compare?v=1&vary=lr&values=0.01,0.1&seeds=3"
    png = share.qr_png(link)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] == image.size[1]
    again = io.BytesIO()
    segno.make(link, error="m").save(again, kind="png", scale=6, border=2)
    assert png == again.getvalue()
    cfg, notices = compare_from_query(dict(parse_qsl(urlsplit(link).query)), from_query({})[0])
    assert (cfg.vary, cfg.values, cfg.seeds, notices) == ("lr", (0.01, 0.1), 3, [])


def test_presenter_mode_from_a_link_keeps_one_chart_large_text_and_its_link():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for k, v in {"dataset": "spiral", "present": "gradients", "hide": "Data"}.items():
        at.query_params[k] = v
    at.switch_page("pages/1_playground.py").run()
    assert not at.exception
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    titles = {s.get("description") for s in specs}
    assert "Gradient norm per layer (log scale) chart" in titles
    assert not any("Dead" in (t or "") or "histogram" in (t or "").lower() for t in titles)
    assert all(s["config"]["axis"]["labelFontSize"] >= 16 for s in specs)
    assert "Loss chart" in titles  # the loss alone beside the map
    assert any("font-size: 18px" in h.value for h in at.html)
    assert at.query_params["present"] == "gradients"
    assert "present" not in _shared(at)  # students get their own page, not the projector's
    at.toggle(key="share_presenting").set_value(True).run()
    assert _shared(at)["present"] == "gradients"  # unless the teacher asks for it


def test_presenter_mode_is_off_without_the_link_parameter():
    at = open_page(dataset="spiral")
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert all("labelFontSize" not in s.get("config", {}).get("axis", {}) for s in specs)
    assert "present" not in at.query_params


def _presenting(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    return at.switch_page(page).run()


def test_presenting_a_comparison_gives_the_race_and_the_chosen_chart_one_screen():
    at = _presenting(
        "pages/3_compare.py", vary="activation", values="relu,tanh", seeds="2", present="health"
    )
    assert not at.exception
    titles = {json.loads(c.proto.spec).get("description") for c in at.get("vega_lite_chart")}
    assert titles == {"Training loss and test accuracy chart", "Dead units chart"}
    assert "What races" in [e.label for e in at.expander]  # the picker, one click away
    assert not [m for m in at.markdown if "Race them" in m.value]


def test_presenting_a_lab_folds_its_words_and_picker_away_and_an_unknown_view_says_so():
    at = _presenting("pages/4_labs.py", lab="vanishing-gradients", present="nope")
    assert not at.exception
    labels = [e.label for e in at.expander]
    assert "What this shows, and what to look at" in labels  # below the race
    assert [s.label for s in at.sidebar.selectbox][:1] == ["Lab"]  # the picker aside
    assert not at.info or all("What to look at" not in i.value for i in at.info)
    assert any("present" in w.value and "names no presenter view" in w.value for w in at.warning)
    assert at.session_state["present"] == "gradients"


@pytest.mark.parametrize(
    ("opened", "public", "address", "wide", "network", "expected"),
    [
        # a public URL wins, with its path (a hosted app under a prefix)
        ("http://localhost:8501/x", "https://class.example.org/ap/", None, True, "10.0.0.5",
         Address("https://class.example.org/ap", "PLAYGROUND_PUBLIC_URL", False)),
        # then browser.serverAddress set on purpose, with browser.serverPort
        ("http://localhost:8501/x", None, "lab-pc.school", True, "10.0.0.5",
         Address("http://lab-pc.school:8501", "browser.serverAddress", False)),
        # then the page's own address, when it is not this machine's loopback
        ("https://demo.example.org/playground", None, None, True, "10.0.0.5",
         Address("https://demo.example.org", "this page's address", False)),
        ("http://192.168.1.7:8501/playground", None, None, True, "10.0.0.5",
         Address("http://192.168.1.7:8501", "this page's address", False)),
        # loopback: the network address offered where the server listens beyond loopback
        ("http://localhost:8501/playground", None, None, True, "192.168.1.20",
         Address("http://localhost:8501", "this page's address", True, "http://192.168.1.20:8501")),
        ("http://127.0.0.1:8501/", None, None, False, "192.168.1.20",
         Address("http://127.0.0.1:8501", "this page's address", True, None)),
        ("http://[::1]:8501/", None, None, True, "127.0.0.1",
         Address("http://[::1]:8501", "this page's address", True, None)),
    ],
)  # fmt: skip
def test_the_students_address_is_one_their_phones_can_open(
    opened, public, address, wide, network, expected
):
    assert students_address(opened, public, address, 8501, wide, network) == expected


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("127.0.0.1", True), ("127.8.9.1", True), ("::1", True),
     ("[::1]", True), ("app.localhost", True), ("192.168.1.2", False), ("10.0.0.1", False),
     ("example.org", False), ("::ffff:10.0.0.1", False)],
)  # fmt: skip
def test_loopback_is_only_this_machine(host, loopback):
    assert is_loopback(host) is loopback


def _shared_url(at) -> str:
    return next(c for c in at.code if "?" in c.value).value


def test_a_public_url_is_the_shared_links_address(monkeypatch):
    monkeypatch.setenv(share.PUBLIC_URL, "https://class.example.org/")
    at = open_page(dataset="xor")
    url = urlsplit(_shared_url(at))
    assert (url.scheme, url.netloc, url.path) == ("https", "class.example.org", "/")
    assert not [w for w in at.warning if "cannot open it" in w.value]
    assert any("comes from PLAYGROUND_PUBLIC_URL" in c.value for c in at.caption)


def test_a_loopback_page_offers_the_network_address_and_says_what_localhost_means(monkeypatch):
    from streamlit import net_util

    monkeypatch.setattr(net_util, "get_internal_ip", lambda: "192.168.1.20")
    at = open_page(dataset="xor")
    assert urlsplit(_shared_url(at)).hostname == "192.168.1.20"
    assert any("same network" in c.value for c in at.caption)
    at.toggle(key="share_network").set_value(False).run()
    assert urlsplit(_shared_url(at)).hostname in ("localhost", "127.0.0.1")
    assert any("phone cannot open it" in w.value for w in at.warning)


def test_with_no_network_address_a_loopback_link_is_named_as_such(monkeypatch):
    from streamlit import net_util

    monkeypatch.setattr(net_util, "get_internal_ip", lambda: "127.0.0.1")
    at = open_page(dataset="xor")
    assert urlsplit(_shared_url(at)).hostname in ("localhost", "127.0.0.1")
    warning = next(w.value for w in at.warning if "phone cannot open it" in w.value)
    assert "PLAYGROUND_PUBLIC_URL" in warning


@pytest.mark.parametrize(
    ("present", "shown"), [("1", "Dead units chart"), ("gradients", "Gradient norm chart")]
)
def test_a_presented_lab_shows_the_chart_its_words_name_unless_the_link_names_one(present, shown):
    at = _presenting("pages/4_labs.py", lab="dying-relu", seeds="1", present=present)
    assert not at.exception
    titles = {json.loads(c.proto.spec).get("description") for c in at.get("vega_lite_chart")}
    assert shown in titles


def test_presenting_the_network_sets_its_column_heads_at_16_px():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for k, v in {"dataset": "xor", "present": "network"}.items():
        at.query_params[k] = v
    at.switch_page("pages/1_playground.py").run()
    assert not at.exception
    spec = next(
        json.loads(c.proto.spec)
        for c in at.get("vega_lite_chart")
        if json.loads(c.proto.spec).get("description") == "The network, unit by unit chart"
    )
    assert spec["config"]["text"]["fontSize"] >= 16
    sizes = [v["mark"].get("fontSize") for v in spec["layer"] if v["mark"]["type"] == "text"]
    assert all(s is None or s >= 16 for s in sizes), sizes  # none pinned below the config
