"""Bounded series: flat memory, dense recent rows, the start kept, aligned columns, CSV export."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from playground.history import LAYER_KEYS, PROBE_KEYS, History, Series


def _scalar_series(capacity: int) -> Series:
    return Series({"step": (), "loss": ()}, capacity=capacity)


def _loss(step: np.ndarray | float) -> np.ndarray | float:
    """A value that is a known function of the step, to check columns stay aligned."""
    return np.sqrt(step) * 0.5 + 1.0


def test_capacity_below_eight_is_refused():
    with pytest.raises(ValueError, match="at least 8"):
        _scalar_series(7)
    assert len(_scalar_series(8)) == 0


def test_below_capacity_every_row_is_kept_as_given():
    s = _scalar_series(100)
    for i in range(100):
        s.append(step=i, loss=_loss(i))
    assert len(s) == 100
    np.testing.assert_array_equal(s.column("step"), np.arange(100.0))
    np.testing.assert_array_equal(s.column("loss"), _loss(np.arange(100.0)))


def test_one_more_row_thins_the_older_half_only():
    s = _scalar_series(8)
    for i in range(9):
        s.append(step=i, loss=_loss(i))
    # full at 8 rows: the newest half (4..7) is kept; older rows 0..3 go to stride 2 (0, 2);
    # 6 rows fit the 3/4 limit, then step 8 is appended
    np.testing.assert_array_equal(s.column("step"), [0, 2, 4, 5, 6, 7, 8])


@pytest.fixture(scope="module")
def long_run() -> tuple[Series, int, list[int]]:
    """100,000 single-row appends into capacity 100, recording the length after each."""
    s = _scalar_series(100)
    lengths = []
    n = 100_000
    for i in range(n):
        s.append(step=i, loss=_loss(i))
        lengths.append(len(s))
    return s, n, lengths


def test_length_never_exceeds_capacity(long_run):
    s, _, lengths = long_run
    assert max(lengths) == s.capacity == 100
    assert min(lengths[100:]) >= 50  # thinning never throws away more than half
    assert len(s.column("step")) == len(s)


def test_recent_rows_are_dense_and_the_start_is_kept(long_run):
    s, n, _ = long_run
    steps = s.column("step")
    half = s.capacity // 2
    np.testing.assert_array_equal(steps[-half:], np.arange(n - half, n))
    assert steps[0] == 0
    assert steps[-1] == n - 1


def test_thinned_rows_stay_strictly_increasing_and_aligned(long_run):
    s, n, _ = long_run
    steps = s.column("step")
    assert np.all(np.diff(steps) > 0)
    assert np.all((steps >= 0) & (steps < n)) and np.all(steps == np.round(steps))
    np.testing.assert_array_equal(s.column("loss"), _loss(steps))


def test_a_long_run_keeps_rows_across_the_whole_run():
    n, capacity = 100_000, 2000  # the probe series' default capacity
    s = _scalar_series(capacity)
    s.extend(step=np.arange(n), loss=_loss(np.arange(n)))
    steps = s.column("step")
    per_tenth = np.histogram(steps, bins=10, range=(0, n))[0]
    assert np.all(per_tenth > 0), per_tenth


def test_vector_columns_stay_aligned_through_thinning():
    s = Series({"step": (), "v": (3,)}, capacity=10)
    for i in range(37):
        s.append(step=i, v=np.array([i, 2.0 * i, -i]))
    steps = s.column("step")
    assert len(s) <= 10 and steps[-1] == 36 and steps[0] == 0
    np.testing.assert_array_equal(s.column("v"), np.stack([steps, 2 * steps, -steps], axis=1))
    frame = s.frame()
    assert list(frame.columns) == ["step", "v_1", "v_2", "v_3"]
    np.testing.assert_array_equal(frame["v_2"].to_numpy(), 2 * steps)
    assert list(s.frame(scalar_only=True).columns) == ["step"]


def test_frame_is_a_copy():
    s = _scalar_series(8)
    s.append(step=0, loss=1.0)
    frame = s.frame()
    frame.loc[0, "loss"] = 99.0
    assert s.column("loss")[0] == 1.0


@pytest.mark.parametrize("capacity", [8, 11, 16])
def test_extend_equals_repeated_append(capacity):
    rng = np.random.default_rng(capacity)
    chunks = [int(k) for k in rng.integers(0, 3 * capacity, size=25)] + [0, 1, capacity]
    one_by_one = Series({"step": (), "v": (2,)}, capacity=capacity)
    batched = Series({"step": (), "v": (2,)}, capacity=capacity)
    start = 0
    for k in chunks:
        steps = np.arange(start, start + k, dtype=float)
        vecs = np.stack([steps * 3, rng.normal(size=k)], axis=1)
        for i in range(k):
            one_by_one.append(step=steps[i], v=vecs[i])
        batched.extend(step=steps, v=vecs)
        start += k
        assert len(batched) == len(one_by_one) <= capacity
    np.testing.assert_array_equal(batched.column("step"), one_by_one.column("step"))
    np.testing.assert_array_equal(batched.column("v"), one_by_one.column("v"))


def test_truncate_drops_rows_after_the_step():
    s = _scalar_series(16)
    s.extend(step=np.arange(50), loss=_loss(np.arange(50.0)))
    before = s.column("step").copy()
    gap = next(int(a) + 1 for a, b in zip(before, before[1:]) if b - a > 1)  # a step not kept
    s.truncate(gap)
    np.testing.assert_array_equal(s.column("step"), before[before <= gap])
    s.truncate(before[-1] + 100)  # nothing beyond: unchanged
    np.testing.assert_array_equal(s.column("step"), before[before <= gap])
    s.append(step=gap + 1, loss=_loss(gap + 1))  # a rolled-back run carries on from there
    assert s.column("step")[-1] == gap + 1 and np.all(np.diff(s.column("step")) > 0)
    s.truncate(-1)
    assert len(s) == 0


def test_layer_frame_is_long_format():
    n_rows, n_layers = 5, 3
    s = Series({"step": (), "a": (n_layers,), "b": (n_layers,)}, capacity=8)
    for r in range(n_rows):
        s.append(
            step=10 * r,
            a=np.array([100 * r + j for j in range(n_layers)], dtype=float),
            b=np.array([-(100 * r + j) / 7 for j in range(n_layers)]),
        )
    long = s.layer_frame(["a", "b"])
    assert list(long.columns) == ["step", "layer", "a", "b"]
    assert len(long) == n_rows * n_layers
    expected = [
        (10 * r, j + 1, 100 * r + j, -(100 * r + j) / 7)
        for r in range(n_rows)
        for j in range(n_layers)
    ]
    got = list(long.itertuples(index=False, name=None))
    assert got == expected


def _probe_row(step: int, n_layers: int, rng: np.random.Generator) -> dict:
    row = {k: float(rng.normal()) for k in PROBE_KEYS}
    row["step"] = float(step)
    row.update({k: rng.normal(size=n_layers) for k in LAYER_KEYS})
    row["saturated_fraction"][1] = np.nan  # "not applicable" for that layer's activation
    return row


def test_history_csv_parses_back_to_the_same_numbers():
    n_layers = 3
    rng = np.random.default_rng(0)
    history = History(n_layers, capacity=8)
    rows = {}
    for step in range(0, 200, 10):  # 20 probes into capacity 8: thinned along the way
        rows[step] = _probe_row(step, n_layers, rng)
        history.probes.append(**rows[step])
    kept = history.probes.column("step").astype(int)
    assert len(kept) <= 8 and kept[0] == 0 and kept[-1] == 190

    parsed = pd.read_csv(io.StringIO(history.to_csv()))
    layer_cols = [f"{k}_{j}" for k in LAYER_KEYS for j in range(1, n_layers + 1)]
    assert list(parsed.columns) == [*PROBE_KEYS, *layer_cols]
    assert len(parsed) == len(kept)
    for i, step in enumerate(kept):
        for k in PROBE_KEYS:
            assert parsed[k].iloc[i] == rows[step][k], (step, k)
        for k in LAYER_KEYS:
            for j in range(n_layers):
                np.testing.assert_equal(parsed[f"{k}_{j + 1}"].iloc[i], rows[step][k][j])
    assert parsed["saturated_fraction_2"].isna().all()


def test_probes_without_a_test_evaluation_export_empty_test_cells():
    history = History(n_layers=2, capacity=8)
    rng = np.random.default_rng(2)
    for step in (0, 10, 20):
        row = _probe_row(step, 2, rng)
        if step == 10:  # a probe that skipped the test set
            row["test_loss"] = row["test_metric"] = np.nan
        history.probes.append(**row)
    csv = history.to_csv()
    assert csv.splitlines()[2].split(",")[5:8:2] == ["", ""]  # test_loss, test_metric
    parsed = pd.read_csv(io.StringIO(csv))
    assert parsed["test_loss"].isna().tolist() == [False, True, False]
    assert parsed["test_metric"].isna().tolist() == [False, True, False]
    assert parsed["train_loss"].notna().all()


def test_history_truncate_cuts_both_series_and_steps_hold_more_rows():
    history = History(n_layers=2, capacity=8)
    assert history.steps.capacity == 32 and history.probes.capacity == 8
    history.steps.extend(step=np.arange(1, 31), loss=_loss(np.arange(1.0, 31.0)))
    rng = np.random.default_rng(1)
    for step in (0, 10, 20, 30):
        history.probes.append(**_probe_row(step, 2, rng))
    history.truncate(20)
    np.testing.assert_array_equal(history.steps.column("step"), np.arange(1, 21))
    np.testing.assert_array_equal(history.probes.column("step"), [0, 10, 20])
