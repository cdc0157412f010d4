"""Chart builders: the data each chart carries, its encodings, and a spec that holds still."""

import base64
import io
import json
import math
import types

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from playground import activations, charts
from playground.data import points_frame

# ---- helpers ----------------------------------------------------------------------------------


def _rows(spec: dict, layer: int | None = None) -> pd.DataFrame:
    """The rows of a chart's dataset (of one layer for layer charts), as a DataFrame.

    A layer without data of its own draws the chart's (Altair lifts data all layers share).
    """
    view = spec if layer is None or "data" not in spec["layer"][layer] else spec["layer"][layer]
    return pd.DataFrame(spec["datasets"][view["data"]["name"]])


def _skeleton(spec: dict) -> str:
    """The spec without its data: datasets dropped, references to them made anonymous."""
    spec = dict(spec)
    spec.pop("datasets", None)

    def strip(node):
        if isinstance(node, dict):
            return {k: {"name": "_"} if k == "data" else strip(v) for k, v in node.items()}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return json.dumps(strip(spec), sort_keys=True)


def _probes(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    steps = np.arange(n, dtype=np.float64) * 10
    return pd.DataFrame(
        {
            "step": steps,
            "epoch": steps / 100,
            "time": steps / 1000,
            "lr": 0.03,
            "train_loss": rng.uniform(0.1, 1.0, n),
            "test_loss": rng.uniform(0.1, 1.0, n),
            "train_metric": rng.uniform(0, 1, n),
            "test_metric": rng.uniform(0, 1, n),
        }
    )


def _layer_frame(n_steps: int, n_layers: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    steps = np.arange(n_steps, dtype=np.float64)
    return pd.DataFrame(
        {
            "step": np.repeat(steps, n_layers),
            "layer": np.tile(np.arange(1, n_layers + 1), n_steps),
            "dead_fraction": rng.uniform(0, 1, n_steps * n_layers),
            "grad_norm": rng.uniform(1e-4, 1, n_steps * n_layers),
            "pre_std": rng.uniform(0.1, 2, n_steps * n_layers),
            "post_std": rng.uniform(0.1, 2, n_steps * n_layers),
        }
    )


def _grid(nx: int, ny: int, task: str, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    out = {
        "x": np.linspace(-2, 2, nx).astype(np.float32),
        "y": np.linspace(-1, 3, ny).astype(np.float32),
        "value": rng.uniform(0, 1, (ny, nx)).astype(np.float32),
    }
    if task == "multiclass":
        out["class"] = rng.integers(0, 3, (ny, nx))
    return out


def _points(task: str, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    if task == "regression":
        y_train, y_test = rng.normal(0, 1, 8), rng.normal(0, 1, 4)
        y_train[0] = 2.3  # the largest |target|: the colour domain becomes +-2.5
    elif task == "multiclass":
        y_train, y_test = np.array([0, 1, 2, 0, 1, 2, 0, 1]), np.array([2, 1, 0, 0])
    else:
        y_train = np.array([0, 1, 0, 1, 0, 1, 0, 1], dtype=np.float32)
        y_test = np.array([1, 0, 1, 0], dtype=np.float32)
    return points_frame(rng.normal(size=(8, 2)), y_train, rng.normal(size=(4, 2)), y_test)


# ---- downsample -------------------------------------------------------------------------------


def test_downsample_keeps_first_and_last_and_caps_rows():
    frame = pd.DataFrame({"step": np.arange(1000), "v": np.arange(1000) * 2.0})
    for cap in (2, 3, 7, 100, 400, 999):
        out = charts.downsample(frame, cap)
        assert len(out) <= cap
        assert out["step"].iloc[0] == 0 and out["step"].iloc[-1] == 999
        assert out["step"].is_monotonic_increasing and out["step"].is_unique
    assert len(charts.downsample(frame, 400)) > 300  # evenly thinned, not collapsed
    steps = charts.downsample(frame, 100)["step"].to_numpy()
    gaps = np.diff(steps[:-1])
    assert gaps.min() == gaps.max()  # an even stride, only the last gap may be shorter


def test_downsample_leaves_short_frames_alone():
    frame = pd.DataFrame({"step": [5.0, 6.0, 7.0]}, index=[10, 11, 12])
    out = charts.downsample(frame, 400)
    assert out["step"].tolist() == [5.0, 6.0, 7.0]
    assert out.index.tolist() == [0, 1, 2]
    assert charts.downsample(frame.iloc[:0]).empty


def test_downsample_picks_the_same_rows_as_a_series_grows():
    """A redrawn line must not shimmer: growing by a row keeps the rows picked before."""
    before = charts.downsample(pd.DataFrame({"step": np.arange(1000)}), 400)["step"]
    after = charts.downsample(pd.DataFrame({"step": np.arange(1001)}), 400)["step"]
    assert set(before.iloc[:-1]) <= set(after)


def test_downsample_rejects_a_cap_below_two():
    with pytest.raises(ValueError):
        charts.downsample(pd.DataFrame({"step": np.arange(10)}), 1)


# ---- loss and metric --------------------------------------------------------------------------


def test_loss_chart_carries_train_and_test_and_drops_nan():
    probes = _probes(5)
    probes.loc[2, "test_loss"] = np.nan
    probes.loc[3, "train_loss"] = np.inf
    spec = charts.loss_chart(probes).to_dict()
    rows = _rows(spec)
    assert sorted(rows.columns) == ["split", "step", "value"]
    assert (rows["split"] == "train").sum() == 4 and (rows["split"] == "test").sum() == 4
    train = rows[rows["split"] == "train"].set_index("step")["value"]
    np.testing.assert_allclose(train.loc[[0.0, 10.0]], probes["train_loss"].iloc[:2])
    enc = _lines_encoding(spec)  # the lines', mostly shared with their dots
    assert enc["x"]["field"] == "step" and enc["y"]["field"] == "value"
    assert enc["color"]["scale"]["domain"] == ["train", "test"]
    assert enc["y"]["scale"].get("type") != "log"
    assert spec["title"] == "Loss"
    assert spec["width"] == "container"
    assert {t["field"] for t in enc["tooltip"]} == {"step", "split", "value"}


def test_loss_chart_log_scale_clips_non_positive_values():
    probes = _probes(4)
    probes.loc[1, "train_loss"] = 0.0
    probes.loc[2, "test_loss"] = -1.0
    spec = charts.loss_chart(probes, log_scale=True).to_dict()
    assert spec["encoding"]["y"]["scale"]["type"] == "log"
    rows = _rows(spec)
    assert len(rows) == 8
    assert rows["value"].min() == charts.LOG_FLOOR > 0


def test_loss_chart_downsamples_long_runs():
    rows = _rows(charts.loss_chart(_probes(5000)).to_dict())
    per_split = rows.groupby("split")["step"]
    assert per_split.size().max() <= 400
    assert (per_split.max() == 49990).all() and (per_split.min() == 0).all()


def test_accuracy_chart_has_a_fixed_percent_axis():
    probes = _probes(6)
    spec = charts.metric_chart(probes, "binary").to_dict()
    y = spec["encoding"]["y"]
    assert y["scale"]["domain"] == [0, 1]
    assert y["axis"]["format"] == "%"
    assert spec["title"] == "Accuracy"
    rows = _rows(spec)
    test = rows[rows["split"] == "test"]["value"].to_numpy()
    np.testing.assert_allclose(test, probes["test_metric"])
    assert charts.metric_chart(probes, "multiclass").to_dict()["encoding"]["y"] == y


def test_r2_chart_tops_out_at_one_and_clips_at_minus_one():
    probes = _probes(4)
    probes["train_metric"] = [-40.0, -0.5, 0.5, 0.9]
    spec = charts.metric_chart(probes, "regression").to_dict()
    assert spec["title"] == "R²"
    scale = spec["encoding"]["y"]["scale"]
    assert scale["domainMax"] == 1 and "domain" not in scale and scale["zero"] is False
    train = _rows(spec).query("split == 'train'")["value"].tolist()
    assert train == [-1.0, -0.5, 0.5, 0.9]


# ---- lone points -------------------------------------------------------------------------------


def _dots(spec: dict, layer: int = 1) -> pd.DataFrame:
    """The dots layer's rows and their opacity, its transforms and opacity scale evaluated
    here: a count and the means of the fields per series, opacity from the count through a
    linear, clamped scale."""
    view = spec["layer"][layer]
    rows = _rows(spec, layer)
    for step in view["transform"]:
        if "aggregate" in step:
            count, *means = step["aggregate"]
            assert count == {"op": "count", "as": "rows"}
            assert all(mean["op"] == "mean" for mean in means)
            groups = rows.groupby(step["groupby"])
            out = {mean["as"]: groups[mean["field"]].mean() for mean in means}
            rows = pd.DataFrame({count["as"]: groups.size(), **out}).reset_index()
        else:  # the lines' own text for the tooltip: kept, unread
            assert step in spec["layer"][0]["transform"]
            rows[step["as"]] = step["calculate"]
    scale = view["encoding"]["opacity"]["scale"]
    assert scale["clamp"] is True
    counts = rows[view["encoding"]["opacity"]["field"]].to_numpy(dtype=float)
    return rows.assign(opacity=np.interp(counts, scale["domain"], scale["range"]))


LINE_CHARTS = {  # every chart of lines over steps, from a run of `n` probes
    "loss": lambda n: charts.loss_chart(_probes(n)),
    "loss-log": lambda n: charts.loss_chart(_probes(n), log_scale=True),
    "accuracy": lambda n: charts.metric_chart(_probes(n), "binary"),
    "r2": lambda n: charts.metric_chart(_probes(n), "regression"),
    "dead": lambda n: charts.layer_lines_chart(
        _layer_frame(n, 3), "dead_fraction", "d", percent=True
    ),
    "std": lambda n: charts.layer_lines_chart(_layer_frame(n, 3), "pre_std", "std"),
    "gradients": lambda n: charts.layer_lines_chart(
        _layer_frame(n, 3), "grad_norm", "g", log_scale=True
    ),
}


@pytest.mark.parametrize("name", LINE_CHARTS)
def test_a_series_with_one_row_is_drawn_as_a_dot_and_longer_ones_as_lines_only(name):
    """At step 0 and after Reset each series has one row, which a line cannot draw."""
    start, later = LINE_CHARTS[name](1).to_dict(), LINE_CHARTS[name](5).to_dict()
    assert _skeleton(start) == _skeleton(later)  # the spec does not depend on the row counts
    lines, dots = start["layer"][:2]
    assert lines["mark"]["type"] == "line" and dots["mark"]["type"] == "point"
    assert dots["mark"]["filled"] is True
    own = lines.get("transform", [])  # the dots start with the lines' steps: done once for both
    assert dots["transform"][: len(own)] == own
    encoding = _lines_encoding(start)
    series = encoding["color"]["field"]
    drawn, rows = _dots(start), _rows(start, 0)
    assert (drawn["opacity"] == 1).all() and len(drawn) == rows[series].nunique()
    columns = list(rows.columns.intersection(drawn.columns))
    pd.testing.assert_frame_equal(
        drawn[columns].sort_values(series, ignore_index=True),
        rows[columns].sort_values(series, ignore_index=True),
        check_dtype=False,
    )  # each series' only row, as it is
    hidden, rows = _dots(later), _rows(later, 0)
    assert (hidden["opacity"] == 0).all()  # five rows a series: lines, no dots to see
    assert len(hidden) == rows[series].nunique()  # never empty: Vega would warn
    for field in ("step", "value"):  # and inside the lines' extent: the axes keep to them
        assert rows[field].min() <= hidden[field].min() <= hidden[field].max() <= rows[field].max()
    # a dot reads as its line: the same place, colour and tooltip (shared at the top or, on a
    # log scale, repeated), all but the x domain, which the lines set (two would draw a
    # conflict warning); the legend shows lines
    dot_encoding = _lines_encoding(start, 1)
    assert dot_encoding.pop("opacity")["field"] == "rows"
    size = dot_encoding.pop("size")  # a hidden dot has no area, so it catches no pointer
    assert size["field"] == "rows" and size["scale"]["clamp"] is True
    assert np.interp([1, 5], size["scale"]["domain"], size["scale"]["range"]).tolist() == [
        charts.base.LONE_POINT_SIZE,
        0,
    ]
    x = dict(encoding["x"])
    assert "domain" in x.pop("scale") and dot_encoding.pop("x") == x
    assert dot_encoding == {k: v for k, v in encoding.items() if k != "x"}
    assert encoding["color"]["legend"]["symbolType"] == "stroke"


@pytest.mark.parametrize("offset", range(5))
def test_test_values_on_every_fifth_probe_keep_their_line_when_thinned(offset):
    """The test set is measured on every 5th probe; a long run must still draw its line."""
    probes = _probes(1800)
    probes.loc[np.arange(1800) % 5 != offset, ["test_loss", "test_metric"]] = np.nan
    for chart in (charts.loss_chart(probes), charts.metric_chart(probes, "binary")):
        frame = _rows(chart.to_dict(), 0)
        test = frame[frame["split"] == "test"]
        assert len(test) == 360 and 300 <= len(frame[frame["split"] == "train"]) <= 400
        measured = probes["step"][np.arange(1800) % 5 == offset]
        assert set(test["step"]) <= set(measured) and test["step"].max() == measured.max()


def test_only_the_series_with_one_row_get_a_dot():
    probes = _probes(20)
    probes.loc[1:, "test_loss"] = np.nan  # a test loss at step 0 only
    probes.loc[2:, "train_loss"] = np.nan  # and a train loss at steps 0 and 10: a line
    spec = charts.loss_chart(probes).to_dict()
    drawn = _dots(spec).query("opacity > 0")
    assert drawn["split"].tolist() == ["test"] and drawn["step"].tolist() == [0.0]
    assert drawn["opacity"].tolist() == [1.0]
    assert drawn["value"].tolist() == [probes["test_loss"].iloc[0]]
    frame = _layer_frame(6, 3)
    frame.loc[(frame["layer"] == 2) & (frame["step"] > 0), "grad_norm"] = 0.0  # zeros: kept
    frame.loc[(frame["layer"] == 3) & (frame["step"] > 0), "grad_norm"] = np.nan  # dropped
    spec = charts.layer_lines_chart(frame, "grad_norm", "g", log_scale=True).to_dict()
    drawn = _dots(spec).query("opacity > 0")
    assert drawn["layer"].tolist() == [3] and drawn["step"].tolist() == [0.0]


# ---- decision boundary ------------------------------------------------------------------------


def test_points_frame_builds_columns_and_splits():
    x_train, x_test = np.arange(10.0).reshape(5, 2), -np.arange(6.0).reshape(3, 2)
    pts = points_frame(x_train, np.array([0, 1, 0, 1, 1]), x_test, np.array([1, 0, 1]))
    assert list(pts.columns) == ["x1", "x2", "label", "split"]
    assert pts["split"].tolist() == ["train"] * 5 + ["test"] * 3
    assert pts["x1"].tolist()[:5] == [0, 2, 4, 6, 8] and pts["x2"].tolist()[5:] == [-1, -3, -5]
    assert pts["label"].tolist() == [0, 1, 0, 1, 1, 1, 0, 1]


def test_points_frame_thins_large_splits():
    x = np.zeros((5000, 2))
    pts = points_frame(x, np.zeros(5000), x[:10], np.zeros(10), max_points=300)
    assert (pts["split"] == "train").sum() <= 300 and (pts["split"] == "test").sum() == 10


POINTS = 3  # the data points' layer in a boundary chart: over the map and its hover layers


def _map(spec: dict) -> tuple[np.ndarray, pd.Series]:
    """The decision map's pixels (top row first) and the plane it covers."""
    row = _rows(spec, 0).iloc[0]
    header = "data:image/png;base64,"
    assert row["url"].startswith(header)
    image = Image.open(io.BytesIO(base64.b64decode(row["url"][len(header) :])))
    return np.asarray(image.convert("RGB")).astype(int), row


def _pixel(pixels: np.ndarray, i: int, j: int) -> np.ndarray:
    """The colour at the centre of grid cell (row i, column j); row 0 is the plane's bottom."""
    up = charts.heatmap.UPSCALE
    return pixels[pixels.shape[0] - 1 - (i * up + up // 2), j * up + up // 2]


def test_map_image_covers_the_grid_cells_and_puts_row_0_at_the_bottom():
    nx, ny = 6, 4  # not square, so a swapped axis would show
    grid = _grid(nx, ny, "binary")
    grid["value"][:] = 0.0
    grid["value"][0, 5] = 1.0  # bottom right: the positive class's blue
    spec = charts.boundary_chart(grid, _points("binary"), "binary", ["a", "b"]).to_dict()
    pixels, row = _map(spec)
    up = charts.heatmap.UPSCALE
    assert pixels.shape == (ny * up, nx * up, 3)
    step_x, step_y = grid["x"][1] - grid["x"][0], grid["y"][1] - grid["y"][0]
    assert (row["x_lo"], row["x_hi"]) == pytest.approx(
        (grid["x"][0] - step_x / 2, grid["x"][-1] + step_x / 2)
    )
    assert (row["y_lo"], row["y_hi"]) == pytest.approx(
        (grid["y"][0] - step_y / 2, grid["y"][-1] + step_y / 2)
    )
    blue, orange = charts.heatmap.hex_rgb(charts.CLASS_1), charts.heatmap.hex_rgb(charts.CLASS_0)
    np.testing.assert_allclose(_pixel(pixels, 0, 5), blue, atol=1)
    np.testing.assert_allclose(pixels[-1, -1], blue, atol=1)  # the image's bottom-right corner
    np.testing.assert_allclose(_pixel(pixels, 3, 5), orange, atol=1)
    np.testing.assert_allclose(pixels[0, -1], orange, atol=1)


def test_binary_map_colour_follows_the_predicted_probability():
    grid = _grid(5, 1, "binary")
    grid["value"][0] = [0.0, 0.25, 0.5, 0.75, 1.0]
    spec = charts.boundary_chart(grid, _points("binary"), "binary", ["no", "yes"]).to_dict()
    pixels, _ = _map(spec)
    colours = [_pixel(pixels, 0, j) for j in range(5)]
    ends = [charts.heatmap.hex_rgb(c) for c in charts.DIVERGING]
    for got, want in zip(colours[::2], ends):
        np.testing.assert_allclose(got, want, atol=1)  # 0, 0.5, 1: the scale's own colours
    blue = charts.heatmap.hex_rgb(charts.CLASS_1)
    # 0.75 lies between white and blue: closer to each end than the other end is
    assert np.abs(colours[3] - blue).sum() < np.abs(ends[1] - blue).sum()
    assert np.abs(colours[3] - ends[1]).sum() < np.abs(ends[1] - blue).sum()
    # the points share the map's scale, so the legend describes both
    image, dots = spec["layer"][0], spec["layer"][POINTS]
    assert image["mark"]["type"] == "image" and image["encoding"]["url"]["field"] == "url"
    scale = dots["encoding"]["color"]["scale"]
    assert scale["domain"] == [0, 1] and scale["range"] == charts.DIVERGING
    assert scale["interpolate"] == "lab" and dots["encoding"]["color"]["title"] == "P(yes)"
    stroke = dots["encoding"]["stroke"]
    assert stroke["field"] == "split" and stroke["scale"]["domain"] == ["train", "test"]
    assert len(set(stroke["scale"]["range"])) == 2  # train and test points look different
    assert spec["width"] == spec["height"] == charts.BOUNDARY_SIZE
    pts = _rows(spec, POINTS)
    assert len(pts) == 12 and set(pts["class"]) == {"no", "yes"}


def test_multiclass_map_colours_by_predicted_class_and_fades_by_confidence():
    grid = _grid(3, 2, "multiclass")
    grid["class"] = np.array([[0, 1, 2], [2, 1, 0]])
    grid["value"] = np.array([[1.0, 1.0, 1.0], [1 / 3, 0.2, 2 / 3]])
    names = ["red", "green", "blue"]
    spec = charts.boundary_chart(grid, _points("multiclass"), "multiclass", names).to_dict()
    pixels, _ = _map(spec)
    low, high = charts.CONFIDENCE_OPACITY
    for i in range(2):
        for j in range(3):
            colour = charts.heatmap.hex_rgb(charts.CLASS_PALETTE[grid["class"][i, j]])
            t = np.clip((grid["value"][i, j] - 1 / 3) / (2 / 3), 0, 1)
            alpha = low + t * (high - low)
            want = colour * alpha + 255 * (1 - alpha)  # over the white background
            np.testing.assert_allclose(_pixel(pixels, i, j), want, atol=1)
    dots = spec["layer"][POINTS]
    assert dots["encoding"]["color"]["scale"]["domain"] == names
    pts = _rows(spec, POINTS)
    assert pts["class"].tolist() == np.asarray(names)[pts["label"].astype(int)].tolist()


def test_regression_map_is_clamped_to_a_symmetric_scale_sized_by_the_targets():
    grid = _grid(3, 1, "regression")
    grid["value"][0] = [-9.0, 0.0, 9.0]  # beyond the +-2.5 the targets give: clamped
    spec = charts.boundary_chart(grid, _points("regression"), "regression", []).to_dict()
    pixels, _ = _map(spec)
    for j, colour in enumerate(charts.DIVERGING):
        np.testing.assert_allclose(_pixel(pixels, 0, j), charts.heatmap.hex_rgb(colour), atol=1)
    scale = spec["layer"][POINTS]["encoding"]["color"]["scale"]
    assert scale["domain"] == [-2.5, 2.5] and scale["domainMid"] == 0 and scale["clamp"] is True


def test_discretised_map_colours_the_decision_and_keeps_the_readings():
    grid = _grid(4, 1, "binary")
    grid["value"][0] = [0.1, 0.45, 0.55, 0.9]
    spec = charts.boundary_chart(grid, _points("binary"), "binary", ["no", "yes"], discrete=True)
    pixels, row = _map(spec.to_dict())
    orange, blue = (charts.heatmap.hex_rgb(c) for c in (charts.CLASS_0, charts.CLASS_1))
    for j, want in enumerate([orange, orange, blue, blue]):
        np.testing.assert_allclose(_pixel(pixels, 0, j), want, atol=1)
    assert row["readings"].split("\n") == ["0.10", "0.45", "0.55", "0.90"]  # the output itself
    grid = _grid(3, 1, "regression")
    grid["value"][0] = [-0.2, 0.0, 0.3]
    spec = charts.boundary_chart(grid, _points("regression"), "regression", [], discrete=True)
    pixels, _ = _map(spec.to_dict())
    ends = [charts.heatmap.hex_rgb(c) for c in charts.DIVERGING]
    for j, want in enumerate(ends):
        np.testing.assert_allclose(_pixel(pixels, 0, j), want, atol=1)


def test_test_points_can_be_left_off_the_map():
    points = _points("binary")
    assert set(points["split"]) == {"train", "test"}
    spec = charts.boundary_chart(_grid(3, 3, "binary"), points, "binary", [], show_test=False)
    shown = _rows(spec.to_dict(), POINTS)
    assert set(shown["split"]) == {"train"}
    assert len(shown) == (points["split"] == "train").sum()


def _layer_named(spec: dict, name: str) -> tuple[dict, pd.DataFrame]:
    """The boundary chart's layer with this name, and its rows."""
    (index,) = [k for k, view in enumerate(spec["layer"]) if view.get("name") == name]
    return spec["layer"][index], _rows(spec, index)


def _evaluate(expr: str, datum: dict, selections: dict[str, dict]) -> object:
    """A Vega expression of the kinds the map's label uses, evaluated in Python: the two share
    the syntax of string literals, indexing, `%`, `/` and `+`, so Vega's functions suffice.
    A selection's name stands for its value, {field: [stored values]}, as in Vega-Lite."""
    names = {
        "split": lambda text, sep: text.split(sep),
        "toNumber": float,
        "floor": math.floor,
        "isValid": lambda value: value is not None,
        "datum": types.SimpleNamespace(**datum),
    }
    names.update({name: types.SimpleNamespace(**value) for name, value in selections.items()})
    return eval(expr, {"__builtins__": {}}, names)


def _hover(spec: dict, x: float, y: float) -> tuple[list[int], list[str], list[tuple]]:
    """What the map shows with the pointer at (x, y), its selections evaluated here.

    The pointer enters the block there (its row sets the block selection), then the cell there
    among the cells the block lets through (the cell selection); returns the cells outlined, and
    each label layer's text and place. Selections store a row's fields, filters and conditions
    test rows against them: as Vega-Lite's point selections do.
    """
    params = {param["name"]: param for param in spec["params"]}
    for param in params.values():  # one block and one cell at a time, shift held or not
        assert param["select"]["on"] == "pointerover" and param["select"]["toggle"] is False
    _, blocks = _layer_named(spec, "blocks")
    inside = (
        (blocks["x_lo"] <= x) & (x < blocks["x_hi"]) & (blocks["y_lo"] <= y) & (y < blocks["y_hi"])
    )
    (block,) = blocks.loc[inside, "block"]
    cells_view, cells = _layer_named(spec, "cells")
    (keep,) = [t["filter"] for t in cells_view["transform"]]
    assert params[keep["param"]]["views"] == ["blocks"] and keep["empty"] is False
    cells = cells[cells[params[keep["param"]]["select"]["fields"][0]] == block]  # its cells only
    assert 0 < len(cells) <= 16
    inside = (cells["x_lo"] <= x) & (x < cells["x_hi"]) & (cells["y_lo"] <= y) & (y < cells["y_hi"])
    (cell,) = cells.loc[inside, "cell"]
    condition = cells_view["encoding"]["strokeOpacity"]["condition"]
    hover = params[condition["param"]]  # the cell selection: made on this layer, gone on leaving
    assert hover["views"] == ["cells"] and hover["select"]["clear"] == "pointerout"
    (field,) = hover["select"]["fields"]
    stored = {condition["param"]: {field: [cell]}}
    outlined = cells.loc[cells[field].isin(stored[condition["param"]][field]), "cell"].tolist()
    assert condition["value"] == 1 and cells_view["encoding"]["strokeOpacity"]["value"] == 0
    texts, places = [], []
    for view in spec["layer"]:
        if view["mark"]["type"] != "text":
            continue
        (datum,) = _rows(spec, spec["layer"].index(view)).to_dict("records")
        for step in view["transform"]:
            if "filter" in step:
                assert _evaluate(step["filter"], datum, stored)
            else:
                datum[step["as"]] = _evaluate(step["calculate"], datum, stored)
        enc = view["encoding"]
        texts.append(datum[enc["text"]["field"]])
        places.append((datum[enc["x"]["field"]], datum[enc["y"]["field"]]))
    return outlined, texts, places


def test_map_hover_outlines_and_labels_the_cell_under_the_pointer_with_its_output():
    nx, ny = 9, 6  # not multiples of the 4 x 4 blocks: edge blocks are smaller
    grid = _grid(nx, ny, "binary")
    spec = charts.boundary_chart(grid, _points("binary"), "binary", ["no", "yes"]).to_dict()
    _, blocks = _layer_named(spec, "blocks")
    assert len(blocks) == 3 * 2
    _, cells = _layer_named(spec, "cells")
    assert len(cells) == nx * ny
    for _, cell in cells.iterrows():
        cx, cy = (cell["x_lo"] + cell["x_hi"]) / 2, (cell["y_lo"] + cell["y_hi"]) / 2
        (j,) = np.flatnonzero(np.isclose(grid["x"], cx, atol=1e-5))  # the centre: a grid point
        (i,) = np.flatnonzero(np.isclose(grid["y"], cy, atol=1e-5))
        outlined, texts, places = _hover(spec, cx, cy)
        assert outlined == [cell["cell"]]
        assert texts == [f"P(yes) = {grid['value'][i, j]:.2f}"] * 2  # halo and text
        assert places == [pytest.approx((cx, cell["y_hi"]))] * 2  # centred above the cell
    near_corner = _hover(spec, float(cells["x_lo"].min()) + 1e-3, float(cells["y_hi"].max()) - 1e-3)
    assert near_corner[1][0] == f"P(yes) = {grid['value'][-1, 0]:.2f}"  # top-left: last row


def test_map_hover_says_the_class_and_confidence_or_the_prediction():
    grid = _grid(3, 2, "multiclass")
    grid["class"] = np.array([[0, 1, 2], [2, 2, 0]])
    grid["value"] = np.array([[0.9, 0.55, 0.4], [1.0, 0.876, 0.5]])
    names = ["red", "green", "blue"]
    spec = charts.boundary_chart(grid, _points("multiclass"), "multiclass", names).to_dict()
    got = [_hover(spec, grid["x"][j], grid["y"][i])[1][0] for i, j in np.ndindex(2, 3)]
    assert got == [
        "red (90%)",
        "green (55%)",
        "blue (40%)",
        "blue (100%)",
        "blue (88%)",
        "red (50%)",
    ]
    grid = _grid(3, 1, "regression")
    grid["value"][0] = [-9.0, 0.25, 1.5]  # beyond the colour scale's +-2.5: read as it is
    spec = charts.boundary_chart(grid, _points("regression"), "regression", []).to_dict()
    assert [_hover(spec, grid["x"][j], grid["y"][0])[1][0] for j in range(3)] == [
        "prediction = \u22129.000",  # a minus sign, as the axes write it
        "prediction = 0.250",
        "prediction = 1.500",
    ]
    quoted = ["no", 'it\'s "yes"']  # a class name in the label's expression stays a string
    grid = _grid(2, 1, "binary")
    spec = charts.boundary_chart(grid, _points("binary"), "binary", quoted).to_dict()
    assert _hover(spec, grid["x"][0], grid["y"][0])[1][0].startswith('P(it\'s "yes") = ')


def test_map_hover_costs_the_page_next_to_nothing_a_refresh():
    """Between two refreshes of a run only the map's one row changes: the hover's blocks and
    cells and the points keep their bytes (the page then leaves them alone), and the axes are
    written into the spec, so no mark on them is encoded anew for a new map."""
    points = _points("binary")
    specs = [
        charts.vega_spec(charts.boundary_chart(_grid(40, 40, "binary", s), points, "binary", []))
        for s in (0, 1)
    ]
    layers = specs[0]["layer"]
    frames = [
        {v["data"]["name"]: spec["datasets"][v["data"]["name"]] for v in layers} for spec in specs
    ]
    names = [view["data"]["name"] for view in layers]
    changed = [n for n in frames[0] if not frames[0][n].equals(frames[1][n])]
    assert changed == [names[0]] and len(frames[0][names[0]]) == 1  # the map's row, alone
    assert [len(frames[0][n]) for n in names[1:4]] == [100, 1600, len(points)]  # blocks, cells
    assert [view["mark"]["type"] for view in layers] == [
        "image",
        "rect",
        "rect",
        "point",
        "text",
        "text",
    ]
    assert names[-2:] == [names[0]] * 2  # the label reads the map's row
    assert (
        "tooltip" in layers[POINTS]["encoding"]
    )  # over the hover layers: a point shows its own tooltip
    for view in layers[4:]:  # the label: over the points, but it takes no pointer events
        assert "tooltip" not in view["encoding"] and "params" not in view
    # the axes hold the grid's cells and the points, fixed in the spec
    edges = frames[0][names[2]]
    for channel, lo, hi, column in (("x", "x_lo", "x_hi", "x1"), ("y", "y_lo", "y_hi", "x2")):
        want = [
            min(edges[lo].min(), points[column].min()),
            max(edges[hi].max(), points[column].max()),
        ]
        for view in layers:
            assert view["encoding"][channel]["scale"]["domain"] == pytest.approx(want)


# The pixels Vega itself drew (vl-convert 1.9, i.e. d3's interpolateLab) for rects coloured by
# the binary map's scale at these values: the server-drawn map must agree with the legend.
VEGA_DREW = {
    0.1: (247, 165, 81),
    0.25: (247, 191, 139),
    0.4: (240, 217, 196),
    0.6: (197, 210, 226),
    0.9: (83, 141, 199),
}


def test_map_colours_are_the_ones_vega_draws_for_the_legends_scale():
    values = np.array(list(VEGA_DREW))
    got = charts.heatmap.diverging(values, 0.0, 1.0, charts.DIVERGING)
    np.testing.assert_allclose(got, np.array(list(VEGA_DREW.values())), atol=1)


# ---- histograms -------------------------------------------------------------------------------


def _hist(n_layers: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_layers):
        edges = np.linspace(-1 - i, 1 + i, 31)
        out.append((edges, rng.integers(0, 100, 30).astype(np.float64)))
    return out


def test_histogram_preserves_counts_and_bins_per_layer():
    hist = _hist(3)
    spec = charts.histogram_chart(hist, "Pre-activations", ["relu", "relu", "tanh"]).to_dict()
    rows = pd.DataFrame(spec["datasets"][spec["data"]["name"]])
    assert len(rows) == 90
    for i, (edges, counts) in enumerate(hist):
        layer = rows[rows["layer"] == i + 1]
        np.testing.assert_allclose(layer["count"], counts)
        np.testing.assert_allclose(layer["start"], edges[:-1])
        np.testing.assert_allclose(layer["end"], edges[1:])
    assert rows.groupby("layer")["name"].first().tolist() == [
        "layer 1 · relu",
        "layer 2 · relu",
        "layer 3 · tanh",
    ]
    enc = spec["spec"]["encoding"]
    assert (enc["x"]["field"], enc["x2"]["field"], enc["y"]["field"]) == ("start", "end", "count")
    assert spec["facet"]["field"] == "name" and spec["columns"] == 4
    assert spec["facet"]["sort"]["field"] == "layer"  # layer 10 after layer 9, not after 1
    assert spec["resolve"]["scale"]["x"] == "independent"
    assert spec["title"] == "Pre-activations"


def test_histogram_headers_default_to_layer_numbers_and_drop_broken_bins():
    hist = _hist(2)
    hist[1][1][3] = np.nan
    spec = charts.histogram_chart(hist, "Activations").to_dict()
    rows = pd.DataFrame(spec["datasets"][spec["data"]["name"]])
    assert len(rows) == 59
    assert sorted(set(rows["name"])) == ["layer 1", "layer 2"]
    # a label that is already a full header is kept as it is
    spec = charts.histogram_chart(hist, "Activations", ["layer 1 · relu", "elu"]).to_dict()
    rows = pd.DataFrame(spec["datasets"][spec["data"]["name"]])
    assert sorted(set(rows["name"])) == ["layer 1 · relu", "layer 2 · elu"]


def _kinds(spec: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A histogram's regular bins and its exact-zero rows."""
    rows = pd.DataFrame(spec["datasets"][spec["data"]["name"]])
    return rows[rows["kind"] == "other values"], rows[rows["kind"] == "exactly 0"]


def test_histogram_gives_exact_zeros_a_bar_of_their_own():
    hist = _hist(3)
    hist[0] = (np.linspace(0.0, 3.0, 31), hist[0][1])  # a ReLU layer: bins start at 0
    zeros = np.array([120.0, 0.0, 7.0])
    spec = charts.histogram_chart(hist, "Activations", ["relu"] * 3, zeros=zeros).to_dict()
    bins, zero = _kinds(spec)
    assert len(bins) == 90 and len(zero) == 2  # one row per layer with a zero count
    assert zero["layer"].tolist() == [1, 3] and zero["count"].tolist() == [120.0, 7.0]
    assert zero["name"].tolist() == ["layer 1 · relu", "layer 3 · relu"]
    np.testing.assert_allclose(bins[bins["layer"] == 2]["count"], hist[1][1])
    # one bin wide, beside the bins when they start at 0 (as ReLU's do), over them otherwise
    for _, row in zero.iterrows():
        edges = hist[row["layer"] - 1][0]
        width = edges[1] - edges[0]
        if edges[0] >= 0:
            assert (row["start"], row["end"]) == pytest.approx((edges[0] - width, edges[0]))
        else:
            assert (row["start"], row["end"]) == pytest.approx((-width / 2, width / 2))
    assert zero.index.min() > bins.index.max()  # drawn last, so on top
    assert set(zero["range"]) == {"exactly 0"} and bins["range"].iloc[0] == "0 to 0.1"
    bars = spec["spec"]
    assert bars["mark"]["type"] == "rect" and "transform" not in bars  # one mark, no filter
    color = bars["encoding"]["color"]
    assert color["field"] == "kind" and color["scale"]["domain"] == charts.HIST_KINDS
    assert len(set(color["scale"]["range"])) == 2


def test_histogram_spec_is_the_same_with_and_without_zeros_present():
    hist = _hist(2)
    none = charts.histogram_chart(hist, "Activations", zeros=np.zeros(2)).to_dict()
    some = charts.histogram_chart(hist, "Activations", zeros=np.array([0.0, 3.0])).to_dict()
    assert _kinds(none)[1].empty and _kinds(some)[1]["count"].tolist() == [3.0]
    assert _skeleton(none) == _skeleton(some)


def test_histogram_zero_counts_must_match_the_layers():
    with pytest.raises(ValueError, match="3 counts for 2 layers"):
        charts.histogram_chart(_hist(2), "Activations", zeros=np.ones(3))


# ---- per-layer lines and shares --------------------------------------------------------------


def test_layer_lines_drop_nan_and_colour_layers_by_depth():
    frame = _layer_frame(4, 3)
    frame.loc[frame["layer"] == 2, "dead_fraction"] = np.nan  # e.g. an ELU layer: no dead rule
    spec = charts.layer_lines_chart(frame, "dead_fraction", "Dead units", percent=True).to_dict()
    rows = _rows(spec)
    assert len(rows) == 8 and set(rows["layer"]) == {1, 3}
    assert rows["value"].notna().all()
    enc = spec["encoding"]
    assert enc["color"]["field"] == "layer" and enc["color"]["type"] == "ordinal"
    # every layer keeps its colour, the missing layer 2 included: layer 3 is not given 2's
    assert enc["color"]["scale"]["domain"] == [1, 2, 3]
    assert enc["color"]["scale"]["range"] == charts.depth_colors(3)
    assert enc["y"]["scale"]["domain"] == [0, 1] and enc["y"]["axis"]["format"] == "%"
    assert spec["title"] == "Dead units"


def test_layer_lines_log_scale_puts_exact_zeros_on_a_band_below_the_data():
    frame = _layer_frame(5, 2)
    frame.loc[0, "grad_norm"] = 0.0
    frame.loc[3, "grad_norm"] = -1.0  # no measure is negative: dropped
    frame.loc[5, "grad_norm"] = np.nan  # does not apply: dropped
    smallest = frame["grad_norm"][frame["grad_norm"] > 0].min()
    spec = charts.layer_lines_chart(frame, "grad_norm", "Gradient norms", log_scale=True)
    spec = spec.to_dict()
    lines, _, band, label = spec["layer"]
    assert lines["encoding"]["y"]["scale"]["type"] == "log"
    rows = _rows(spec, 0)
    assert len(rows) == 8 and (rows["value"] > 0).all()
    floor = 0.5 * 10.0 ** (np.floor(np.log10(smallest)) - 1)
    zeros = rows[rows["zero"]]
    assert len(zeros) == 1 and zeros.iloc[0]["step"] == 0 and zeros.iloc[0]["value"] == floor
    assert smallest / 200 < floor < smallest / 5  # below the data, not far below
    assert _rows(spec, 2)["floor"].tolist() == [floor] and _rows(spec, 2)["visible"].tolist() == [1]
    assert _rows(spec, 3)["step"].tolist() == [4.0]  # its label at the last step
    assert (
        band["encoding"]["opacity"]
        == label["encoding"]["opacity"]
        == {"field": "visible", "scale": None, "type": "quantitative"}
    )
    assert label["encoding"]["text"]["value"].startswith("exactly 0")
    assert "exactly 0" in lines["transform"][0]["calculate"]  # the tooltip says so too


def test_layer_legends_take_a_column_per_ten_layers():
    for n_layers, columns in ((4, 1), (10, 1), (12, 2), (32, 4)):
        spec = charts.layer_lines_chart(_layer_frame(3, n_layers), "pre_std", "std").to_dict()
        legend = spec["encoding"]["color"]["legend"]
        assert legend["columns"] == columns and legend["symbolLimit"] == 0


def _lab(colours: list[str]) -> np.ndarray:
    """'#rrggbb' (sRGB) -> CIELAB under D65."""
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colours]) / 255
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    )
    xyz = linear @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], -1)


def _ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """Colour difference CIEDE2000 (Sharma, Wu and Dalal 2005), row by row.

    Not the simpler CIE76 distance: it overstates differences between greens, and rates the
    greens of layers 9 to 12 under the old viridis, which readers could not tell apart, as far
    apart as any other pair.
    """
    (l1, a1, b1), (l2, a2, b2) = lab1.T, lab2.T
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7)))
    a1, a2 = a1 * (1 + g), a2 * (1 + g)
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1, h2 = np.degrees(np.arctan2(b1, a1)) % 360, np.degrees(np.arctan2(b2, a2)) % 360
    dh = (h2 - h1 + 180) % 360 - 180
    dh = np.where(c1 * c2 == 0, 0, dh)
    d_l, d_c, d_h = l2 - l1, c2 - c1, 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))
    l_mean, c_mean = (l1 + l2) / 2, (c1 + c2) / 2
    h_mean = np.where(np.abs(h1 - h2) > 180, (h1 + h2 + 360) / 2, (h1 + h2) / 2) % 360
    h_mean = np.where(c1 * c2 == 0, h1 + h2, h_mean)
    t = (
        1
        - 0.17 * np.cos(np.radians(h_mean - 30))
        + 0.24 * np.cos(np.radians(2 * h_mean))
        + 0.32 * np.cos(np.radians(3 * h_mean + 6))
        - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    )
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_mean, 1 + 0.015 * c_mean * t
    r_c = 2 * np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7))
    r_t = -np.sin(np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2)))) * r_c
    terms = (d_l / s_l, d_c / s_c, d_h / s_h)
    return np.sqrt(terms[0] ** 2 + terms[1] ** 2 + terms[2] ** 2 + r_t * terms[1] * terms[2])


def test_ciede2000_matches_the_published_test_pairs():
    pairs = [  # Sharma, Wu and Dalal (2005), table 1: pairs 1, 7, 17 and 34
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ]
    first, second, want = (np.array(column) for column in zip(*pairs, strict=True))
    np.testing.assert_allclose(_ciede2000(first, second), want, atol=1e-4)


# viridis over [0, 0.85] at 12 layers, the colours Vega gave layers 1 to 12 before
OLD_DEPTH_12 = [
    "#481a6c", "#472e7c", "#414387", "#3a558c", "#32668e", "#2b768e",
    "#24868e", "#20968c", "#21a585", "#31b47b", "#4dc26c", "#71cf57",
]  # fmt: skip


def _lines_encoding(spec: dict, layer: int = 0) -> dict:
    """A layer's encodings, those it shares with the other layers (at the top) included."""
    return {**spec.get("encoding", {}), **spec["layer"][layer].get("encoding", {})}


def _layer_colours(spec: dict) -> dict[int, str]:
    """The colour each layer gets in a per-layer line chart: its scale's domain and range."""
    scale = _lines_encoding(spec)["color"]["scale"]
    return dict(zip(scale["domain"], scale["range"], strict=True))


def test_neighbouring_layers_stay_apart_up_to_12_layers_and_run_dark_to_light():
    assert _ciede2000(_lab(OLD_DEPTH_12[:-1]), _lab(OLD_DEPTH_12[1:])).min() < 7  # the report
    for n in range(2, 13):
        for log_scale in (False, True):
            chart = charts.layer_lines_chart(_layer_frame(3, n), "grad_norm", "g", log_scale)
            colours = _layer_colours(chart.to_dict())
            assert list(colours) == list(range(1, n + 1))  # legend and colours in depth order
            lab = _lab(list(colours.values()))
            assert (np.diff(lab[:, 0]) > 3).all()  # shallow dark, deep light
            assert _ciede2000(lab[:-1], lab[1:]).min() > 10, n
    # the lightest still shows as a line on white
    assert _lab(charts.depth_colors(12))[:, 0].max() < 80


def test_a_layer_has_the_same_colour_in_every_chart_of_a_network():
    frame = _layer_frame(4, 5)
    frame.loc[frame["layer"] == 2, "dead_fraction"] = np.nan  # no data for layer 2 here
    specs = [
        charts.layer_lines_chart(frame, "dead_fraction", "d", percent=True).to_dict(),
        charts.layer_lines_chart(frame, "grad_norm", "g", log_scale=True).to_dict(),
        charts.layer_lines_chart(frame, "pre_std", "s").to_dict(),
    ]
    assert set(_rows(specs[0])["layer"]) == {1, 3, 4, 5}
    first = _layer_colours(specs[0])
    assert all(_layer_colours(spec) == first for spec in specs[1:])
    assert len(set(first.values())) == 5


def test_log_scale_draws_no_zero_band_when_nothing_is_zero():
    """The band is hidden, not left out (Vega warns of an empty layer at every redraw), and
    sits on the data so that the axis keeps to them."""
    frame = _layer_frame(5, 2)
    spec = charts.layer_lines_chart(frame, "grad_norm", "g", log_scale=True).to_dict()
    lines = _rows(spec, 0)
    assert not lines["zero"].any()
    for layer in (2, 3):  # the band and its label
        (row,) = _rows(spec, layer).to_dict("records")
        assert row["visible"] == 0 and row["floor"] == lines["value"].min()
    assert _rows(spec, 3)["step"].tolist() == [lines["step"].max()]


def test_log_axis_labels_use_one_style_per_decade_range():
    spec = charts.layer_lines_chart(_layer_frame(3, 1), "grad_norm", "g", log_scale=True)
    expr = spec.to_dict()["layer"][0]["encoding"]["y"]["axis"]["labelExpr"]
    assert "'.0e'" in expr and "'~g'" in expr


def test_log_scale_spec_is_the_same_with_and_without_zeros():
    frame = _layer_frame(5, 2)
    some = frame.copy()
    some.loc[0, "grad_norm"] = 0.0
    a = charts.layer_lines_chart(frame, "grad_norm", "g", log_scale=True).to_dict()
    b = charts.layer_lines_chart(some, "grad_norm", "g", log_scale=True).to_dict()
    assert _skeleton(a) == _skeleton(b)


def test_layer_lines_thin_by_step_and_keep_every_layer_of_a_kept_step():
    spec = charts.layer_lines_chart(_layer_frame(2000, 4), "grad_norm", "Gradient norms")
    rows = _rows(spec.to_dict())
    per_step = rows.groupby("step")["layer"].count()
    assert len(per_step) <= charts.MAX_STEPS
    assert (per_step == 4).all()
    assert rows["step"].min() == 0 and rows["step"].max() == 1999


def test_share_chart_marks_exactly_the_bars_above_the_threshold():
    values = np.array([0.1, 0.5, np.nan, 0.25, 0.9])
    spec = charts.layer_share_chart(values, 0.25, "Dead units now", ["relu"] * 5).to_dict()
    bars, rule, said = spec["layer"]
    rows = _rows(spec, 0)
    assert rows["layer"].tolist() == [1, 2, 4, 5]  # the NaN layer is left out
    assert rows["state"].tolist() == ["ok", "over", "ok", "over"]  # 0.25 is not above 0.25
    assert rows["name"].tolist()[0] == "layer 1 · relu"
    color = bars["encoding"]["color"]
    assert color["field"] == "state"
    assert color["scale"]["domain"] == ["ok", "over"]
    assert color["scale"]["range"] == [charts.CALM, charts.WARNING]
    assert bars["encoding"]["x"]["scale"]["domain"] == [0, 1]
    assert bars["encoding"]["x"]["axis"]["format"] == "%"
    assert rule["mark"]["type"] == "rule"
    assert _rows(spec, 1)["threshold"].tolist() == [0.25]
    assert said["mark"]["type"] == "text" and said["encoding"]["x"]["field"] == "threshold"
    assert _rows(spec, 2)["label"].tolist() == ["warning 25%"]  # the dashed line is named


def test_a_share_without_a_threshold_has_no_warning_and_no_line():
    # resting units are not a fault: their bars stay calm whatever their share
    spec = charts.layer_share_chart(np.array([0.1, 0.9]), None, "Resting now").to_dict()
    assert _rows(spec, 0)["state"].tolist() == ["ok", "ok"]
    assert _rows(spec, 1).empty and _rows(spec, 2).empty


def test_share_chart_splits_dead_from_step_0_and_died_in_training():
    values, from_start = np.array([0.5, 0.25]), np.array([0.125, 0.25])
    spec = charts.layer_share_chart(values, 0.3, "Dead now", from_start=from_start).to_dict()
    rows = _rows(spec, 0)
    assert rows["layer"].tolist() == [1, 1, 2, 2]
    assert rows["part"].tolist() == charts.PARTS * 2
    assert rows["share"].tolist() == [0.125, 0.375, 0.25, 0.0]
    assert rows["from_start"].tolist() == [0.125, 0.125, 0.25, 0.25]  # both shares in each tip
    assert rows["in_training"].tolist() == [0.375, 0.375, 0.0, 0.0]
    assert rows["value"].tolist() == [0.5, 0.5, 0.25, 0.25]
    assert rows["state"].tolist() == ["over", "over", "ok", "ok"]
    enc = spec["layer"][0]["encoding"]
    assert enc["x"]["field"] == "share" and enc["x"]["stack"] == "zero"
    assert enc["x"]["scale"]["domain"] == [0, 1]
    assert enc["order"]["field"] == "order" and rows["order"].tolist() == [0, 1, 0, 1]
    assert enc["opacity"]["field"] == "part"
    assert enc["opacity"]["scale"]["domain"] == charts.PARTS
    assert len(set(enc["opacity"]["scale"]["range"])) == 2
    assert enc["color"]["scale"]["range"] == [charts.CALM, charts.WARNING]
    tips = {t["field"] for t in enc["tooltip"]}
    assert {"name", "value", "from_start", "in_training"} <= tips


def test_share_chart_split_leaves_out_nan_layers_and_clips_from_start():
    values, from_start = np.array([0.5, np.nan, 0.25]), np.array([0.75, 0.5, np.nan])
    spec = charts.layer_share_chart(values, 0.3, "Dead now", from_start=from_start).to_dict()
    rows = _rows(spec, 0)
    assert rows["layer"].tolist() == [1, 1, 3, 3]
    assert rows["share"].tolist() == [0.5, 0.0, 0.0, 0.25]  # at most the bar; NaN counts as 0
    with pytest.raises(ValueError, match="1 shares for 3 layers"):
        charts.layer_share_chart(values, 0.3, "Dead now", from_start=np.zeros(1))


# ---- spec stability ---------------------------------------------------------------------------


def _pair(build) -> tuple[dict, dict]:
    """Two charts' specs; `to_dict` validates each against the Vega-Lite schema."""
    return build(0).to_dict(), build(1).to_dict()


BUILDERS = {
    "loss": lambda s: charts.loss_chart(_probes(30 + 500 * s, seed=s)),
    "loss-log": lambda s: charts.loss_chart(_probes(30 + 500 * s, seed=s), log_scale=True),
    "accuracy": lambda s: charts.metric_chart(_probes(30 + 9 * s, seed=s), "binary"),
    "r2": lambda s: charts.metric_chart(_probes(30 + 9 * s, seed=s) * 4 - 3, "regression"),
    # a run's grid axes and points stay put while the map's values change
    "binary": lambda s: charts.boundary_chart(
        _grid(5, 5, "binary", s), _points("binary"), "binary", ["a", "b"]
    ),
    "multiclass": lambda s: charts.boundary_chart(
        _grid(5, 5, "multiclass", s), _points("multiclass"), "multiclass", ["a", "b", "c"]
    ),
    "regression": lambda s: charts.boundary_chart(
        _grid(5, 5, "regression", s), _points("regression"), "regression", []
    ),
    "histogram": lambda s: charts.histogram_chart(_hist(2 + 3 * s, s), "Activations"),
    "histogram-zeros": lambda s: charts.histogram_chart(
        _hist(2 + 3 * s, s),
        "Activations",
        zeros=np.arange(2 + 3 * s) * s,  # none, then some
    ),
    "lines": lambda s: charts.layer_lines_chart(
        _layer_frame(10 + 700 * s, 3, s), "grad_norm", "Gradient norms", log_scale=True
    ),
    "lines-step-0": lambda s: charts.layer_lines_chart(  # a lone point, then lines
        _layer_frame(1 + 9 * s, 3, s), "dead_fraction", "Dead units", percent=True
    ),
    "share": lambda s: charts.layer_share_chart(
        np.random.default_rng(s).uniform(0, 1, 3 + s), 0.2 + 0.3 * s, "Saturated units now"
    ),
    "share-split": lambda s: charts.layer_share_chart(
        np.full(3 + s, 0.5), 0.2 + 0.3 * s, "Dead now", from_start=np.full(3 + s, 0.25 * s)
    ),
}


@pytest.mark.parametrize("name", BUILDERS)
def test_spec_is_identical_when_only_the_data_changes(name):
    first, second = _pair(BUILDERS[name])
    assert first["datasets"] != second["datasets"]
    assert _skeleton(first) == _skeleton(second)


def test_a_new_chart_leaves_earlier_charts_data_alone():
    """Builders reuse a cached skeleton: each call must still get its own data."""
    first = charts.loss_chart(_probes(5, seed=1))
    first_rows = _rows(first.to_dict())
    second = charts.loss_chart(_probes(7, seed=2))
    assert len(_rows(second.to_dict())) == 14
    pd.testing.assert_frame_equal(_rows(first.to_dict()), first_rows)
    a = charts.boundary_chart(_grid(3, 3, "binary"), _points("binary"), "binary", ["a", "b"])
    b = charts.boundary_chart(_grid(4, 4, "binary"), _points("binary"), "binary", ["a", "b"])
    assert _map(a.to_dict())[0].shape[0] == 3 * charts.heatmap.UPSCALE
    assert _map(b.to_dict())[0].shape[0] == 4 * charts.heatmap.UPSCALE


def _as_drawn(spec: dict) -> tuple[str, dict[str, list[dict]]]:
    """A spec as text without its datasets, and the datasets' rows by name."""
    spec = dict(spec)
    datasets = spec.pop("datasets")
    rows = {name: json.loads(frame.to_json(orient="records")) for name, frame in datasets.items()}
    return json.dumps(spec, sort_keys=True), rows


@pytest.mark.parametrize("name", [*BUILDERS, *LINE_CHARTS])
def test_vega_spec_fills_in_the_skeleton_as_altair_would_convert_the_chart(name):
    """`vega_spec` makes a chart's spec from its skeleton's, made once, and the new frames:
    the spec Altair would make anew (as a copy of the chart that Altair made goes)."""
    chart = BUILDERS[name](1) if name in BUILDERS else LINE_CHARTS[name](3)
    again = chart.copy(deep=False)  # Altair's copy: no skeleton to fill in
    assert _as_drawn(charts.vega_spec(chart)) == _as_drawn(charts.vega_spec(again))
    first, second = charts.vega_spec(chart), charts.vega_spec(chart)
    first["usermeta"] = {"changed": True}  # a caller's change stays in its own spec
    assert "usermeta" not in second


def test_charts_module_does_not_import_streamlit(spawn):
    code = "import sys, playground.charts; print('streamlit' in sys.modules)"
    out = spawn(["-c", code], check=True)
    assert out.stdout.strip() == "False"


def test_stacked_charts_keep_each_charts_own_data_and_layers():
    probes = _probes(40)
    loss = charts.vega_spec(charts.loss_chart(probes))
    metric = charts.vega_spec(charts.metric_chart(probes, "classification"))
    both = charts.stacked([loss, metric])
    assert [v.get("title") for v in both["vconcat"]] == [loss.get("title"), metric.get("title")]
    for i, (view, alone) in enumerate(zip(both["vconcat"], (loss, metric))):
        parts = [view, *view.get("layer", [])]
        originals = [alone, *alone.get("layer", [])]
        for part, original in zip(parts, originals, strict=True):
            if "data" not in original:
                continue
            name = part["data"]["name"]
            assert name.startswith(f"c{i}_")  # two charts' frame0 never collide
            assert both["datasets"][name] is alone["datasets"][original["data"]["name"]]
    assert len(both["datasets"]) == len(loss["datasets"]) + len(metric["datasets"])
    assert both["autosize"]["type"] == "fit-x" and both["$schema"] == loss["$schema"]


def test_an_activation_keeps_its_colour_whatever_is_drawn_beside_it():
    def colours(labels: list[str]) -> dict[str, str]:
        frame = pd.DataFrame(
            {"x": np.repeat([0.0, 1.0], len(labels)), "activation": labels * 2, "f": 0.0}
        )
        scale = charts.function_chart(frame, "f", "f(x)").to_dict()["layer"][-1]["encoding"]
        scale = scale["color"]["scale"]
        return dict(zip(scale["domain"], scale["range"], strict=True))

    alone = colours(["GELU"])
    beside = colours(["ReLU", "Tanh", "GELU"])
    assert alone["GELU"] == beside["GELU"]
    assert len(set(beside.values())) == 3
    every = charts.explorer.COLOURS
    assert set(every) == set(activations.HIDDEN_KEYS) and len(set(every.values())) == len(every)


def test_a_long_runs_step_axis_asks_for_about_eight_labels_that_never_overlap():
    axis = charts.base._step_x().to_dict()["axis"]
    assert axis["tickCount"] == 8 and axis["labelOverlap"] is True and axis["format"] == "~s"


def test_one_seed_blowing_up_neither_stretches_the_band_axis_nor_loses_its_true_max():
    steps = np.arange(5)
    bands = pd.DataFrame(
        {
            "metric": "train_loss",
            "variant": np.repeat(["ReLU", "Tanh"], 5),
            "step": np.tile(steps, 2),
            "median": [0.7, 0.6, 0.5, 0.4, 0.3, 0.7, 0.65, 0.6, 0.55, 0.5],
            "lo": [0.7, 0.5, 0.4, 0.3, 0.2, 0.7, 0.6, 0.5, 0.5, 0.4],
            "hi": [0.7, 0.8, 2.5e10, 2.5e10, 0.9, 0.7, 0.7, 0.7, 0.6, 0.6],
        }
    )
    chart = charts.band_chart(bands, "train_loss", "Training loss", ["ReLU", "Tanh"])
    rows = _rows(chart.to_dict(), 0)
    assert rows["top"].max() == pytest.approx(3 * 0.7)  # the axis ends near the medians
    assert rows["hi"].max() == 2.5e10  # the tooltip's max is still the truth
    assert (rows["low"] <= rows["top"]).all()


def test_a_race_of_seven_variants_names_every_one_in_its_legend():
    names = [f"variant {i} with a long name" for i in range(7)]
    bands = pd.DataFrame(
        {"metric": "train_loss", "variant": names, "step": 0, "median": 0.5, "lo": 0.4, "hi": 0.6}
    )
    legend = charts.band_chart(bands, "train_loss", "Loss", names).to_dict()
    legend = legend["encoding"]["color"]["legend"]
    assert legend["labelLimit"] == 0 and legend["columns"] == 2  # wraps, never cuts a name


def test_a_race_at_step_0_has_a_step_axis_from_0_to_1_not_nan():
    bands = pd.DataFrame(
        {"metric": "train_loss", "variant": ["ReLU"], "step": [0], "median": 0.7, "lo": 0.7,
         "hi": 0.7}
    )  # fmt: skip
    x = charts.band_chart(bands, "train_loss", "Loss", ["ReLU"]).to_dict()["layer"][0]
    x = x["encoding"]["x"]
    assert x["scale"]["domain"] == {"unionWith": [0, 1]} and x["axis"]["tickCount"] == 8
