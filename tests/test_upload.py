"""Your own data: every bad file refused with a message naming the problem, good tables encoded
as a person expects, and an uploaded table trained like any dataset."""

import numpy as np
import pandas as pd
import pytest
from apptools import ROOT, open_page, tile

from playground import upload
from playground.config import RunConfig, config_dict, from_query
from playground.data import make_dataset
from playground.train import Run
from playground.upload import UploadError, prepare, read_table


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _table(rows: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=rows), rng.normal(size=rows)
    return pd.DataFrame(
        {"a": a, "b": b, "city": rng.choice(["Oslo", "Lima"], rows), "label": (a + b > 0) * 1}
    )


BAD_FILES = {
    "binary": (b"PK\x03\x04\x00\x00binary zip", "binary file"),
    "binary claiming CSV": (bytes(range(256)) * 40, "binary file"),
    "empty": (b"", "empty"),
    "blank lines": (b"\n\n  \n", "empty"),
    "header only": (b"a,b,label\n", "0 data rows"),
    "one row": (b"a,b,label\n1,2,0\n", "1 data row;"),
    "one column": (b"label\n" + b"1\n" * 20, "at least one feature"),
    "one class": (_csv(_table().assign(label=1)), "one class only"),
    "NaN": (_csv(_table().assign(b=[*[1.0] * 39, np.nan])), "'b' has 1 missing"),
    "inf": (b"a,label\n" + b"1,0\n" * 12 + b"inf,1\n", "'a' has 1 missing or infinite"),
    "too many rows": (b"a,label\n" + b"1,0\n2,1\n" * 10_001, "20,002 rows; the limit is 20,000"),
    "too many columns": (
        (",".join(f"c{i}" for i in range(250)) + "\n" + "1," * 249 + "1\n").encode() * 1,
        "250 columns",
    ),
    "too large": (b"a,label\n" + b"1.000000000,0\n" * 900_000, "MB; the limit is 10 MB"),
    "long cell": (
        b"a,note,label\n" + b"1,x,0\n" * 11 + b"2," + b"y" * 100_000 + b",1\n",
        "100,000 characters",
    ),
    "hundreds of classes": (
        _csv(pd.DataFrame({"a": range(400), "label": [f"k{i}" for i in range(400)]})),
        "400 classes",
    ),
    "ragged": (b"a,b,label\n1,2,0\n" * 6 + b"1,2,3,4,5\n" + b"1,2,1\n" * 6, "not a CSV table"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=str)
def test_every_bad_file_is_refused_with_a_message_naming_the_problem(case):
    raw, expected = BAD_FILES[case]
    with pytest.raises(UploadError) as caught:
        table = read_table(raw, "bad.csv")
        prepare(table, "label" if "label" in table.columns else None)
    assert expected in str(caught.value)


def test_a_text_regression_target_and_a_bad_target_column_are_refused():
    table = read_table(_csv(_table().assign(label=["x", "y"] * 20)))
    with pytest.raises(UploadError, match="regression target 'label' holds text such as 'x'"):
        prepare(table, "label", "regression")
    with pytest.raises(UploadError, match="no column 'nope'"):
        prepare(table, "nope")
    numeric = read_table(_csv(pd.DataFrame({"a": range(300), "label": range(300)})))
    with pytest.raises(UploadError, match="300 classes; the limit is 50; as numbers, try"):
        prepare(numeric, "label", "classification")
    assert prepare(numeric, "label", "auto").task == "regression"  # many values: a quantity


def test_a_good_table_is_encoded_as_a_person_expects():
    frame = _table(60).assign(id=[f"row{i}" for i in range(60)])
    up = prepare(read_table(_csv(frame), "mine.csv"), "label")
    assert up.task == "binary" and up.class_names == ["0", "1"]
    assert up.feature_names == ["a", "b", "city=Lima", "city=Oslo"]  # the id column left out
    np.testing.assert_array_equal(up.x[:, 2], (frame["city"] == "Lima").to_numpy(float))
    np.testing.assert_allclose(up.x[:, 0], frame["a"])
    assert any("'id' was left out" in n for n in up.notes)
    assert any("'city' was one-hot encoded into 2" in n for n in up.notes)
    species = read_table(b"x;y;kind\n" + b"1;2;cat\n3;4;dog\n5;6;eel\n" * 5)  # semicolons
    up = prepare(species)
    assert up.task == "multiclass" and up.class_names == ["cat", "dog", "eel"]
    assert up.y.tolist()[:3] == [0, 1, 2] and up.x.shape == (15, 2)


def test_an_uploaded_table_trains_like_any_dataset_and_its_config_describes_it():
    frame = _table(200, seed=3)
    up = prepare(read_table(_csv(frame), "mine.csv"))
    cfg = RunConfig(dataset="upload", upload=up, n_points=200, lr=0.3).validate()
    data = make_dataset(cfg.data_config())
    assert data.n_features == 4 and len(data.y_train) == 100 and data.task == "binary"
    assert abs(data.x_train.mean(0)).max() < 1e-5  # standardised on the training split
    run = Run(cfg)
    run.step(300, probe_at_end=True)
    assert run.latest.test_metric > 0.9  # a + b > 0 is a straight line: easy
    record = config_dict(cfg)
    assert record["upload"]["file"] == "mine.csv" and record["upload"]["target"] == "label"
    assert cfg == cfg.replace(upload=prepare(read_table(_csv(frame), "mine.csv")))
    assert cfg.needs_rebuild(cfg.replace(upload=prepare(read_table(_csv(frame)), "a")))


def test_a_link_naming_the_upload_falls_back_with_a_notice():
    cfg, notices = from_query({"dataset": "upload"})
    assert cfg.dataset == "circle"
    assert any("a link cannot carry a file" in n for n in notices)


# ---- the page ---------------------------------------------------------------------------------


def _upload(at, name: str, raw: bytes):
    return at.file_uploader(key="upload_file").set_value((name, raw, "text/csv")).run()


def test_the_page_trains_an_upload_and_a_bad_file_leaves_the_run_alone():
    at = open_page()
    _upload(at, "mine.csv", _csv(_table(120)))
    assert not at.exception and not at.error
    assert at.selectbox(key="cfg_dataset").value == "upload"
    assert at.slider(key="cfg_n_points").value == 120
    for _ in range(2):
        at.button(key="step").click().run()
    assert tile(at, "Step") == "2"
    assert "Results on the test set" in [h.value for h in at.subheader]
    assert any("cannot carry a file" in w.value for w in at.warning)  # where the link is shown
    for raw in (b"\x00\x01 not text", b"", b"a,b\n1,2\n"):
        _upload(at, "bad.csv", raw)
        assert not at.exception
        assert at.error and "bad.csv:" in at.error[0].value and "unchanged" in at.error[0].value
        assert tile(at, "Step") == "2" and at.selectbox(key="cfg_dataset").value == "upload"


def test_choosing_another_target_or_task_rebuilds_on_it():
    at = open_page()
    frame = _table(80).assign(score=np.linspace(0, 1, 80))
    _upload(at, "mine.csv", _csv(frame))
    assert at.selectbox(key="upload_target").value == "score"  # the last column
    assert any("regression" in c.value for c in at.caption)
    at.selectbox(key="upload_target").set_value("city").run()
    assert not at.exception and not at.error
    assert any("(80 rows, 4 features, binary)" in c.value for c in at.caption)
    at.selectbox(key="upload_target").set_value("a").run()
    at.radio(key="upload_task").set_value("classification").run()
    assert "has 80 classes; the limit is 50" in at.error[0].value
    assert any("features, regression)" in c.value for c in at.caption)  # the last good one


def test_the_servers_upload_limit_takes_a_csv_and_the_largest_networks_weights():
    text = (ROOT / ".streamlit" / "config.toml").read_text()
    limit_mb = int(text.split("maxUploadSize = ")[1].split()[0])
    largest = RunConfig(dataset="digits", depth=32, width=512)
    n_in, n_out = largest.io_sizes()
    params = n_in * 512 + 31 * 512 * 512 + 512 * n_out + 32 * 512 + n_out
    assert params * 4 < limit_mb * 2**20 * 0.9  # float32 weights, with room for the header
    assert limit_mb * 2**20 >= upload.MAX_BYTES


def test_the_upload_box_states_the_csvs_own_limit_and_a_drawing_leaves_it_closed():
    at = open_page(dataset="drawn")
    box = next(u for u in at.get("file_uploader") if u.proto.label == "CSV file")
    assert box.proto.max_upload_size_mb == upload.MAX_BYTES // 2**20 == 10  # not the 64 MB
    csv = next(e for e in at.expander if e.label == "Your own data (CSV)")
    assert not csv.proto.expanded  # a drawing does not open the CSV section
