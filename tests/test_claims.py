"""Claims: a sentence's numbers checked by the app's own runs, and the checks checked by hand."""

import numpy as np
import pytest

from playground import advice, claims, labs, presets
from playground.claims import Claim, ClaimError, verdict

# two variants, three seeds, two hidden layers; seed 2 of "b" diverged (NaN)
FOUND = {
    "a": {
        "test_metric": np.array([0.9, 0.8, 0.95]),
        "dead_fraction": np.array([[0.0, 0.5], [0.1, 0.2], [0.0, 0.25]]),
        "revivals": np.array([[0.0, 3.0], [0.0, 1.0], [0.0, 0.0]]),
        "grad_norm": np.array([[1e-8, 1.0], [1e-7, 2.0], [1e-9, 0.5]]),
        "diverged": np.array([0.0]),
    },
    "b": {
        "test_metric": np.array([0.6, 0.7, np.nan]),
        "dead_fraction": np.array([[0.5, 0.5], [0.4, 0.6], [np.nan, np.nan]]),
        "revivals": np.zeros((3, 2)),
        "grad_norm": np.ones((3, 2)),
        "diverged": np.array([1.0]),
    },
}


def _v(**kw):
    return verdict(Claim("it", **kw), FOUND, 100)


def test_every_seed_means_the_worst_seed_decides():
    assert _v(variant="a", measure="test_metric", op=">", value=0.8).measured == 0.8
    assert not _v(variant="a", measure="test_metric", op=">", value=0.8).passed  # 0.8 > 0.8
    assert _v(variant="a", measure="test_metric", op=">=", value=0.8).passed
    assert _v(variant="a", measure="test_metric", op="<", value=0.96).measured == 0.95


def test_median_and_another_variant_with_a_factor():
    v = _v(variant="a", measure="test_metric", op=">", than="b", factor=1.2, over="median")
    assert v.measured == 0.9 and v.threshold == pytest.approx(1.2 * 0.65)  # b's live median
    assert v.passed and v.margin == pytest.approx((0.9 - 0.78) / 0.78)
    # every seed: a's worst (0.8) against b's best live seed (0.7), the diverged one left out
    v = _v(variant="a", measure="test_metric", op=">", than="b")
    assert (v.measured, v.threshold, v.passed) == (0.8, 0.7, True)


def test_layers_one_every_or_summed_and_ratios_between_layers():
    assert _v(variant="a", measure="dead_fraction", op="<=", value=0.1, layer=1).passed
    every = _v(variant="a", measure="dead_fraction", op="<", value=0.5)
    assert every.measured == 0.5 and not every.passed  # the worst layer of the worst seed
    assert _v(variant="a", measure="revivals", op=">=", value=4, over="median").measured == 1
    ratio = _v(variant="a", measure="grad_norm", op="<", value=1e-6, layer=1, per_layer=2)
    assert ratio.measured == pytest.approx(5e-8) and ratio.passed


def test_a_claim_on_no_live_seed_fails():
    found = {"a": {"test_metric": np.array([np.nan, np.nan])}}
    v = verdict(Claim("it", "a", "test_metric", ">", 0.0), found, 10)
    assert np.isnan(v.measured) and not v.passed
    assert "FAIL" in v.line() and "margin" in v.line()


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ({"says": "x", "variant": "a", "measure": "nope", "op": "<", "value": 1}, "measure"),
        ({"says": "x", "variant": "a", "measure": "train_loss", "op": "~", "value": 1}, "op"),
        ({"says": "x", "variant": "a", "measure": "train_loss", "op": "<"}, "either value"),
        ({"says": "x", "variant": "z", "measure": "train_loss", "op": "<", "value": 1}, "'z'"),
        ({"says": "x", "variant": "a", "measure": "grad_norm", "op": "<", "value": 1,
          "layer": 9}, "not a hidden layer"),
        ({"says": "x", "variant": "a", "colour": "red"}, "unknown fields"),
    ],
)  # fmt: skip
def test_an_uncheckable_claim_is_refused_with_the_reason(row, why):
    with pytest.raises(ClaimError, match=why):
        claims.parse([row], ("a", "b"), 4)


def test_a_lab_file_with_a_bad_claim_is_refused(tmp_path):
    source = (labs.LABS_DIR / "2-vanishing-gradients.toml").read_text()
    bad = source.replace('measure = "test_metric"', 'measure = "happiness"', 1)
    (tmp_path / "2-vanishing-gradients.toml").write_text(bad)
    with pytest.raises(labs.LabError, match="2-vanishing-gradients.toml: claim .*measure"):
        labs.all_labs(tmp_path)


def test_every_lab_preset_and_advice_makes_checkable_claims():
    for lab in labs.all_labs().values():
        assert len(lab.claims) >= 5, lab.key
    assert set(presets.CHECKS) - {"overfitting-half"} == set(presets.PRESETS)
    assert {"very-deep", "four-layers", "sixteen-layers", "two-layers"} == set(advice.CHECKS)
    for experiment in (*presets.CHECKS.values(), *advice.CHECKS.values()):
        cfg = experiment.config()
        for claim in experiment.claims:
            assert not claim.problems(tuple(experiment.variants), cfg.base.depth), claim


def test_the_very_deep_advice_says_what_its_try_link_shows():
    rec = advice.recommend("hidden", "binary", 40)
    assert "stay at chance" in rec.reason and rec.settings["depth"] == "32"
    assert "train at this depth" not in rec.reason + rec.alternatives


def test_a_preset_never_offers_he_initialisation_as_a_cure_for_dying():
    note = presets.PRESETS["dying_relu"].note
    assert "He initialisation does not help" in note


def test_a_short_check_runs_the_lab_and_reports_every_claim():
    lab = labs.all_labs()["textbook-dying-relu"]
    verdicts = labs.check(lab, seeds=4, steps=30)
    assert len(verdicts) == len(lab.claims) and all(v.steps == 30 for v in verdicts)
    assert all(np.isfinite(v.threshold) for v in verdicts)


# ---- the claims themselves, on the full runs (full tier: each runs the command line) --------
# Each lab at its own steps and at 5x (the Labs page has no step limit), every seed the lab
# has; the presets and the advice at their stated lengths. About a minute of training together.
@pytest.mark.parametrize(
    "args",
    [["lab", "all", "--check"], ["lab", "all", "--check", "--times", "5"],
     ["claims", "presets"], ["claims", "advice"]],
    ids=["labs", "labs-5x", "presets", "advice"],
)  # fmt: skip
def test_every_claim_holds_on_the_apps_own_runs(spawn, args):
    done = spawn(["-m", "playground", *args], timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "FAIL" not in done.stdout and " claims hold" in done.stdout
