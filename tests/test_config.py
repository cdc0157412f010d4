"""The settings table, RunConfig validation, and the URL round trip with its notices."""

from __future__ import annotations

import dataclasses
import math

import pytest

from playground import activations
from playground.config import (
    CONTROLS,
    GROUPS,
    SCHEMA_VERSION,
    SETTING,
    SETTINGS,
    ConfigError,
    RunConfig,
    from_query,
    hide_query,
    parse_hide,
    to_query,
)
from playground.data import DATASETS, make_dataset
from playground.model import INITS, PAIRINGS
from playground.presets import PRESETS

DEFAULTS = RunConfig()
# every field is a setting, but for the uploaded table, which no link or flag can carry
FIELDS = {f.name: f for f in dataclasses.fields(RunConfig) if f.name != "upload"}

# A config that differs from the defaults in every field: these values are chosen by hand;
# any setting added to the table later gets a valid non-default value from `_other_value`.
_CHOSEN = dict(
    dataset="moons",
    n_points=300,
    noise=0.15,
    train_ratio=0.7,
    n_classes=4,
    data_seed=11,
    activation="leaky_relu",
    alpha=0.2,
    layer_activations="leaky_relu,elu,relu",
    depth=3,
    width=16,
    init="he",
    batch_norm=True,
    pairing="sigmoid_bce",
    init_seed=4,
    optimizer="adam",
    lr=0.0031,
    batch_size=32,
    l1=0.0005,
    l2=0.001,
    device="cuda",
    probe_every=5,
    probe_ms=250.0,
    features="x1,x2,x1_x2,sin_x1",
)


def _other_value(key: str) -> object:
    s, default = SETTING[key], FIELDS[key].default
    if s.kind is bool:
        return not default
    if s.choices:
        return next(c for c in s.choices if c != default)
    if s.kind is str:
        return default + "x"
    low, high = s.low, s.high
    if s.kind is int:
        return int(low) if default != low else int(low) + 1
    value = round(low + 0.37 * (high - low), 6)
    return value if value != default else round(low + 0.61 * (high - low), 6)


CUSTOM = RunConfig(**{k: _CHOSEN[k] if k in _CHOSEN else _other_value(k) for k in FIELDS})
# The same, without per-layer activations or an explicit pairing: a link whose fields are
# independent, so one bad field cannot drag another back to its default.
PLAIN = CUSTOM.replace(layer_activations="", pairing="auto")


def _query(cfg: RunConfig, **overrides: str) -> dict[str, str]:
    return {**to_query(cfg), **overrides}


# ---- the table and its defaults ------------------------------------------------------------


def test_table_declares_exactly_the_config_fields_once():
    keys = [s.key for s in SETTINGS]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(FIELDS)
    assert set(SETTING) == set(keys)


def test_custom_config_really_differs_from_the_defaults_everywhere():
    for key in FIELDS:
        assert getattr(CUSTOM, key) != getattr(DEFAULTS, key), key


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.key)
def test_each_default_passes_its_own_check(setting):
    default = FIELDS[setting.key].default
    assert default == getattr(DEFAULTS, setting.key)
    if setting.key == "alpha":
        assert default is None  # "use the activation's own default"
        return
    assert isinstance(default, setting.kind)
    setting.check(default)  # must not raise
    if setting.choices:
        assert default in setting.choices
    if setting.low is not None:
        assert setting.low <= default <= setting.high


def test_default_config_has_no_problems_and_validates_to_itself():
    assert DEFAULTS.problems() == []
    assert DEFAULTS.validate() is DEFAULTS
    assert CUSTOM.problems() == []
    assert PLAIN.validate() is PLAIN


def test_choices_come_from_the_registries():
    assert SETTING["dataset"].choices == tuple(DATASETS)
    assert SETTING["activation"].choices == activations.HIDDEN_KEYS
    assert "softmax" not in SETTING["activation"].choices
    assert SETTING["init"].choices == tuple(INITS)
    assert SETTING["pairing"].choices == ("auto", *PAIRINGS)


def test_config_defaults_are_the_tables():
    for setting in SETTINGS:
        assert getattr(DEFAULTS, setting.key) == setting.default, setting.key


def test_every_setting_belongs_to_a_sidebar_group_and_has_help():
    for setting in SETTINGS:
        assert setting.group in GROUPS, setting.key
        assert setting.label and setting.help.endswith("."), setting.key


def test_grids_hold_only_allowed_values_and_include_the_default():
    for setting in (s for s in SETTINGS if s.grid):
        assert list(setting.grid) == sorted(setting.grid), setting.key
        for value in setting.grid:
            setting.check(value)
        assert setting.default in setting.grid, setting.key


def test_grid_options_add_a_linked_value_that_is_off_the_grid():
    lr = SETTING["lr"]
    assert lr.options({"lr": 0.03}) == list(lr.grid)
    assert lr.options({"lr": 0.02}) == sorted([*lr.grid, 0.02])


def test_choice_labels_name_every_choice():
    for setting in (s for s in SETTINGS if s.labels):
        assert set(setting.labels) == set(setting.choices), setting.key
    assert SETTING["dataset"].label_of("spiral") == "Spiral (binary)"
    assert SETTING["pairing"].label_of("auto") == "auto (recommended)"


def test_pairing_options_follow_the_task():
    options = SETTING["pairing"].options({"dataset": "blobs"})
    assert options[0] == "auto"
    assert {PAIRINGS[k].task for k in options[1:]} == {"multiclass"}
    assert "bce_logits" in SETTING["pairing"].options({"dataset": "circle"})


def test_a_choice_that_no_longer_fits_falls_back_to_the_first_that_does():
    pairing = SETTING["pairing"]
    assert pairing.fitting("softmax_ce", {"dataset": "blobs"}) == "softmax_ce"
    assert pairing.fitting("softmax_ce", {"dataset": "circle"}) == "auto"


def test_classes_are_shown_only_for_blobs():
    assert SETTING["n_classes"].shown({"dataset": "blobs"})
    assert not SETTING["n_classes"].shown({"dataset": "circle"})
    assert SETTING["depth"].shown({})


# ---- hide flags and presets ---------------------------------------------------------------------
def test_hide_takes_setting_keys_groups_and_buttons():
    hidden, notices = parse_hide("lr,Training,play")
    training = [s.key for s in SETTINGS if s.group == "Training" and s.hideable]
    assert hidden == ("lr", *(k for k in training if k != "lr"), "play")
    assert "device" not in hidden  # not hideable, even as part of its group
    assert notices == []
    assert set(CONTROLS) <= set(parse_hide(",".join(CONTROLS))[0])


def test_hide_refuses_unknown_and_unhideable_names_with_notices():
    hidden, notices = parse_hide("depth, bogus ,device,,")
    assert hidden == ("depth",)
    assert any("bogus" in n for n in notices)
    assert any("device cannot be hidden" in n for n in notices)


def test_hide_round_trips_and_is_not_an_unknown_link_parameter():
    hidden = parse_hide("lr,Data")[0]
    query = {**to_query(DEFAULTS), **hide_query(hidden)}
    assert parse_hide(query["hide"])[0] == hidden
    assert from_query(query) == (DEFAULTS, [])
    assert hide_query(()) == {}


@pytest.mark.parametrize("preset", PRESETS.values(), ids=lambda p: p.key)
def test_presets_are_valid_links_that_apply_every_setting_they_name(preset):
    cfg, notices = from_query(preset.query())
    assert notices == []
    for key, text in preset.settings.items():
        assert getattr(cfg, key) == SETTING[key].parse(text)
    assert parse_hide(preset.query().get("hide", ""))[0] == parse_hide(",".join(preset.hide))[0]


# ---- Setting.parse / check / describe ---------------------------------------------------------


@pytest.mark.parametrize("text", ["1", "true", "TRUE", " yes ", "On"])
def test_parse_bool_true(text):
    assert SETTING["batch_norm"].parse(text) is True


@pytest.mark.parametrize("text", ["0", "false", "False", "no", " off"])
def test_parse_bool_false(text):
    assert SETTING["batch_norm"].parse(text) is False


@pytest.mark.parametrize("text", ["2", "", "maybe", "truthy"])
def test_parse_bool_rejects_anything_else(text):
    with pytest.raises(ConfigError, match="batch_norm must be true or false"):
        SETTING["batch_norm"].parse(text)


def test_parse_int():
    depth = SETTING["depth"]
    assert depth.parse(" 7 ") == 7 and isinstance(depth.parse("7"), int)
    assert depth.parse("1") == 1 and depth.parse("32") == 32  # both ends inclusive
    for bad in ("3.5", "abc", "", "1e1"):
        with pytest.raises(ConfigError, match=r"depth must be a whole number between 1 and 32"):
            depth.parse(bad)
    for outside in ("0", "33", "-4"):
        with pytest.raises(ConfigError, match=r"between 1 and 32 \(got -?\d+\)"):
            depth.parse(outside)


def test_parse_float():
    lr = SETTING["lr"]
    assert lr.parse("0.0031") == 0.0031
    assert lr.parse("1e-3") == 0.001
    assert lr.parse("1e-5") == 1e-5 and lr.parse("10") == 10.0  # both ends inclusive
    assert isinstance(lr.parse("1"), float)
    for bad in ("10.000001", "1e-6", "0", "-0.1", "nan", "inf", "-inf", "fast"):
        with pytest.raises(ConfigError, match=r"lr must be a number between 1e-05 and 10"):
            lr.parse(bad)


def test_parse_choice_names_every_choice():
    with pytest.raises(ConfigError) as e:
        SETTING["optimizer"].parse("lbfgs")
    assert "one of sgd, momentum, adam, rmsprop" in str(e.value)
    assert SETTING["optimizer"].parse(" adam ") == "adam"


def test_check_rejects_nan_even_without_a_comparison_failing():
    with pytest.raises(ConfigError):
        SETTING["noise"].check(math.nan)
    SETTING["noise"].check(0.5)
    with pytest.raises(ConfigError):
        SETTING["noise"].check(0.5000001)


def test_describe():
    assert SETTING["depth"].describe() == "a whole number between 1 and 32"
    assert SETTING["noise"].describe() == "a number between 0 and 0.5"
    assert SETTING["batch_norm"].describe() == "true or false"
    assert SETTING["layer_activations"].describe() == "text"
    assert SETTING["device"].describe() == "one of cpu, cuda, mps"


# ---- single-field problems ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"depth": 0}, "depth", "between 1 and 32"),
        ({"width": 600}, "width", "between 1 and 512"),
        ({"lr": math.nan}, "lr", "between 1e-05 and 10"),
        ({"dataset": "nope"}, "dataset", "one of circle"),
        ({"alpha": 6.0}, "alpha", "between 0 and 5"),
    ],
)
def test_out_of_range_field_is_a_problem(changes, key, words):
    cfg = RunConfig(**changes)
    problems = cfg.problems()
    assert [k for k, _ in problems] == [key]
    assert words in problems[0][1]
    with pytest.raises(ConfigError, match=words):
        cfg.validate()


def test_validate_reports_every_problem_in_one_message():
    cfg = RunConfig(depth=0, width=600)
    assert [k for k, _ in cfg.problems()] == ["depth", "width"]
    with pytest.raises(ConfigError) as e:
        cfg.validate()
    assert "depth must be" in str(e.value) and "width must be" in str(e.value)


# ---- combination problems --------------------------------------------------------------------

# (config, key, words in the message); every config's fields are each in range on their own.
COMBINATIONS = [
    pytest.param(
        PLAIN.replace(batch_norm=True, batch_size=1), "batch_norm", "at least 2", id="bn-batch-1"
    ),
    pytest.param(
        PLAIN.replace(layer_activations="relu,softmax,tanh"),
        "layer_activations",
        "softmax belongs in the output layer only",
        id="softmax-hidden",
    ),
    pytest.param(
        PLAIN.replace(layer_activations="relu,swish,tanh"),
        "layer_activations",
        "unknown activation 'swish'",
        id="unknown-activation",
    ),
    pytest.param(
        PLAIN.replace(layer_activations="relu,tanh"),
        "layer_activations",
        "names 2 activations but depth is 3",
        id="count-vs-depth",
    ),
    pytest.param(
        PLAIN.replace(activation="leaky_relu", alpha=2.0),
        "alpha",
        "alpha for leaky_relu must be between 0 and 1 (got 2)",
        id="alpha-above-leaky",
    ),
    pytest.param(
        PLAIN.replace(activation="elu", alpha=0.0),
        "alpha",
        "alpha for elu must be between 0.01 and 5 (got 0)",
        id="alpha-below-elu",
    ),
    pytest.param(
        PLAIN.replace(dataset="circle", pairing="mse"),
        "pairing",
        "choose auto or one of bce_logits, sigmoid_bce",
        id="regression-pairing-on-binary",
    ),
    pytest.param(
        PLAIN.replace(dataset="plane", pairing="ce_logits"),
        "pairing",
        "is for multiclass tasks but plane is regression",
        id="multiclass-pairing-on-regression",
    ),
]


@pytest.mark.parametrize(("cfg", "key", "words"), COMBINATIONS)
def test_combination_problem_is_reported_and_refused(cfg, key, words):
    for s in SETTINGS:  # the premise: each field is fine on its own
        if getattr(cfg, s.key) is not None:
            s.check(getattr(cfg, s.key))
    problems = cfg.problems()
    assert [k for k, _ in problems] == [key]
    assert words in problems[0][1]
    with pytest.raises(ConfigError) as e:
        cfg.validate()
    assert words in str(e.value)


@pytest.mark.parametrize(("cfg", "key", "words"), COMBINATIONS)
def test_combination_problem_in_a_link_is_corrected_with_a_notice(cfg, key, words):
    got, notices = from_query(to_query(cfg))
    assert got == cfg.replace(**{key: getattr(DEFAULTS, key)})
    assert got.problems() == []
    assert len(notices) == 1
    assert words in notices[0] and f"using the default for {key}" in notices[0]


def test_alpha_of_an_activation_without_a_parameter_is_not_a_problem():
    assert RunConfig(activation="tanh", alpha=4.0).problems() == []


def test_combination_rules_wait_for_single_field_problems():
    # depth 0 is reported; the layer count is not compared with a depth that is itself invalid
    cfg = RunConfig(depth=0, layer_activations="relu,relu")
    assert [k for k, _ in cfg.problems()] == ["depth"]


def test_tiny_training_split_cannot_be_built():
    # the premise of the next test: 10 points at a 0.1 train share leave 1 training point
    with pytest.raises(ValueError, match="fewer than the 2 classes"):
        make_dataset(RunConfig(n_points=10, train_ratio=0.1).data_config())


def test_problems_reports_a_training_split_smaller_than_the_classes():
    cfg = RunConfig(n_points=10, train_ratio=0.1)
    assert {k for k, _ in cfg.problems()} & {"n_points", "train_ratio"}


# ---- URL round trip ------------------------------------------------------------------------


def test_to_query_writes_every_setting_as_text_with_the_version():
    q = to_query(CUSTOM)
    assert q["v"] == str(SCHEMA_VERSION)
    assert set(q) == {"v", *SETTING}
    assert all(isinstance(v, str) for v in q.values())
    assert q["batch_norm"] == "1" and q["lr"] == "0.0031" and q["alpha"] == "0.2"
    assert q["layer_activations"] == "leaky_relu,elu,relu"
    assert to_query(DEFAULTS)["batch_norm"] == "0"
    assert "alpha" not in to_query(DEFAULTS)  # unset alpha is left out


@pytest.mark.parametrize(
    "cfg",
    [
        CUSTOM,
        PLAIN,
        DEFAULTS,
        RunConfig(dataset="diabetes", pairing="l1", activation="elu", alpha=0.35, lr=7.5e-05),
        RunConfig(dataset="blobs", n_classes=5, pairing="log_softmax_nll", noise=0.05),
        RunConfig(activation="prelu", alpha=0.0, depth=1, width=1, l2=1.0, probe_ms=10.0),
    ],
    ids=["custom", "plain", "defaults", "regression", "blobs", "edges"],
)
def test_link_round_trips_exactly_without_notices(cfg):
    got, notices = from_query(to_query(cfg))
    assert notices == []
    assert got == cfg
    for key in FIELDS:  # equal values of the same type (True is not 1, 5.0 is not 5)
        assert type(getattr(got, key)) is type(getattr(cfg, key)), key


def test_link_round_trips_floats_that_need_17_digits():
    cfg = RunConfig(lr=0.1 + 0.2, noise=1 / 7, train_ratio=2 / 3)
    got, notices = from_query(to_query(cfg))
    assert notices == []
    assert got == cfg


def test_empty_link_gives_defaults_silently():
    assert from_query({}) == (DEFAULTS, [])


def test_blank_alpha_means_the_activation_default():
    got, notices = from_query(_query(PLAIN, alpha=""))
    assert notices == []
    assert got == PLAIN.replace(alpha=None)


def test_unknown_keys_are_ignored_with_one_notice_naming_them():
    got, notices = from_query(_query(PLAIN, zeta="1", foo="bar"))
    assert got == PLAIN
    assert notices == ["Ignored unknown link parameter(s): foo, zeta."]


@pytest.mark.parametrize(
    ("key", "text", "words"),
    [
        ("depth", "abc", "depth must be a whole number between 1 and 32 (got 'abc')"),
        ("lr", "1e9", "lr must be a number between 1e-05 and 10"),
        ("lr", "nan", "lr must be a number between 1e-05 and 10"),
        ("dataset", "nope", "dataset must be one of " + ", ".join(DATASETS)),
        ("batch_norm", "2", "batch_norm must be true or false"),
        ("width", "0", "width must be a whole number between 1 and 512"),
        ("alpha", "-1", "alpha must be a number between 0 and 5"),
    ],
)
def test_malformed_value_falls_back_to_default_and_keeps_the_rest(key, text, words):
    got, notices = from_query(_query(PLAIN, **{key: text}))
    assert got == PLAIN.replace(**{key: getattr(DEFAULTS, key)})
    assert len(notices) == 1
    assert words in notices[0] and notices[0].endswith("using the default.")


def test_fallback_that_breaks_a_combination_is_corrected_too():
    # depth falls back to 2, so the three per-layer activations no longer fit and are dropped
    got, notices = from_query(_query(CUSTOM.replace(pairing="auto"), depth="abc"))
    assert got == CUSTOM.replace(pairing="auto", depth=2, layer_activations="")
    assert len(notices) == 2
    assert "depth must be" in notices[0]
    assert "names 3 activations but depth is 2" in notices[1]


def test_dataset_fallback_resets_a_pairing_for_the_old_task():
    base = PLAIN.replace(dataset="blobs", pairing="ce_logits")
    got, notices = from_query(_query(base, dataset="nope"))
    assert got == base.replace(dataset="circle", pairing="auto")
    assert len(notices) == 2 and "using the default for pairing" in notices[1]


def test_other_schema_version_warns_but_applies_valid_settings():
    got, notices = from_query(_query(PLAIN, v="0"))
    assert got == PLAIN
    assert len(notices) == 1
    assert "'0'" in notices[0] and f"version {SCHEMA_VERSION}" in notices[0]


def test_missing_version_is_read_as_the_current_one():
    q = to_query(PLAIN)
    del q["v"]
    assert from_query(q) == (PLAIN, [])


def test_list_values_take_the_last_entry():
    q: dict[str, object] = dict(to_query(PLAIN))
    q.update(v=[str(SCHEMA_VERSION)], depth=["3", "5"], lr=("0.5", "0.0042"), batch_norm=["0"])
    got, notices = from_query(q)
    assert notices == []
    assert got == PLAIN.replace(depth=5, lr=0.0042, batch_norm=False)


def test_list_value_with_a_bad_last_entry_falls_back():
    got, notices = from_query(_query(PLAIN) | {"width": ["16", "9999"]})
    assert got == PLAIN.replace(width=DEFAULTS.width)
    assert len(notices) == 1 and "width must be" in notices[0]


def test_batch_norm_is_refused_when_the_real_batch_has_one_point():
    cfg = RunConfig(dataset="plane", n_points=10, train_ratio=0.1, batch_norm=True, batch_size=32)
    assert [k for k, _ in cfg.problems()] == ["batch_norm"]
    with pytest.raises(ConfigError, match="batch norm needs at least 2"):
        cfg.validate()


def test_features_read_from_a_link_in_the_tables_order_each_once():
    cfg, notices = from_query({"dataset": "circle", "features": "sin_x2, X1_X2,x1,x1_x2"})
    assert notices == [] and cfg.feature_keys() == ("x1", "x1_x2", "sin_x2")
    assert cfg.data_config().features == ("x1", "x1_x2", "sin_x2")
    cfg, notices = from_query({"features": "x1,x9"})
    assert cfg.features == "x1,x2" and any("'x9'" in n and "x1_sq" in n for n in notices)
    assert RunConfig(features=",").problems()[0][0] == "features"


def test_features_and_data_display_settings_round_trip_a_link():
    cfg = RunConfig(dataset="xor", features="x1,x2,x1_x2", show_test=False, discrete=True)
    back, notices = from_query(to_query(cfg))
    assert back == cfg and notices == []
    assert not cfg.needs_rebuild(cfg.replace(show_test=True, discrete=False))
    assert cfg.needs_rebuild(cfg.replace(features="x1,x2"))
