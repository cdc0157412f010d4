"""Labs: every lab file loads, a bad one is refused naming what is wrong, each lab's headline
holds when the engine runs it, and the command line reports it."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from playground import cli, labs
from playground.labs import LabError

LABS = labs.all_labs()


def test_every_lab_loads_with_its_words_and_variants():
    assert list(LABS) == [
        "dying-relu", "vanishing-gradients", "output-loss", "initialisation",
        "textbook-dying-relu",
    ]  # fmt: skip
    for lab in LABS.values():
        assert lab.question.endswith("?") and lab.explanation and lab.watch and lab.next
        assert len(lab.variants) >= 2 and lab.compare_config().problems() == []
    assert LABS["dying-relu"].variants[0].key == "too-hard"


GOOD = """
title = "t"
question = "q?"
explanation = "e"
watch = "w"
next = "n"
[settings]
dataset = "circle"
{extra}
[[variants]]
key = "a"
label = "A"
{variant}
[[variants]]
key = "b"
label = "B"
settings = {{ activation = "relu" }}
"""


@pytest.mark.parametrize(
    ("extra", "variant", "words"),
    [
        ("lr = 99", "", "lr must be a number between 1e-05 and 10"),
        ("", 'settings = { colour = "red" }', "variant a: unknown setting 'colour'"),
        ("", 'settings = { dataset = "xor" }', "variant a: dataset is shared by every variant"),
        ("", "settings = { depth = 0 }", "variant a: depth must be a whole number"),
        ("", "settings = { depth = 3 }", "share one depth"),
        ('hide = ["lr", "nope"]', "", "unknown control 'nope'"),
        ('present = "map"', "", "present must be one of gradients, health (got 'map')"),
    ],
)
def test_a_lab_file_with_a_bad_setting_is_refused_naming_it(tmp_path, extra, variant, words):
    if extra.startswith(("hide", "present")):
        text = extra + "\n" + GOOD.format(extra="", variant=variant)
    else:
        text = GOOD.format(extra=extra, variant=variant)
    path = tmp_path / "9-broken.toml"
    path.write_text(text)
    with pytest.raises(LabError, match="9-broken.toml") as e:
        labs.load(path)
    assert words in str(e.value)


def _dead_by_run(record: dict, key: str) -> list[float]:
    variant = next(v for v in record["variants"] if v["key"] == key)
    return [max(r["dead_fraction"]) for r in variant["runs"] if not r["diverged"]]


def test_dying_relu_the_problem_kills_units_on_most_seeds_and_the_cures_far_fewer():
    lab = LABS["dying-relu"]
    keep = {"too-hard", "lower-lr", "elu", "batch-norm"}
    lab = dataclasses.replace(lab, variants=tuple(v for v in lab.variants if v.key in keep))
    record = labs.run(lab, seeds=8)
    problem = _dead_by_run(record, "too-hard")
    assert len(problem) == 8 and sum(d >= 0.5 for d in problem) >= 6  # a layer half dead
    for cure in ("lower-lr", "elu", "batch-norm"):
        dead = _dead_by_run(record, cure)
        assert np.median(dead) <= np.median(problem) / 3, (cure, dead, problem)


def test_vanishing_gradients_sigmoid_first_layers_get_orders_of_magnitude_less():
    record = labs.run(LABS["vanishing-gradients"], seeds=2, steps=1)
    first = {
        v["key"]: np.median([r["grad_norm"][0] for r in v["runs"]]) for v in record["variants"]
    }
    assert first["sigmoid"] < 1e-4 * first["relu"] and first["sigmoid"] < 1e-4 * first["tanh"]


def test_initialisation_he_keeps_relus_spread_and_xavier_lets_it_shrink_away():
    """At step 0, through 30 layers of 64 ReLU units: the spread of each layer's outputs.
    He's gain of sqrt(2) makes up for the half ReLU zeroes; Xavier's, 1, loses a factor of
    about sqrt(2) a layer, so layer 20 is near 2^-10 of layer 1."""
    lab = LABS["initialisation"]
    relu = dataclasses.replace(
        lab, variants=tuple(v for v in lab.variants if v.key in ("relu-he", "relu-xavier"))
    )
    record = labs.run(relu, seeds=2)
    assert record["steps"] == 0
    std = {
        v["key"]: np.median([r["post_std"] for r in v["runs"]], axis=0) for v in record["variants"]
    }
    assert 0.3 < std["relu-he"][19] / std["relu-he"][0] < 3
    assert std["relu-xavier"][19] / std["relu-xavier"][0] < 2.0**-7
    across = {
        v["key"]: np.median([r["input_spread"] for r in v["runs"]], axis=0)
        for v in record["variants"]
    }
    frame = labs.spreads(lab, "relu", seeds=2)  # what the page draws: the spread across inputs
    he = frame[frame["variant"] == "ReLU, He"].set_index("layer")["median"]
    assert he.loc[20] == pytest.approx(across["relu-he"][19], rel=1e-6)


def test_the_spread_across_inputs_leaves_out_what_the_biases_fix():
    """PyTorch's default init: layer 30's raw spread stays near layer 5's, held up by random
    biases, while the part that varies with the input falls by orders of magnitude. Checked
    against numpy on the layer outputs themselves."""
    from playground.data import make_dataset
    from playground.inspection import init_spreads
    from playground.model import PAIRINGS, build_model
    from playground.probes import forward_capture, probe_rows
    from playground.train import model_spec

    cfg = labs.variant_config(LABS["initialisation"], LABS["initialisation"].variants[0])
    assert cfg.init == "default" and cfg.activation == "relu"
    spreads = init_spreads(cfg, seeds=1)
    data = make_dataset(cfg.data_config())
    x = torch.as_tensor(data.x_train)[torch.as_tensor(probe_rows(len(data.x_train), cfg.data_seed))]
    model = build_model(model_spec(cfg, data, PAIRINGS[cfg.resolved_pairing()], cfg.init_seed))
    out = forward_capture(model, x, batch_stats=True)[1][4][1].double().numpy()  # layer 5
    assert spreads["spread"][0, 4] == pytest.approx(out.std(ddof=1), rel=1e-6)
    by_unit = np.sqrt(np.mean(np.var(out, axis=0, ddof=1)))
    assert spreads["input_spread"][0, 4] == pytest.approx(by_unit, rel=1e-6)
    raw, across = spreads["spread"][0], spreads["input_spread"][0]
    assert 0.5 < raw[29] / raw[4] < 2 and across[29] / across[4] < 1e-2


def test_a_guess_on_a_layer_the_network_lacks_is_refused(tmp_path):
    path = tmp_path / "9-guess.toml"
    path.write_text(GOOD.format(extra="", variant="") + '[guess]\nlayer = 40\ninit = "he"\n')
    with pytest.raises(LabError, match="guess.layer must be a hidden layer, 1 to 2"):
        labs.load(path)


def test_the_pairing_numbers_match_a_hand_computation():
    rows = {(r["pairing"], r["case"]): r for r in labs.pairing_numbers()}
    bce = rows["Sigmoid + BCELoss", "logit 17, label 0"]
    assert (bce["loss"], bce["gradient"]) == (100.0, 0.0)  # log(0) clamped at -100, no slope
    logits = rows["One logit + BCEWithLogitsLoss", "logit 17, label 0"]
    sig17 = 1 / (1 + math.exp(-17))
    assert logits["loss"] == pytest.approx(17 + math.log1p(math.exp(-17)))
    assert logits["gradient"] == pytest.approx(sig17)
    floor = rows["Softmax + CrossEntropyLoss", "3 classes, right at logit 30"]
    assert floor["loss"] == pytest.approx(math.log(1 + 2 / math.e), rel=1e-6)
    tanh = rows["Tanh output + MSE", "target 2, pre-output 3"]
    t = math.tanh(3)
    assert tanh["loss"] == pytest.approx((t - 2) ** 2, rel=1e-6)
    assert tanh["gradient"] == pytest.approx(abs(2 * (t - 2) * (1 - t * t)), rel=1e-5)


def test_the_command_line_lists_and_runs_a_lab(capsys):
    assert cli.main(["lab", "list"]) == 0
    assert "dying-relu: Dying ReLU." in capsys.readouterr().out
    assert cli.main(["lab", "dying-relu", "--seeds", "2", "--steps", "20", "--json", "-"]) == 0
    captured = capsys.readouterr()
    record = json.loads(captured.out)
    assert record["lab"] == "dying-relu" and record["variants"][0]["key"] == "too-hard"
    run = record["variants"][0]["runs"][0]
    assert set(run) == {
        "seed",
        "diverged",
        "dead_fraction",
        "resting_fraction",
        "saturated_fraction",
        "grad_norm",
    }
    assert len(run["dead_fraction"]) == 4 and run["diverged"] is False
    assert "too-hard" in captured.err  # the table, beside the JSON on stdout
    assert cli.main(["lab", "nope"]) == 2
    assert "no lab 'nope'" in capsys.readouterr().err


def test_the_textbook_example_kills_units_on_most_seeds_and_diverges_on_some():
    record = labs.run(LABS["textbook-dying-relu"], seeds=8)
    textbook, lower = record["variants"]
    diverged = [r for r in textbook["runs"] if r["diverged"]]
    finite = [r for r in textbook["runs"] if not r["diverged"]]
    assert len(finite) >= 5 and np.median([r["dead_fraction"][0] for r in finite]) >= 0.2
    assert all(r["grad_norm"][0] == 0 for r in finite if r["dead_fraction"][0] == 1)
    assert not any(r["diverged"] for r in lower["runs"]) and len(diverged) < 8
    assert max(r["dead_fraction"][0] for r in lower["runs"]) < 0.5


def test_the_script_as_written_is_counted_seed_by_seed():
    small = labs.textbook_script(seeds=6, steps=100)
    assert small == labs.textbook_script(seeds=6, steps=100)  # seeded: the same every time
    assert small["nan"] + len(small["dead_of_5"]) == 6
    assert all(0 <= d <= 5 for d in small["dead_of_5"])


def test_each_lab_presents_the_chart_its_words_say_to_watch():
    found = labs.all_labs()
    assert found["dying-relu"].present == "health" and "Dead units" in found["dying-relu"].watch
    assert found["vanishing-gradients"].present == "gradients"
    assert "Gradient norm" in found["vanishing-gradients"].watch
    assert found["textbook-dying-relu"].present == "health"
