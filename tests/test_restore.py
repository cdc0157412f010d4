"""Loading back what the Downloads saved: weights reproduce the saved run's next loss, a config
its settings; files of another network or no format at all are refused with the run kept."""

import json

import numpy as np
import pytest
import torch
from apptools import open_page, tile
from safetensors.torch import save

from playground.config import RunConfig
from playground.runner import Trainer
from playground.train import Run
from ui import restore

CFG = RunConfig(dataset="spiral", activation="relu", depth=3, lr=0.1, batch_size=10, probe_every=1)


def _loss_after(run: Run, steps: int) -> np.ndarray:
    run.step(steps)
    run.flush()
    return run.history.steps.frame()["loss"].to_numpy()[-steps:]


@pytest.mark.parametrize("saved_at", [37, 50, 125])  # mid-epoch, at an epoch's end, later
def test_resumed_weights_take_exactly_the_saved_runs_next_steps(saved_at):
    original = Run(CFG)
    original.step(saved_at)
    weights = original.state_dict()
    expected = _loss_after(original, 5)
    again = Run(CFG)
    again.resume(weights, saved_at)
    assert again.step_count == saved_at
    np.testing.assert_array_equal(_loss_after(again, 5), expected)


def test_weights_of_another_network_are_refused_and_the_run_kept():
    run = Run(CFG)
    run.step(3)
    other = Run(CFG.replace(width=16)).state_dict()
    with pytest.raises(ValueError, match=r"linears.0.weight is shaped \(16, 2\).*\(8, 2\)"):
        run.resume(other)
    assert run.step_count == 3
    with pytest.raises(ValueError, match="missing"):
        run.resume({})


def test_the_weights_file_carries_its_config_and_step():
    trainer = Trainer(CFG)
    try:
        trainer.step(12)
        raw = restore.weights_file(trainer)
        weights, record = restore._weights(raw)
        assert record["step"] == 12 and record["width"] == 8 and record["activation"] == "relu"
        link = restore.as_link(record)
        assert link["dataset"] == "spiral" and link["lr"] == "0.1" and link["batch_norm"] == "0"
        torch.testing.assert_close(weights, trainer.export()[1])
    finally:
        trainer.close()


def _load(at, name: str, raw: bytes):
    return (
        at.file_uploader(key=restore.FILE).set_value((name, raw, "application/octet-stream")).run()
    )


def test_the_page_loads_weights_back_and_goes_on_from_them():
    saved = Run(CFG.replace(probe_every=0))
    saved.step(40, probe_at_end=True)
    record = {
        "schema_version": 1,
        **{k: getattr(saved.cfg, k) for k in ("dataset", "activation", "depth", "lr")},
        "step": 40,
    }
    raw = save(
        saved.state_dict(),
        metadata={"format": restore.FORMAT, "step": "40", "config": json.dumps(record)},
    )
    at = open_page()
    _load(at, "weights.safetensors", raw)
    assert not at.exception and not at.error
    assert (
        at.selectbox(key="cfg_dataset").value == "spiral" and at.slider(key="cfg_depth").value == 3
    )
    assert tile(at, "Step") == "40"
    assert float(tile(at, "Train loss")) == pytest.approx(saved.latest.train_loss, rel=1e-3)


def test_the_page_applies_a_config_and_refuses_bad_files_keeping_the_run():
    at = open_page()
    at.button(key="step").click().run()
    for name, raw, words in (
        ("x.json", b"{not json", "not a JSON config"),
        ("x.json", b'{"hello": 1}', "no settings of this app"),
        ("x.safetensors", b"\x00" * 40, "not a safetensors weights file"),
    ):
        _load(at, name, raw)
        assert not at.exception and words in at.error[0].value and "unchanged" in at.error[0].value
        assert tile(at, "Step") == "1"
    _load(at, "config.json", json.dumps({"schema_version": 1, "depth": 5, "lr": 0.3}).encode())
    assert not at.error and at.slider(key="cfg_depth").value == 5
    assert at.select_slider(key="cfg_lr").value == 0.3 and tile(at, "Step") == "0"
    wrong = save(Run(RunConfig(width=16)).state_dict())  # no header: this run's network, or not
    _load(at, "other.safetensors", wrong)
    assert "another network" in at.error[0].value and at.slider(key="cfg_depth").value == 5
