"""What a person sees: the real app in headless Chromium, driven by Playwright.

Skips (with the reason) where Debian's Chromium or Playwright is missing; the rest of the suite
still runs.
"""

import os
import re
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench._app import CHROMIUM, chromium, streamlit_server

ROOT = Path(__file__).resolve().parent.parent
SHOTS = Path(os.environ.get("PLAYGROUND_SHOTS", ROOT / "shots"))
DESKTOP = {"width": 1400, "height": 1000}
# a closed tab's session is let go within seconds, so a test that failed mid-run frees its slot
TTL = {"server.disconnectedSessionTTL": "2"}

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """One server for the module, with room for every test's trainer: a test that fails while
    playing cannot make the next one queue."""
    with streamlit_server(options=TTL, env={"PLAYGROUND_MAX_TRAINERS": "4"}) as srv:
        yield srv.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _let_go(page: Any) -> None:
    """Pause a page that still plays, then close it: its slot is free before the next test."""
    if page.is_closed():
        page.context.close()
        return
    pause = page.get_by_role("button", name=re.compile("Pause"))
    if pause.count():
        pause.first.click(timeout=5_000)
        page.get_by_role("button", name=re.compile("Play")).first.wait_for(timeout=5_000)
    page.context.close()


@pytest.fixture
def tab(browser) -> Iterator[Callable[..., Any]]:
    """`tab(url)` opens a page in a context of its own; every one is paused and closed after
    the test, whether it passed or not."""
    opened: list[Any] = []

    def open_tab(url: str, viewport: dict[str, int] = DESKTOP, init_script: str = "") -> Any:
        context = browser.new_context(viewport=viewport)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        opened.append(page)
        page.goto(url)
        return page

    yield open_tab
    for page in opened:
        try:
            _let_go(page)
        except Exception:  # a broken page is closed all the same
            page.context.close()


def test_first_deep_link_on_a_fresh_server_opens_cleanly(tab):
    """The link a teacher shares is often the first visit after a server start."""
    public = "https://class.example.org"  # a hosted app: its students' address is this one
    with streamlit_server(env={"PLAYGROUND_PUBLIC_URL": public}) as srv:
        page = tab(f"{srv.url}/playground?depth=3&activation=relu&hide=lr")
        dialogs = []
        page.get_by_text("Inside the network").wait_for(timeout=60_000)
        for _ in range(6):  # the notice would arrive with the first run's messages
            dialogs.append(page.locator('[role="dialog"]').count())
            page.wait_for_timeout(250)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "first-deep-link.png"))
        assert dialogs == [0] * 6, "no 'page not found' dialog over the page"
        assert "/playground?" in page.url and "hide=lr" in page.url
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text().split()
        # the app's own navigation (titles, icons), not the folder's file names
        assert {"Home", "Playground"} <= set(nav) and "app" not in nav, nav
        assert "Activation Playground" in page.title()  # app.py's page config ran
        sidebar = page.locator('[data-testid="stSidebar"]')
        depth = sidebar.locator('[data-testid="stSlider"]').filter(has_text="Hidden layers")
        assert "3" in depth.inner_text()
        assert sidebar.get_by_text("This link hides: Learning rate").count() == 1
        assert (
            sidebar.locator('[data-testid="stSlider"]').filter(has_text="Learning rate").count()
            == 0
        )
        assert page.locator('[data-testid="stException"]').count() == 0
        link = _shared_link(page)
        assert link.startswith(f"{public}/playground?") and "hide=lr" in link, link
        page.context.close()  # before its server goes


def _shared_link(page) -> str:
    """Open Share and read the link it offers (the QR code is drawn from the same text)."""
    page.get_by_role("button", name=re.compile("Share")).click()
    code = page.locator('[data-testid="stPopoverBody"] [data-testid="stCode"]')
    code.wait_for(timeout=10_000)
    return code.inner_text().strip()


def test_a_loopback_link_is_named_beside_its_qr_code(tab, server):
    """The test server listens on 127.0.0.1 alone: no network address to offer, so Share
    says the phones cannot open its link."""
    page = tab(f"{server}/playground?dataset=xor&present=1")
    page.get_by_role("button", name=re.compile("Share")).wait_for(timeout=60_000)
    link = _shared_link(page)
    assert link.startswith("http://127.0.0.1:") and "present" not in link, link
    body = page.locator('[data-testid="stPopoverBody"]')
    body.get_by_text("a student's phone cannot open it").wait_for(timeout=10_000)
    assert body.get_by_role("img").count() == 1  # the QR code
    body.screenshot(path=str(SHOTS / "share-loopback.png"))


def _open(tab, url: str):
    page = tab(url)
    page.get_by_text("Inside the network").wait_for(timeout=60_000)
    return page


def _step(page) -> int:
    text = page.get_by_role("group", name="Step", exact=True).locator(".tile-value").inner_text()
    return int(text.replace(",", ""))


def _wait_for_steps(page, at_least: int = 1, timeout_ms: int = 30_000) -> int:
    """The Step counter once it reads `at_least`: training happened, before a test looks at
    what training shows."""
    page.wait_for_function(
        """n => { const el = document.querySelector('[aria-label="Step"] .tile-value');
                  return el && parseInt(el.textContent.replace(/,/g, '')) >= n; }""",
        arg=at_least,
        timeout=timeout_ms,
    )
    return _step(page)


def _trains_a_while(page, shot: str) -> None:
    """Play, three seconds of training that the counter shows, and a screenshot to look at."""
    page.get_by_role("button", name=re.compile("Play")).click()
    page.get_by_role("button", name=re.compile("Pause")).wait_for()
    _wait_for_steps(page)
    page.wait_for_timeout(3000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / shot), full_page=True)


def _loss_pixels(page) -> bytes:
    chart = page.get_by_label("Loss and accuracy chart")  # a canvas has no text to find
    return chart.first.screenshot()


def test_play_trains_live_and_pause_stops(tab, server):
    page = _open(
        tab,
        f"{server}/playground?dataset=spiral&depth=4&activation=relu"
        "&init=he&optimizer=adam&lr=0.01",
    )
    assert _step(page) == 0
    before = _loss_pixels(page)
    page.get_by_role("button", name=re.compile("Play")).click()
    page.get_by_role("button", name=re.compile("Pause")).wait_for()
    page.wait_for_timeout(3000)
    first = _step(page)
    page.wait_for_timeout(2000)
    second = _step(page)
    assert 0 < first < second, "the counter rises with no further input"
    assert _loss_pixels(page) != before, "the loss chart redraws with new data"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "playground-training.png"), full_page=True)
    page.get_by_role("button", name=re.compile("Pause")).click()
    page.get_by_role("button", name=re.compile("Play")).wait_for()
    page.wait_for_timeout(1000)
    stopped = _step(page)
    page.wait_for_timeout(1500)
    assert _step(page) == stopped, "after Pause the counter stands still"
    assert page.locator('[data-testid="stException"]').count() == 0


def test_link_settings_are_applied(tab, server):
    page = _open(tab, f"{server}/playground?dataset=moons&depth=3&activation=leaky_relu&lr=0.003")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Hidden layers").wait_for()
    assert "Two moons" in sidebar.get_by_role("combobox", name="Dataset").input_value()
    depth = sidebar.locator('[data-testid="stSlider"]').filter(has_text="Hidden layers")
    assert "3" in depth.inner_text()
    activation = sidebar.get_by_role("combobox", name="Hidden activation").input_value()
    assert activation == "Leaky ReLU"
    lr = sidebar.locator('[data-testid="stSlider"]').filter(has_text="Learning rate")
    assert "0.003" in lr.inner_text()
    assert "lr=0.003" in page.url


def test_bad_link_gets_a_notice_not_a_traceback(tab, server):
    page = _open(tab, f"{server}/playground?depth=999&activation=nope")
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "depth must be a whole number between 1 and 32" in body
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_play_past_the_cap_waits_in_the_queue_and_starts_when_a_tab_closes(tab):
    """On a server of its own with a cap of 1: the queue is this test's alone."""
    with streamlit_server(options=TTL, env={"PLAYGROUND_MAX_TRAINERS": "1"}) as srv:
        url = f"{srv.url}/playground?dataset=circle"
        first = _open(tab, url)
        first.get_by_role("button", name=re.compile("Play")).click()
        first.get_by_role("button", name=re.compile("Pause")).wait_for()
        second = _open(tab, url)
        second.get_by_role("button", name=re.compile("Play")).click()
        second.get_by_text("you are next").wait_for(timeout=20_000)
        main = second.locator('[data-testid="stMain"]')
        assert "starts by itself when a slot frees" in main.inner_text()
        assert _step(second) == 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        second.screenshot(path=str(SHOTS / "queued.png"))
        first.close()  # the tab goes away while training: its slot frees, the queue moves up
        second.get_by_text("Your turn").wait_for(timeout=30_000)
        second.wait_for_timeout(1500)
        assert _step(second) > 0
        _let_go(second)  # before its server goes


# Keeps the page's websockets reachable, so a test can drop the connection as a network blip
# does (Playwright's offline mode leaves an open websocket alone).
_KEEP_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    window.__sockets.push(ws);
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""


def test_a_dropped_connection_pauses_the_run_and_the_reconnected_tab_gets_it_back(tab, server):
    page = tab(f"{server}/playground?dataset=xor&init_seed=7", init_script=_KEEP_SOCKETS)
    page.get_by_text("Inside the network").wait_for(timeout=60_000)
    page.get_by_role("button", name=re.compile("Play")).click()
    page.get_by_role("button", name=re.compile("Pause")).wait_for()
    page.wait_for_timeout(1500)
    assert page.evaluate("window.__sockets.length") == 1
    page.evaluate("window.__sockets[0].close()")  # the blip: the server sees a disconnect
    page.get_by_text("Reconnected: your run was kept, paused").wait_for(timeout=30_000)
    assert page.evaluate("window.__sockets.length") == 2  # the page's own reconnection
    page.get_by_role("button", name=re.compile("Play")).wait_for()
    kept = _step(page)
    assert kept > 0  # the run, not a fresh one
    page.wait_for_timeout(1500)
    assert _step(page) == kept  # paused
    page.get_by_role("button", name=re.compile("Play")).click()
    page.get_by_role("button", name=re.compile("Pause")).wait_for()
    page.wait_for_timeout(1500)
    assert _step(page) > kept  # and it trains on from where it was
    page.get_by_role("button", name=re.compile("Pause")).click()


def test_the_explorer_shows_each_activation_and_its_measured_table(tab, server):
    page = tab(f"{server}/explorer")
    page.get_by_text("Measured properties").wait_for(timeout=60_000)
    page.get_by_label("f(x) chart").first.wait_for()
    page.get_by_text("Which should I use?").wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "explorer.png"), full_page=True)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "largest difference" in body.lower() or "autograd" in body.lower()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_comparison_trains_live_from_its_link_and_pauses(tab, server):
    page = tab(f"{server}/compare?vary=activation&values=relu,tanh,gelu&seeds=3&dataset=spiral")
    page.get_by_text("Inside the networks").wait_for(timeout=60_000)
    assert _step(page) == 0
    assert "3 variants x 3 seeds = 9 models" in page.locator('[data-testid="stMain"]').inner_text()
    page.get_by_role("button", name=re.compile("Play")).click()
    page.get_by_role("button", name=re.compile("Pause")).wait_for()
    page.wait_for_timeout(4000)
    first = _step(page)
    page.wait_for_timeout(1500)
    assert 0 < first < _step(page), "every model trains with no further input"
    table = page.locator('[data-testid="stDataFrame"]')
    table.wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "compare-training.png"), full_page=True)
    page.get_by_role("button", name=re.compile("Pause")).click()
    page.get_by_role("button", name=re.compile("Play")).wait_for()
    link = urllib.parse.unquote(page.url)
    assert "vary=activation" in link and "values=relu,tanh,gelu" in link and "seeds=3" in link
    assert page.get_by_label("Training loss and test accuracy chart").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.parametrize("lab", ["dying-relu", "vanishing-gradients", "output-loss"])
def test_each_lab_opens_from_its_link_and_trains(tab, server, lab):
    page = tab(f"{server}/labs?lab={lab}", viewport={"width": 1280, "height": 720})
    page.get_by_text("What to look at").wait_for(timeout=60_000)
    _trains_a_while(page, f"lab-{lab}.png")
    page.get_by_role("button", name=re.compile("Pause")).click()
    page.get_by_role("button", name=re.compile("Play")).wait_for()
    assert page.get_by_text("By layer, now").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0


def test_clicks_draw_points_that_train_and_travel_in_the_link(tab, server):
    page = tab(f"{server}/playground?dataset=drawn")  # nothing to train yet: the plane alone
    plane = page.get_by_label("Drawing plane: click to add a point")
    plane.wait_for(timeout=60_000)
    assert (
        "draw at least 10 points (there are 0)"
        in page.locator('[data-testid="stMain"]').inner_text()
    )
    box = plane.bounding_box()
    main = page.locator('[data-testid="stMain"]')
    spots = [(0.2, 0.2), (0.3, 0.25), (0.25, 0.35), (0.15, 0.3), (0.35, 0.15)]
    for colour, flip in (("orange", False), ("blue", True)):
        main.get_by_text(colour, exact=True).click()
        for fx, fy in spots:
            fx, fy = (1 - fx, 1 - fy) if flip else (fx, fy)
            plane.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
            page.wait_for_timeout(700)
    main.get_by_text("10 points: 5 orange, 5 blue. Ready to train.").wait_for(timeout=20_000)
    page.wait_for_url(re.compile("points="), timeout=20_000)
    link = urllib.parse.unquote(page.url)
    assert "dataset=drawn" in link and link.count(",1;") + link.count(",0;") >= 9
    main.get_by_text("erase", exact=True).click()
    plane.click(position={"x": box["width"] * 0.2, "y": box["height"] * 0.2})
    main.get_by_text("9 points: 4 orange, 5 blue.").wait_for(timeout=20_000)
    text = main.inner_text()
    assert "Not applied" not in text  # work in progress, not an error
    assert "The run below is still the one before the drawing" in text
    main.get_by_text("orange", exact=True).click()
    plane.click(position={"x": box["width"] * 0.22, "y": box["height"] * 0.22})
    main.get_by_text("Ready to train.").wait_for(timeout=20_000)
    _trains_a_while(page, "playground-drawn.png")
    reopened = _open(tab, page.url)  # the link brings the same drawing back
    reopened.get_by_text("10 points: 5 orange, 5 blue. Ready to train.").wait_for(timeout=20_000)
    assert reopened.locator('[data-testid="stException"]').count() == 0


def test_an_uploaded_csv_trains_and_a_bad_one_is_named(tab, server, tmp_path):
    good, bad = tmp_path / "mine.csv", tmp_path / "broken.csv"
    rows = [f"{a},{b},{'yes' if a + b > 0 else 'no'}" for a in range(-5, 6) for b in range(-3, 4)]
    good.write_text("a,b,answer\n" + "\n".join(rows) + "\n")
    bad.write_bytes(b"\x00\x01\x02 not a table")
    page = _open(tab, f"{server}/playground")
    page.get_by_text("Your own data (CSV)").click()
    uploader = page.locator('[data-testid="stSidebar"] input[type=file]')
    uploader.set_input_files(str(good))
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("mine.csv (77 rows, 2 features, binary).").wait_for(timeout=30_000)
    page.get_by_text("Results on the test set").wait_for(timeout=30_000)
    _confusion_matrix_is_drawn(page)
    uploader.set_input_files(str(bad))
    sidebar.get_by_text("broken.csv: this is a binary file").wait_for(timeout=30_000)
    assert "Your CSV" in sidebar.get_by_role("combobox", name="Dataset").input_value()
    assert page.locator('[data-testid="stException"]').count() == 0


def _confusion_matrix_is_drawn(page) -> None:
    """The matrix as a person sees it: a chart at least 240 px square, inside the page."""
    matrix = page.get_by_label("Confusion matrix (test set) chart")
    matrix.wait_for(timeout=30_000)
    box = matrix.bounding_box()
    assert box["width"] >= 240 and box["height"] >= 240, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], box


def test_the_confusion_matrix_draws_for_iris(tab, server):
    page = _open(tab, f"{server}/playground?dataset=iris")
    page.get_by_role("button", name=re.compile("Play")).click()
    _wait_for_steps(page)
    _confusion_matrix_is_drawn(page)
    page.get_by_label("Confusion matrix (test set) chart").screenshot(
        path=str(SHOTS / "confusion-iris.png")
    )


def test_the_network_diagram_marks_the_units_the_dying_relu_preset_kills(tab, server):
    page = _open(tab, f"{server}/playground?preset=dying_relu")
    _trains_a_while(page, "playground-network.png")
    page.wait_for_timeout(4000)  # a slow redraw after the deaths
    diagram = page.get_by_label("The network, unit by unit chart")
    diagram.wait_for(timeout=20_000)
    caption = page.get_by_text(re.compile(r"Dead now: \d+ of 32 hidden units"))
    dead = int(re.search(r"Dead now: (\d+)", caption.inner_text()).group(1))
    assert dead > 0, "plain SGD at learning rate 1.0 kills ReLU units within seconds"
    diagram.screenshot(path=str(SHOTS / "network-diagram.png"))
    assert page.locator('[data-testid="stException"]').count() == 0


def _tap_unit(page, diagram, layer: str, unit: str) -> None:
    """Find a unit as a person does, by pointing until its tooltip names it, then click it.
    The chart is a canvas: its marks have no elements to find."""
    box = diagram.bounding_box()
    tip = page.locator("#vg-tooltip-element")
    for y in range(0, int(box["height"]), 10):
        for x in range(0, int(box["width"]), 10):
            page.mouse.move(box["x"] + x, box["y"] + y)
            text = tip.inner_text() if tip.count() and tip.is_visible() else ""
            if layer in text and f"{unit}\n" in text + "\n":
                page.mouse.click(box["x"] + x, box["y"] + y)
                return
    raise AssertionError(f"no unit with the tooltip {layer}, {unit} in the diagram")


def test_clicking_a_unit_opens_its_detail_and_it_stays_through_redraws(tab, server):
    page = _open(tab, f"{server}/playground?preset=dying_relu")
    diagram = page.get_by_label("The network, unit by unit chart")
    diagram.wait_for(timeout=20_000)
    diagram.scroll_into_view_if_needed()
    _tap_unit(page, diagram, "layer 1 · ReLU", "unit 1")
    detail = page.get_by_text(re.compile(r"Layer 1 · ReLU · unit 1"))
    detail.wait_for(timeout=20_000)
    page.get_by_label("What its activation receives chart").wait_for()
    page.get_by_role("button", name=re.compile("Play")).click()
    before = _wait_for_steps(page)
    page.wait_for_timeout(5000)  # two slow redraws of the diagram
    assert _step(page) > before, "the run trains on"
    assert detail.count() == 1, "the chosen unit stays chosen while the run trains"
    page.screenshot(path=str(SHOTS / "unit-detail.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0


PHONE = {"width": 390, "height": 844}


def test_on_a_phone_play_is_on_the_first_screen_and_no_chart_is_wider_than_it(tab, server):
    """390 x 844: the histograms wrap into two columns and the network stands upright, so
    every chart fits the screen; its units are a finger's size and one can be tapped."""
    page = tab(f"{server}/playground?preset=dying_relu&depth=8", viewport=PHONE)
    page.get_by_text("Inside the network").wait_for(timeout=60_000)
    play = page.get_by_role("button", name=re.compile("Play"))
    box = play.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], "Play on the first screen"
    assert box["width"] >= 24 and box["height"] >= 24
    diagram = page.get_by_label("The network, unit by unit chart")
    diagram.wait_for(timeout=20_000)
    page.wait_for_function(  # the upright diagram: taller than it is wide
        """() => { const el = document.querySelector(
                     '[aria-label="The network, unit by unit chart"] canvas');
                   return el && el.getBoundingClientRect().height
                               > el.getBoundingClientRect().width; }""",
        timeout=20_000,
    )
    edges = page.evaluate(  # in one go: the live fragments redraw twice a second
        """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map(el => {
                 el.scrollIntoView(); const r = el.getBoundingClientRect();
                 return {label: el.getAttribute('aria-label'), x: r.x, right: r.right}; })"""
    )
    labels = {e["label"] for e in edges}
    assert {"Output of each hidden layer chart", "The network, unit by unit chart"} <= labels
    for edge in edges:
        assert edge["x"] >= 0 and edge["right"] <= PHONE["width"] + 1, edge
    diagram.scroll_into_view_if_needed()
    _tap_unit(page, diagram, "layer 1 · ReLU", "unit 2")
    page.get_by_text(re.compile(r"Layer 1 · ReLU · unit 2")).wait_for(timeout=20_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-playground.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_on_a_phone_a_lab_puts_play_first_and_its_table_fits(tab, server):
    page = tab(f"{server}/labs?lab=dying-relu&seeds=2", viewport=PHONE)
    play = page.get_by_role("button", name=re.compile("Play"))
    play.wait_for(timeout=60_000)
    page.get_by_text("What this shows, and what to look at").wait_for(timeout=20_000)
    box = play.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], "Play on the first screen"
    play.click()
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
    edge = page.evaluate(  # in one go: the live fragment redraws the table twice a second
        """() => { const el = document.querySelector('[data-testid="stDataFrame"]');
                   el.scrollIntoView(); const r = el.getBoundingClientRect();
                   return {x: r.x, width: r.width}; }"""
    )
    assert edge["x"] >= 0 and edge["x"] + edge["width"] <= PHONE["width"] + 1, edge
    assert page.get_by_text("or in the CSV below").count() == 1  # the other columns are named
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.parametrize("lab", ["dying-relu", "vanishing-gradients"])
def test_a_presented_lab_fits_the_race_and_its_chart_on_one_projector_screen(tab, server, lab):
    """1280 x 720, present=1: the training loss and the chart the lab's words say to watch
    both end on the first screen, axes included."""
    screen = {"width": 1280, "height": 720}
    page = tab(f"{server}/labs?lab={lab}&present=1&seeds=2", viewport=screen)
    page.get_by_role("button", name=re.compile("Play")).click()
    watched = {"dying-relu": "Dead units chart", "vanishing-gradients": "Gradient norm chart"}
    beside = page.get_by_label(watched[lab])
    beside.wait_for(timeout=30_000)
    race = page.get_by_label(re.compile("Training loss and test accuracy chart"))
    race.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)  # the fragments settle
    box = beside.bounding_box()
    assert box["y"] + box["height"] <= screen["height"], box
    top = race.bounding_box()["y"]
    # the race's first chart (training loss) is 145 px of plot, its title and axis about 110
    assert top + 145 + 110 <= screen["height"], top
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"present-{lab}.png"))
    assert page.locator('[data-testid="stException"]').count() == 0
