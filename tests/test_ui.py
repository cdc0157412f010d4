"""The ui/ layer: a sidebar generated from the settings table, presets, hide flags, and the
boundaries between pages, the Streamlit layer and the engine."""

import ast
import gc
import warnings
from pathlib import Path

import pytest
from apptools import PAGE_NAME, ROOT, open_page, tile
from streamlit.testing.v1 import AppTest

from playground import activations
from playground.config import SETTING, SETTINGS, parse_hide
from playground.presets import PRESETS
from playground.runner import Trainer

WIDGET_OF = {  # how each kind of setting is drawn, as AppTest names the element
    "select": "selectbox",
    "grid": "select_slider",
    "slider": "slider",
    "number": "number_input",
    "toggle": "toggle",
    "text": "text_input",
    "radio": "radio",
    "features": "button_group",
}


pytestmark = pytest.mark.usefixtures("fresh_session")


def _query(at: AppTest, key: str) -> str | None:
    value = at.query_params.get(key)
    return value[-1] if isinstance(value, list) else value


def _live_config():
    """The config the session's trainer runs (the session cache is out of a test's reach)."""
    with warnings.catch_warnings():  # isinstance on some torch objects warns of deprecations
        warnings.simplefilter("ignore")
        live = [o for o in gc.get_objects() if isinstance(o, Trainer) and not o.closed]
    (trainer,) = live
    return trainer.snapshot(visuals=False).cfg


def _kind(setting) -> str:
    from ui.settings import _widget_kind

    return _widget_kind(setting)


def _widgets(at: AppTest) -> dict[str, object]:
    found = {}
    for kind in set(WIDGET_OF.values()):
        for w in getattr(at, kind):
            if isinstance(w.key, str) and w.key.startswith("cfg_"):
                found[w.key[4:]] = w
    return found


# ---- the sidebar is the table ----
def test_every_setting_has_its_widget_with_the_tables_label_range_and_default():
    at = open_page(dataset="blobs", activation="leaky_relu")  # so classes and alpha are shown too
    assert not at.exception
    widgets = _widgets(at)
    for setting in SETTINGS:
        if setting.widget == "param":
            w = widgets["alpha_leaky_relu"]
            param = activations.get("leaky_relu").param
            assert (w.min, w.max, w.value) == (param.low, param.high, param.default)
            continue
        w = widgets[setting.key]
        assert type(w).__name__.lower().replace("_", "") == WIDGET_OF[_kind(setting)].replace(
            "_", ""
        ), setting.key
        assert w.label == setting.label and w.help == setting.help, setting.key
        expected = {"dataset": "blobs", "activation": "leaky_relu"}.get(setting.key)
        value = ",".join(w.value) if setting.widget == "features" else w.value  # toggles: a list
        assert value == (expected if expected is not None else setting.default), setting.key
        if _kind(setting) in ("slider", "number"):
            assert (w.min, w.max) == (setting.low, setting.high), setting.key
        if _kind(setting) == "grid":
            assert list(w.options) == [f"{v:g}" for v in setting.grid], setting.key
        if _kind(setting) == "select":
            values = {"dataset": "blobs"}
            shown = [setting.label_of(c) for c in setting.options(values)]
            assert list(w.options) == shown, setting.key


def test_controls_shown_only_where_they_apply():
    at = open_page(dataset="circle", activation="tanh")
    widgets = _widgets(at)
    assert "n_classes" not in widgets  # blobs only
    assert not any(k.startswith("alpha_") for k in widgets)  # tanh has no parameter


def test_pairing_choices_follow_the_dataset_task():
    at = open_page(dataset="blobs")
    options = at.selectbox(key="cfg_pairing").options
    assert "Softmax + CrossEntropyLoss (mistake)" in options
    assert "One logit + BCEWithLogitsLoss" not in options


# ---- hide flags ----
def test_a_hide_flag_hides_exactly_its_control_and_keeps_the_links_value():
    shown = set(_widgets(open_page()))
    at = open_page(hide="lr", lr="0.1")
    assert not at.exception
    assert shown - set(_widgets(at)) == {"lr"}
    assert _query(at, "hide") == "lr" and _query(at, "lr") == "0.1"
    at.button(key="step").click().run()
    assert _live_config().lr == 0.1
    assert any("This link hides: Learning rate" in c.value for c in at.caption)


def test_a_group_and_buttons_can_be_hidden_and_shown_again():
    at = open_page(hide="Training,play,downloads")
    hidden = set(parse_hide("Training")[0])
    assert not hidden & set(_widgets(at))
    assert "device" in _widgets(at)  # not hideable: where training runs stays in view
    keys = {b.key for b in at.button}
    assert "play" not in keys and "step" in keys
    assert not any(e.label == "Downloads" for e in at.expander)
    at.button(key="show_all").click().run()
    assert hidden <= set(_widgets(at)) and "play" in {b.key for b in at.button}
    assert _query(at, "hide") is None


def test_a_scenario_key_alone_brings_its_settings_and_the_link_wins():
    open_page(preset="dying_relu")
    cfg = _live_config()
    assert (cfg.dataset, cfg.activation, cfg.lr) == ("spiral", "relu", 1.0)
    open_page(preset="dying_relu", lr="0.03")
    assert _live_config().lr == 0.03 and _live_config().activation == "relu"


def test_a_scenario_link_opened_fresh_shows_its_note():
    at = open_page(**PRESETS["dying_relu"].query())
    assert not at.exception and not at.warning
    assert any("Dying ReLU" in i.value for i in at.info)
    assert open_page(preset="nope").warning[0].value.startswith("Link: unknown scenario 'nope'")


def test_a_bad_hide_flag_gets_a_notice_and_hides_nothing_else():
    at = open_page(hide="bogus")
    assert not at.exception
    assert any("bogus" in w.value for w in at.warning)
    assert "lr" in _widgets(at)


def test_a_hidden_alpha_follows_the_activation_and_a_hidden_output_follows_the_task():
    at = open_page(activation="leaky_relu", alpha="0.2", hide="alpha,pairing")
    at.button(key="step").click().run()
    assert _live_config().alpha == 0.2
    at.selectbox(key="cfg_activation").set_value("elu").run()
    assert not at.error and _live_config().alpha is None  # ELU's own default, not 0.2
    at = open_page(dataset="blobs", pairing="softmax_ce", hide="pairing")
    at.selectbox(key="cfg_dataset").set_value("circle").run()
    assert not at.error and not at.exception
    assert _live_config().pairing == "auto"


def test_link_text_in_a_notice_is_shown_as_written_not_as_markdown():
    at = open_page(hide="[log in](https://example.com)")
    (notice,) = [w.value for w in at.warning]
    assert "\\[log in\\]\\(https\\:\\/\\/example\\.com\\)" in notice  # not a link


def test_an_alpha_that_changes_nothing_keeps_the_links_other_notices():
    at = open_page(activation="tanh", alpha="0.3", hide="bogus")
    notes = " ".join(w.value for w in at.warning)
    assert "alpha does not apply to tanh" in notes and "bogus" in notes


# ---- presets ----
def test_a_preset_applied_mid_session_changes_the_run_and_the_url():
    at = open_page()
    for _ in range(2):
        at.button(key="step").click().run()
    preset = PRESETS["dying_relu"]
    at.selectbox(key="preset_pick").set_value(preset.key).run()
    assert not at.exception
    for key, text in preset.settings.items():
        assert _query(at, key) == text or float(_query(at, key)) == float(text), key
    assert at.selectbox(key="cfg_activation").value == "relu"
    assert at.select_slider(key="cfg_lr").value == 1.0
    assert tile(at, "Step") == "0"  # rebuilt
    cfg = _live_config()
    assert (cfg.dataset, cfg.activation, cfg.lr, cfg.depth) == ("spiral", "relu", 1.0, 4)
    assert any(preset.title in i.value for i in at.info)
    assert at.selectbox(key="preset_pick").value is None  # ready to pick again


def test_a_preset_with_hide_flags_hides_them_and_its_note_goes_after_a_rebuild():
    at = open_page()
    at.selectbox(key="preset_pick").set_value("vanishing_sigmoid").run()
    assert "dataset" not in _widgets(at) and _query(at, "hide") == ",".join(parse_hide("Data")[0])
    assert any("Vanishing gradients" in i.value for i in at.info)
    assert _query(at, "preset") == "vanishing_sigmoid"  # a copied link shows the note too
    at.select_slider(key="cfg_lr").set_value(0.3).run()  # live change: the note stays
    assert any("Vanishing gradients" in i.value for i in at.info)
    at.slider(key="cfg_depth").set_value(3).run()
    assert not any("Vanishing gradients" in i.value for i in at.info)
    assert _query(at, "preset") is None


# ---- boundaries ----
def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_engine_module_imports_streamlit_or_the_ui():
    modules = sorted((ROOT / "playground").rglob("*.py"))
    assert len(modules) > 10
    for path in modules:
        for name in _imports(path):
            assert name.split(".")[0] not in ("streamlit", "ui"), f"{path.name} imports {name}"


def test_pages_are_thin_and_do_not_import_the_engine_internals():
    for path in sorted((ROOT / "pages").glob("*.py")):
        assert len(path.read_text().splitlines()) <= 150, path.name
        for name in _imports(path):
            assert name not in ("playground.model", "playground.data", "playground.train"), (
                f"{path.name} imports {name}"
            )


def test_no_page_or_panel_reaches_into_the_run():
    for path in [*sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                assert node.attr != "run", f"{path.name} line {node.lineno} touches .run"


def test_metric_tiles_keep_numbers_short():
    from ui.panels import fmt

    assert fmt(1.2813e11) == "1.3e+11" and fmt(0.69312) == "0.6931"
    assert fmt(2.5e-5) == "2.50e-05" and fmt(float("nan")) == "—"


def test_every_setting_is_drawn_by_a_known_widget():
    for setting in SETTINGS:
        assert _kind(setting) in WIDGET_OF or setting.widget == "param", setting.key
    assert SETTING["device"].hideable is False


def test_a_scenario_link_from_home_applies_mid_session_and_plain_navigation_keeps_settings():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    links = [p for p in at.get("page_link") if p.proto.label == PRESETS["tiny_init"].title]
    assert links, "home lists the scenarios"
    at.switch_page(PAGE_NAME).run()
    at.slider(key="cfg_depth").set_value(5).run()
    at.switch_page("pages/home.py").run()
    at.switch_page(PAGE_NAME).run()  # plain navigation: no parameters, settings kept
    assert at.slider(key="cfg_depth").value == 5
    at.switch_page("pages/home.py").run()
    for key, value in PRESETS["tiny_init"].query().items():
        at.query_params[key] = value
    at.switch_page(PAGE_NAME).run()  # as its page link does
    assert not at.exception
    assert at.slider(key="cfg_depth").value == 8
    assert at.selectbox(key="cfg_init").value == "small"
    assert any("Weights too small" in i.value for i in at.info)


def test_play_after_the_sessions_trainer_was_closed_plays_a_live_one():
    """A dropped connection closes the trainer; the buttons drawn before must not reach it."""
    at = open_page(dataset="spiral")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (old,) = [o for o in gc.get_objects() if isinstance(o, Trainer) and not o.closed]
    old.close()  # what the session cache's release does when the websocket goes away
    at.button(key="play").click().run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        live = [o for o in gc.get_objects() if isinstance(o, Trainer) and not o.closed]
    try:
        (new,) = live
        assert new is not old and new.playing
        assert any(b.label == "Pause" for b in at.button)
    finally:
        for trainer in live:
            trainer.close()


def _parent_block(node, key: str):
    """The block that holds the widget with `key` (AppTest's tree has no parent links)."""
    for child in getattr(node, "children", {}).values():
        if getattr(child, "key", None) == key:
            return node
        found = _parent_block(child, key)
        if found is not None:
            return found
    return None


@pytest.mark.usefixtures("fresh_session")
def test_the_controls_share_one_row_that_wraps_only_when_a_screen_is_too_narrow():
    """Columns stack below 640 px (a phone): Play, Step, Reset and Share took a row each."""
    at = open_page()
    row = _parent_block(at._tree, "play")
    flex = row.proto.flex_container
    assert flex.direction == flex.Direction.HORIZONTAL and flex.wrap
    keys = {getattr(c, "key", None) for c in row.children.values()}
    assert {"play", "step", "reset"} <= keys
    assert any(type(c).__name__ == "Block" for c in row.children.values())  # Share's popover


def test_the_dead_unit_warning_offers_cures_the_network_is_not_using():
    from types import SimpleNamespace

    import numpy as np

    from playground.config import RunConfig
    from ui.panels import _dead_warning

    def warn(activation: str, batch_norm: bool = False) -> str | None:
        cfg = RunConfig(activation=activation, depth=2, batch_norm=batch_norm)
        snap = SimpleNamespace(cfg=cfg, info=SimpleNamespace(layer_keys=[activation] * 2))
        return _dead_warning(snap, np.array([0.1, cfg.dead_threshold + 0.2]))

    relu = warn("relu")
    assert relu.startswith("Layer 2 has") and "lower learning rate" in relu
    assert "Leaky ReLU or PReLU or ELU" in relu and "batch norm" in relu
    assert "He" not in relu  # He leaves as many units dead at lr 1.0 (the Dying ReLU lab)
    elu = warn("elu", batch_norm=True)
    assert "ELU" not in elu.replace("Leaky ReLU or PReLU", "") and "batch norm" not in elu
    born = _dead_warning(
        SimpleNamespace(cfg=RunConfig(), info=SimpleNamespace(layer_keys=["relu"] * 2)),
        np.array([0.0, 0.75]),
        np.array([0.0, 0.5]),  # two thirds of them dead since step 0
    )
    assert "since step 0" in born and "lower learning rate" not in born.split("What helps")[1]
    assert born.endswith(".")
    below = _dead_warning(
        SimpleNamespace(cfg=RunConfig(), info=SimpleNamespace(layer_keys=["relu"] * 2)),
        np.array([0.0, 0.01]),
    )
    assert below is None
