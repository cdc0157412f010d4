"""Chart builders: the data each chart carries, its encodings, and a spec that holds still."""

import base64
import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from playground import charts

# ---- helpers ----------------------------------------------------------------------------------


def _rows(spec: dict, layer: int | None = None) -> pd.DataFrame:
    """The rows of a chart's dataset (of one layer for layer charts), as a DataFrame."""
    view = spec if layer is None else spec["layer"][layer]
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
    return charts.points_frame(rng.normal(size=(8, 2)), y_train, rng.normal(size=(4, 2)), y_test)


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
    enc = spec["encoding"]
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


# ---- decision boundary ------------------------------------------------------------------------


def test_points_frame_builds_columns_and_splits():
    x_train, x_test = np.arange(10.0).reshape(5, 2), -np.arange(6.0).reshape(3, 2)
    pts = charts.points_frame(x_train, np.array([0, 1, 0, 1, 1]), x_test, np.array([1, 0, 1]))
    assert list(pts.columns) == ["x1", "x2", "label", "split"]
    assert pts["split"].tolist() == ["train"] * 5 + ["test"] * 3
    assert pts["x1"].tolist()[:5] == [0, 2, 4, 6, 8] and pts["x2"].tolist()[5:] == [-1, -3, -5]
    assert pts["label"].tolist() == [0, 1, 0, 1, 1, 1, 0, 1]


def test_points_frame_thins_large_splits():
    x = np.zeros((5000, 2))
    pts = charts.points_frame(x, np.zeros(5000), x[:10], np.zeros(10), max_points=300)
    assert (pts["split"] == "train").sum() <= 300 and (pts["split"] == "test").sum() == 10


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
    image, dots = spec["layer"]
    assert image["mark"]["type"] == "image" and image["encoding"]["url"]["field"] == "url"
    scale = dots["encoding"]["color"]["scale"]
    assert scale["domain"] == [0, 1] and scale["range"] == charts.DIVERGING
    assert scale["interpolate"] == "lab" and dots["encoding"]["color"]["title"] == "P(yes)"
    stroke = dots["encoding"]["stroke"]
    assert stroke["field"] == "split" and stroke["scale"]["domain"] == ["train", "test"]
    assert len(set(stroke["scale"]["range"])) == 2  # train and test points look different
    assert spec["width"] == spec["height"] == charts.BOUNDARY_SIZE
    pts = _rows(spec, 1)
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
    dots = spec["layer"][1]
    assert dots["encoding"]["color"]["scale"]["domain"] == names
    pts = _rows(spec, 1)
    assert pts["class"].tolist() == np.asarray(names)[pts["label"].astype(int)].tolist()


def test_regression_map_is_clamped_to_a_symmetric_scale_sized_by_the_targets():
    grid = _grid(3, 1, "regression")
    grid["value"][0] = [-9.0, 0.0, 9.0]  # beyond the +-2.5 the targets give: clamped
    spec = charts.boundary_chart(grid, _points("regression"), "regression", []).to_dict()
    pixels, _ = _map(spec)
    for j, colour in enumerate(charts.DIVERGING):
        np.testing.assert_allclose(_pixel(pixels, 0, j), charts.heatmap.hex_rgb(colour), atol=1)
    scale = spec["layer"][1]["encoding"]["color"]["scale"]
    assert scale["domain"] == [-2.5, 2.5] and scale["domainMid"] == 0 and scale["clamp"] is True


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
    assert "scheme" in enc["color"]["scale"]
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
    lines, band, label = spec["layer"]
    assert lines["encoding"]["y"]["scale"]["type"] == "log"
    rows = _rows(spec, 0)
    assert len(rows) == 8 and (rows["value"] > 0).all()
    floor = 0.5 * 10.0 ** (np.floor(np.log10(smallest)) - 1)
    zeros = rows[rows["zero"]]
    assert len(zeros) == 1 and zeros.iloc[0]["step"] == 0 and zeros.iloc[0]["value"] == floor
    assert smallest / 200 < floor < smallest / 5  # below the data, not far below
    assert _rows(spec, 1)["floor"].tolist() == [floor]
    assert _rows(spec, 2)["step"].tolist() == [4.0]  # its label at the last step
    assert label["encoding"]["text"]["value"].startswith("exactly 0")
    assert "exactly 0" in lines["transform"][0]["calculate"]  # the tooltip says so too


def test_layer_legends_take_a_column_per_ten_layers():
    for n_layers, columns in ((4, 1), (10, 1), (12, 2), (32, 4)):
        spec = charts.layer_lines_chart(_layer_frame(3, n_layers), "pre_std", "std").to_dict()
        legend = spec["encoding"]["color"]["legend"]
        assert legend["columns"] == columns and legend["symbolLimit"] == 0


def test_log_scale_draws_no_zero_band_when_nothing_is_zero():
    spec = charts.layer_lines_chart(_layer_frame(5, 2), "grad_norm", "g", log_scale=True)
    spec = spec.to_dict()
    assert not _rows(spec, 0)["zero"].any() and _rows(spec, 1).empty


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
    bars, rule = spec["layer"]
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
    "binary": lambda s: charts.boundary_chart(
        _grid(5, 5, "binary", s), _points("binary", s), "binary", ["a", "b"]
    ),
    "multiclass": lambda s: charts.boundary_chart(
        _grid(5, 5, "multiclass", s), _points("multiclass", s), "multiclass", ["a", "b", "c"]
    ),
    "regression": lambda s: charts.boundary_chart(
        _grid(5, 5, "regression", s), _points("regression", s), "regression", []
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


def test_charts_module_does_not_import_streamlit():
    code = "import sys, playground.charts; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
