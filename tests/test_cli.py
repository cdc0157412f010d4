"""`python -m playground`, run as a person would: real processes, real output, real exit codes."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from playground import activations
from playground.config import RunConfig, config_dict
from playground.data import DATASETS
from playground.model import INITS
from playground.probes import LAYER_KEYS

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("spawn")  # every test here runs the command line
TIMEOUT = 180
LAYER_FIELDS = (
    "pre_mean",
    "pre_std",
    "post_mean",
    "post_std",
    "dead_fraction",
    "saturated_fraction",
    "grad_norm",
    "weight_norm",
    "dead_from_start_fraction",
)
SMOOTH_RELUS = ("gelu", "silu", "mish")


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "playground", *args]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(*args), cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def _ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


@pytest.fixture(scope="module")
def json_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def runs(json_dir):
    """Every command of this module, started up front on a small pool of workers.

    Each command is a fresh interpreter that imports torch, so running them a few at a time
    keeps the module fast; a test waits only for the commands it reads.
    """
    commands = {  # the longest first
        "circle": CIRCLE_ARGS,
        "plane": (*PLANE_ARGS, "--json", str(json_dir / "plane.json")),
        "deep": DEEP_ARGS,
        "inspect": INSPECT_ARGS,
        "list": ("list",),
    }
    commands.update(
        (key, ("train", "--activation", key, "--steps", "50", "--json", "-"))
        for key in SMOOTH_RELUS
    )
    commands.update((name, args) for name, (args, _) in ERROR_CASES.items())
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
        futures: dict[str, Future] = {
            name: pool.submit(cli, *args) for name, args in commands.items()
        }
        yield futures


# ---- list ----------------------------------------------------------------------------------


def test_list_names_every_activation_init_and_dataset(runs):
    out = _ok(runs["list"].result()).stdout
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1] for line in out.splitlines()}
    listed = {k: [w.strip(" ,") for w in v.split()] for k, v in lines.items()}
    assert set(activations.HIDDEN_KEYS) <= set(listed["activations"])
    assert set(INITS) <= set(listed["inits"])
    assert set(DATASETS) <= set(listed["datasets"])
    assert "(softmax: output layer only)" in lines["activations"]


# ---- train: a binary run, JSON on stdout ---------------------------------------------------

CIRCLE_ARGS = (
    "train",
    "--dataset",
    "circle",
    "--activation",
    "relu",
    "--init",
    "he",
    "--optimizer",
    "adam",
    "--lr",
    "0.01",
    "--steps",
    "1500",
    "--json",
    "-",
)


@pytest.fixture(scope="module")
def circle(runs) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = _ok(runs["circle"].result())
    return proc, json.loads(proc.stdout)  # stdout holds the JSON record and nothing else


def test_train_json_config_is_the_requested_one(circle):
    _, record = circle
    expected = RunConfig(dataset="circle", activation="relu", init="he", optimizer="adam", lr=0.01)
    assert record["config"] == config_dict(expected)
    assert record["device"] == "cpu"
    assert record["diverged"] is None


def test_train_json_final_metrics(circle):
    _, record = circle
    final = record["final"]
    assert set(final) == {"steps", "epochs", "train_loss", "test_loss", "test_accuracy"}
    assert final["steps"] == 1500
    n_train = round(500 * 0.5)
    assert final["epochs"] == pytest.approx(1500 / (n_train // 10))
    assert final["test_accuracy"] > 0.95
    assert 0 <= final["train_loss"] < 0.2 and final["test_loss"] >= 0


def test_train_json_has_one_entry_per_hidden_layer(circle):
    _, record = circle
    layers = record["layers"]
    assert [row["layer"] for row in layers] == [1, 2]
    for row in layers:
        assert row["activation"] == "relu"
        assert set(LAYER_FIELDS) <= set(row)
        for key in LAYER_FIELDS:
            assert row[key] is None or math.isfinite(row[key]), key
        assert 0 <= row["dead_fraction"] <= 1
        assert row["saturated_fraction"] is None or 0 <= row["saturated_fraction"] <= 1
        assert row["pre_std"] > 0 and row["post_std"] >= 0
        assert row["post_mean"] >= 0  # ReLU outputs are never negative
        assert row["weight_norm"] > 0 and row["grad_norm"] >= 0


def test_train_json_history_ends_at_the_final_probe(circle):
    _, record = circle
    history = record["history"]
    steps = [row["step"] for row in history]
    assert steps[0] == 0 and steps[-1] == 1500
    assert all(a < b for a, b in zip(steps, steps[1:]))
    last, final = history[-1], record["final"]
    assert last["test_metric"] == pytest.approx(final["test_accuracy"], rel=1e-6, abs=1e-9)
    assert last["test_loss"] == pytest.approx(final["test_loss"], rel=1e-6, abs=1e-9)
    assert last["train_loss"] == pytest.approx(final["train_loss"], rel=1e-6, abs=1e-9)
    for i, row in enumerate(record["layers"], start=1):
        for key in ("weight_norm", "grad_norm", "pre_std", "dead_fraction"):
            assert last[f"{key}_{i}"] == pytest.approx(row[key], rel=1e-6), key


def test_train_json_says_train_numbers_are_on_the_probe_set(circle):
    _, record = circle
    probe_set = record["probe_set"]
    assert probe_set["rows"] == probe_set["train_rows"] == 250  # 500 points, half for training
    assert "probe" in probe_set["note"] and "test" in probe_set["note"]


def test_train_json_history_has_test_numbers_where_measured_and_null_between(circle):
    _, record = circle
    history = record["history"]
    measured = [row["test_loss"] is not None for row in history]
    assert measured[0] and measured[-1]  # step 0 and the final step
    assert [row["test_metric"] is not None for row in history] == measured
    assert all(row["train_loss"] is not None for row in history)
    assert "null" in record["probe_set"]["note"]


def test_train_help_says_where_train_numbers_come_from():
    out = _ok(cli("train", "--help")).stdout
    assert "probe set" in out and "512 training rows" in " ".join(out.split())


@pytest.mark.parametrize("key", SMOOTH_RELUS)
def test_smooth_relus_report_dead_and_saturated_shares(runs, key):
    record = json.loads(_ok(runs[key].result()).stdout)
    assert [row["activation"] for row in record["layers"]] == [key, key]
    for row in record["layers"]:
        for field in ("saturated_fraction", "dead_fraction", "dead_from_start_fraction"):
            assert row[field] is not None and 0 <= row[field] <= 1, field


def test_train_summary_goes_to_stderr_when_json_is_on_stdout(circle):
    proc, _ = circle
    assert proc.stderr.startswith("circle (binary), 2 x 8 relu, init he, adam lr 0.01")
    assert "test_accuracy" in proc.stderr


# ---- train: regression, JSON to a file, one seed for both ----------------------------------


PLANE_ARGS = (
    "train",
    *("--dataset", "plane", "--optimizer", "adam", "--lr", "0.01", "--seed", "3"),
    *("--steps", "200"),
)


@pytest.fixture(scope="module")
def plane(runs, json_dir) -> tuple[subprocess.CompletedProcess[str], Path]:
    return _ok(runs["plane"].result()), json_dir / "plane.json"


def test_json_path_writes_a_file_and_keeps_stdout_for_people(plane):
    proc, path = plane
    assert path.is_file()
    assert path.read_text(encoding="utf-8").endswith("}\n")
    assert proc.stdout.startswith("plane (regression)")
    with pytest.raises(json.JSONDecodeError):
        json.loads(proc.stdout)


def test_text_table_prints_every_column_name_in_full(plane):
    proc, _ = plane
    header = next(line for line in proc.stdout.splitlines() if line.split()[:1] == ["layer"])
    assert header.split() == ["layer", "activation", *LAYER_KEYS]


def test_regression_reports_r2(plane):
    _, path = plane
    record = json.loads(path.read_text(encoding="utf-8"))
    final = record["final"]
    assert "test_r2" in final and "test_accuracy" not in final
    assert 0.9 < final["test_r2"] <= 1.0
    assert final["steps"] == 200


def test_seed_sets_both_seeds_and_the_run_matches_the_engine(plane):
    from playground.train import Run, run_to_end

    _, path = plane
    record = json.loads(path.read_text(encoding="utf-8"))
    cfg = RunConfig(dataset="plane", optimizer="adam", lr=0.01, data_seed=3, init_seed=3)
    assert record["config"] == config_dict(cfg)
    run = run_to_end(Run(cfg), 200)
    final = record["final"]
    assert final["train_loss"] == pytest.approx(run.latest.train_loss, rel=1e-4)
    assert final["test_loss"] == pytest.approx(run.latest.test_loss, rel=1e-4)
    assert final["test_r2"] == pytest.approx(run.latest.test_metric, rel=1e-4)


# ---- train --epochs and --data-seed, on a deep sigmoid net whose gradients vanish ----------

# One run serves three checks: the length of an --epochs run, --data-seed overriding --seed,
# and tiny gradients in the JSON history (sigmoid and 'small' init shrink them layer by layer).
DEEP_ARGS = (
    "train",
    *("--seed", "3", "--data-seed", "5", "--n-points", "200", "--batch-size", "8"),
    *("--depth", "12", "--activation", "sigmoid", "--init", "small"),
    *("--epochs", "2", "--json", "-"),
)


@pytest.fixture(scope="module")
def deep(runs) -> dict:
    return json.loads(_ok(runs["deep"].result()).stdout)


def test_epochs_run_whole_passes_over_the_training_set(deep):
    n_train = round(200 * 0.5)  # 100 training points
    steps_per_epoch = n_train // 8  # 12 full batches of 8; the last 4 points wait for a shuffle
    assert deep["final"]["steps"] == 2 * steps_per_epoch == 24
    assert deep["final"]["epochs"] == 2.0
    assert deep["history"][-1]["step"] == 24


def test_data_seed_overrides_seed_for_the_data_only(deep):
    assert deep["config"]["data_seed"] == 5
    assert deep["config"]["init_seed"] == 3


def test_json_history_keeps_tiny_gradients(deep):
    last = deep["history"][-1]
    grads = [row["grad_norm"] for row in deep["layers"]]
    assert any(0 < g < 1e-12 for g in grads)  # the premise: gradients vanish towards the input
    for i, g in enumerate(grads, start=1):
        assert last[f"grad_norm_{i}"] == pytest.approx(g, rel=1e-6, abs=0), i


# ---- inspect --------------------------------------------------------------------------------


INSPECT_ARGS = (
    "inspect",
    *("--depth", "5", "--seeds", "2", "--seed", "3", "--init-seed", "7", "--json", "-"),
)


def test_inspect_gives_one_row_per_layer_matching_the_engine(runs):
    from playground.inspection import inspect_init

    proc = _ok(runs["inspect"].result())
    record = json.loads(proc.stdout)
    assert record["seeds"] == 2
    assert record["config"]["depth"] == 5
    assert (record["config"]["data_seed"], record["config"]["init_seed"]) == (3, 7)
    rows = record["layers"]
    assert [r["layer"] for r in rows] == [1, 2, 3, 4, 5]
    assert all(r["activation"] == "tanh" for r in rows)
    expected = inspect_init(RunConfig(depth=5, data_seed=3, init_seed=7), seeds=2)
    for row, (_, want) in zip(rows, expected.iterrows()):
        for key in ("pre_std", "post_std", "grad_norm", "weight_norm"):
            assert row[key] == pytest.approx(want[key], rel=1e-5), key
        assert row["dead_fraction"] == 0.0  # tanh units can die (float32), none do here
        assert row["resting_fraction"] is None  # only Leaky ReLU and PReLU units rest
    assert "averaged over 2 weight seed(s)" in proc.stderr


# ---- bad input: exit 2, one line, no traceback ---------------------------------------------

ERROR_CASES = {
    "lr-too-large": (("train", "--lr", "50"), ("--lr", "between 1e-05 and 10")),
    "depth-zero": (("train", "--depth", "0"), ("--depth", "between 1 and 32")),
    "width-too-wide": (("train", "--width", "600"), ("--width", "between 1 and 512")),
    "softmax-hidden": (("train", "--activation", "softmax"), ("softmax", "relu", "hardswish")),
    "unknown-dataset": (("train", "--dataset", "nope"), ("nope", "circle", "diabetes")),
    "unknown-flag": (("train", "--bogus"), ("--bogus",)),
    "batch-norm-batch-1": (
        ("train", "--batch-norm", "1", "--batch-size", "1"),
        ("batch norm", "at least 2"),
    ),
    "zero-steps": (("train", "--steps", "0"), ("steps", "between 1 and")),
    "zero-seeds": (("inspect", "--seeds", "0"), ("seeds", "between 1 and 100")),
    "tiny-training-split": (
        ("train", "--n-points", "10", "--train-ratio", "0.1"),
        ("n_points", "train_ratio"),
    ),
}


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_bad_input_exits_2_with_one_line(runs, name):
    proc = runs[name].result()
    code, out, err = proc.returncode, proc.stdout, proc.stderr
    _, words = ERROR_CASES[name]
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("python -m playground")
    assert "error:" in lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_unwritable_json_path_is_one_line_and_status_2(tmp_path):
    target = tmp_path / "missing-folder" / "run.json"
    proc = subprocess.run(
        [sys.executable, "-m", "playground", "train", "--steps", "5", "--json", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("python -m playground train: error:")
    assert "cannot write" in proc.stderr
