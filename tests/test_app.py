"""Page logic through Streamlit's AppTest: widgets -> config, the URL, Step, errors, charts."""

import json
import time

import pandas as pd
import pyarrow as pa
import pytest
from apptools import ROOT, open_page, tile
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.usefixtures("fresh_session")


def _chart(at: AppTest, title: str) -> tuple[dict, dict[str, pd.DataFrame]]:
    """The spec of the chart (or stacked view) with this title, and its datasets decoded
    from Arrow: for a view of a stack, only the ones it draws."""
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        for view in [spec, *spec.get("vconcat", [])]:
            if view.get("title") == title:
                parts = [view, *view.get("layer", [])] if view is not spec else []
                names = {p["data"]["name"] for p in parts if "data" in p}
                return view, {
                    d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas()
                    for d in chart.proto.datasets
                    if not names or d.name in names
                }
    raise AssertionError(f"no chart titled {title!r}")


def test_home_page_links_the_playground():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "Activation Playground" in at.title[0].value
    assert any("why ReLU units die" in m.value for m in at.markdown)


def test_defaults_render_and_are_written_to_the_url():
    at = open_page()
    assert not at.exception
    assert tile(at, "Step") == "0"
    assert at.query_params["v"] == ["1"] or at.query_params["v"] == "1"
    assert at.selectbox(key="cfg_dataset").value == "circle"
    assert len(at.get("vega_lite_chart")) >= 5


def test_link_settings_are_applied_to_the_widgets_and_the_run():
    at = open_page(
        dataset="spiral",
        depth="4",
        activation="relu",
        lr="0.01",
        init="he",
        optimizer="adam",
        batch_size="16",
        data_seed="7",
    )
    assert not at.exception and not at.warning
    assert at.selectbox(key="cfg_dataset").value == "spiral"
    assert at.slider(key="cfg_depth").value == 4
    assert at.selectbox(key="cfg_activation").value == "relu"
    assert at.select_slider(key="cfg_lr").value == 0.01
    assert at.number_input(key="cfg_data_seed").value == 7
    dead = [c for c in at.get("vega_lite_chart") if "Dead" in c.proto.spec]
    assert dead, "ReLU runs show the dead-unit charts"


def test_widget_change_is_written_back_to_the_url():
    at = open_page()
    at.slider(key="cfg_depth").set_value(5).run()
    depth = at.query_params["depth"]
    assert (depth[0] if isinstance(depth, list) else depth) == "5"


def test_bad_link_parameters_fall_back_with_a_notice_and_no_traceback():
    at = open_page(depth="abc", lr="1e9", bogus="1", width="16")
    assert not at.exception
    notes = " ".join(w.value for w in at.warning)
    assert "depth" in notes and "between 1 and 32" in notes
    assert "lr" in notes and "bogus" in notes
    assert at.slider(key="cfg_depth").value == 2  # the default
    assert at.select_slider(key="cfg_width").value == 16  # the good parameter is kept


def test_step_advances_the_run_and_the_charts():
    at = open_page(dataset="circle")
    at.button(key="step").click().run()
    at.button(key="step").click().run()
    assert tile(at, "Step") == "2"
    spec, frames = _chart(at, "Loss")
    (frame,) = frames.values()
    assert spec["data"]["name"] in frames  # the spec names its data by a stable name
    assert sorted(frame["step"].unique()) == [0, 1, 2]  # a probe at step 0 and at each Step
    assert set(frame["split"]) == {"train", "test"}
    shown = frame[frame["split"] == "train"].set_index("step")["value"]
    assert shown[2] == pytest.approx(float(tile(at, "Train loss")), rel=1e-3)


def test_learning_rate_change_keeps_the_run_architecture_change_resets_it():
    at = open_page()
    for _ in range(3):
        at.button(key="step").click().run()
    at.select_slider(key="cfg_lr").set_value(0.1).run()
    assert tile(at, "Step") == "3"
    assert at.query_params["lr"] in ("0.1", ["0.1"])
    at.slider(key="cfg_depth").set_value(3).run()
    assert tile(at, "Step") == "0"


def test_impossible_settings_are_refused_and_the_run_kept():
    at = open_page(batch_size="1")
    at.button(key="step").click().run()
    at.toggle(key="cfg_batch_norm").set_value(True).run()
    errors = " ".join(e.value for e in at.error)
    assert "batch norm needs at least 2" in errors
    assert tile(at, "Step") == "1"


def test_divergence_shows_the_reason_and_what_to_try():
    at = open_page(dataset="plane", activation="relu", optimizer="sgd", lr="10", probe_every="5")
    at.button(key="play").click().run()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not at.error:
        time.sleep(0.3)
        at.run()
    text = " ".join(e.value for e in at.error)
    assert "diverged" in text and "Lower the learning rate" in text
    assert not at.exception


def test_mistaken_pairing_carries_its_warning():
    at = open_page(dataset="blobs", pairing="softmax_ce")
    assert any("Softmax is applied twice" in w.value for w in at.warning)


def test_leaving_and_coming_back_keeps_the_settings():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/1_playground.py").run()
    at.slider(key="cfg_depth").set_value(4).run()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/1_playground.py").run()
    assert not at.exception
    assert at.slider(key="cfg_depth").value == 4


def test_switching_away_from_blobs_and_activation_params_keep_working():
    at = open_page(dataset="blobs", n_classes="5", activation="leaky_relu", alpha="0.2")
    at.selectbox(key="cfg_dataset").set_value("circle").run()
    at.selectbox(key="cfg_activation").set_value("tanh").run()
    at.button(key="step").click().run()
    at.selectbox(key="cfg_activation").set_value("leaky_relu").run()
    assert not at.exception
    assert at.number_input(key="cfg_alpha_leaky_relu").value == 0.2  # remembered
    at.selectbox(key="cfg_dataset").set_value("blobs").run()
    assert at.slider(key="cfg_n_classes").value == 5


def test_display_settings_apply_without_rebuilding():
    at = open_page()
    at.button(key="step").click().run()
    assert _chart(at, "Loss")[0]["encoding"]["y"]["scale"].get("type") != "log"
    at.toggle(key="cfg_log_loss").set_value(True).run()
    assert _chart(at, "Loss")[0]["encoding"]["y"]["scale"]["type"] == "log"
    assert tile(at, "Step") == "1"


def test_link_notice_stays_through_play_and_goes_once_settings_change():
    at = open_page(depth="abc")
    at.button(key="step").click().run()
    assert any("depth" in w.value for w in at.warning)
    at.slider(key="cfg_depth").set_value(3).run()
    assert not any("depth must be" in w.value for w in at.warning)


def _query(at: AppTest, key: str) -> str:
    value = at.query_params[key]
    return value[0] if isinstance(value, list) else value


def test_feature_toggles_drive_the_run_and_the_link():
    at = open_page(dataset="circle", features="x1_sq,x2_sq")
    assert not at.exception and not at.warning
    pills = at.button_group(key="cfg_features")
    assert pills.value == ["x1_sq", "x2_sq"]
    at.button(key="step").click().run()
    pills.set_value(["x1_x2", "x1"]).run()
    assert _query(at, "features") == "x1,x1_x2" and tile(at, "Step") == "0"
    at.button_group(key="cfg_features").set_value([]).run()  # the last one off: kept on
    assert at.button_group(key="cfg_features").value == ["x1", "x1_x2"]
    assert _query(at, "features") == "x1,x1_x2"
    at.selectbox(key="cfg_dataset").set_value("iris").run()
    assert not at.exception
    assert "cfg_features" not in [b.key for b in at.get("button_group")]  # no plane: no toggles


def test_regenerate_draws_new_points_that_the_link_brings_back():
    at = open_page(dataset="xor")
    _, before = _chart(at, "Decision boundary")
    at.button(key="regenerate").click().run()
    seed = _query(at, "data_seed")
    assert seed != "0" and at.number_input(key="cfg_data_seed").value == int(seed)
    _, after = _chart(at, "Decision boundary")
    again = open_page(**{k: _query(at, k) for k in at.query_params})
    _, reopened = _chart(again, "Decision boundary")

    def points(frames: dict) -> pd.DataFrame:
        return next(f for f in frames.values() if "split" in f.columns)[["x1", "x2"]]

    assert not points(before).equals(points(after))
    pd.testing.assert_frame_equal(points(after), points(reopened))


def test_test_points_hide_from_the_map_without_a_rebuild():
    at = open_page(dataset="moons")
    at.button(key="step").click().run()
    at.toggle(key="cfg_show_test").set_value(False).run()
    _, frames = _chart(at, "Decision boundary")
    (shown,) = [f for f in frames.values() if "split" in f.columns]
    assert set(shown["split"]) == {"train"} and tile(at, "Step") == "1"


def test_data_without_a_plane_shows_its_results_on_the_test_set():
    at = open_page(dataset="wine", n_points="178", lr="0.1")
    for _ in range(3):
        at.button(key="step").click().run()
    assert not at.exception
    assert "Results on the test set" in [h.value for h in at.subheader]
    _, frames = _chart(at, "Confusion matrix (test set)")
    (cells,) = frames.values()  # the cells and their counts share one frame
    assert cells["count"].sum() == 178 - 89  # every test row once
    assert set(cells["actual"]) == {"class_0", "class_1", "class_2"}
    _, bars = _chart(at, "Accuracy per class (test set)")
    assert len(next(iter(bars.values()))) == 3
    headings = [h.value for h in at.subheader]
    assert headings.index("Results on the test set") < headings.index("Inside the network")


def test_regression_tables_show_predicted_against_actual_and_2d_data_does_not():
    at = open_page(dataset="diabetes")
    at.button(key="step").click().run()
    _, frames = _chart(at, "Predicted against actual (test set)")
    assert any(len(f) == 221 for f in frames.values())  # 442 rows, half of them test rows
    _chart(at, "Residuals (test set)")
    plane = open_page(dataset="circle")
    assert "Results on the test set" not in [h.value for h in plane.subheader]
