"""Datasets: reproducible, well-shaped, standardised, geometrically right, and strict on input."""

import dataclasses

import numpy as np
import pytest

from playground.data import (
    DATASETS,
    TABLES,
    TASKS,
    DataConfig,
    Dataset,
    make_dataset,
    n_train_points,
    raw_points,
)

# uploads and drawings are built from a table: tests/test_upload.py and tests/test_drawing.py
BUILT_IN = [k for k in DATASETS if k not in TABLES]
TOYS = [k for k in BUILT_IN if not DATASETS[k].real]
REAL = [k for k in BUILT_IN if DATASETS[k].real]
CLASSIFICATION = [k for k in BUILT_IN if DATASETS[k].task != "regression"]
ARRAYS = ("x_train", "y_train", "x_test", "y_test")


def _same(a: Dataset, b: Dataset) -> bool:
    return all(
        getattr(a, f).dtype == getattr(b, f).dtype
        and getattr(a, f).shape == getattr(b, f).shape
        and getattr(a, f).tobytes() == getattr(b, f).tobytes()
        for f in ARRAYS
    )


def test_registry_lists_every_dataset_in_display_order():
    assert list(DATASETS) == [
        "circle", "xor", "gauss", "spiral", "moons", "blobs", "spiral3", "plane", "multigauss",
        "digits", "iris", "wine", "breast_cancer", "diabetes", "noise", "drawn", "upload",
    ]  # fmt: skip
    for key, spec in DATASETS.items():
        assert spec.key == key and spec.task in TASKS and spec.help
        assert spec.n_classes == {"binary": 2, "regression": 1}.get(spec.task, spec.n_classes)
        assert spec.real == (spec.n_features != 2) or key == "noise"  # noise: generated, 10-D


@pytest.mark.parametrize("name", BUILT_IN)
def test_same_config_gives_identical_arrays(name):
    cfg = DataConfig(name=name, n_points=200, noise=0.2, seed=7)
    assert _same(make_dataset(cfg), make_dataset(cfg))


@pytest.mark.parametrize("name", BUILT_IN)
def test_different_seed_gives_different_data(name):
    a = make_dataset(DataConfig(name=name, n_points=200, noise=0.2, seed=1))
    b = make_dataset(DataConfig(name=name, n_points=200, noise=0.2, seed=2))
    assert not np.array_equal(a.x_train, b.x_train)


@pytest.mark.parametrize("name", [k for k in TOYS if k != "spiral" and k != "spiral3"])
def test_toy_points_depend_on_seed_even_without_noise(name):
    a, _ = raw_points(DataConfig(name=name, seed=1))
    b, _ = raw_points(DataConfig(name=name, seed=2))
    assert not np.array_equal(a, b)


def test_randomness_never_touches_global_state():
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    make_dataset(DataConfig(name="moons", noise=0.3))
    make_dataset(DataConfig(name="iris", noise=0.3))
    assert np.random.random() == before


@pytest.mark.parametrize("name", BUILT_IN)
@pytest.mark.parametrize(("n_points", "ratio"), [(500, 0.5), (101, 0.3), (25, 0.5), (10, 0.9)])
def test_shapes_dtypes_and_label_ranges(name, n_points, ratio):
    spec = DATASETS[name]
    cfg = DataConfig(name=name, n_points=n_points, train_ratio=ratio, seed=3)
    if spec.task != "regression" and n_train_points(n_points, ratio) < spec.n_classes:
        with pytest.raises(ValueError, match="raise n_points or train_ratio"):
            make_dataset(cfg)  # a training split cannot hold every class
        return
    ds = make_dataset(cfg)
    total = n_points if not spec.real else min(n_points, _real_size(name))
    n_train = round(total * ratio)  # Python's round: 12.5 -> 12 (half to even)
    assert ds.x_train.shape == (n_train, spec.n_features)
    assert ds.x_test.shape == (total - n_train, spec.n_features)
    assert ds.x_train.dtype == ds.x_test.dtype == np.float32
    assert ds.y_train.shape == (n_train,) and ds.y_test.shape == (total - n_train,)
    assert len(ds.feature_names) == spec.n_features
    assert ds.task == spec.task and ds.n_features == spec.n_features
    assert ds.is_2d == (spec.n_features == 2)
    labels = np.concatenate([ds.y_train, ds.y_test])
    if spec.task == "binary":
        assert labels.dtype == np.float32 and set(np.unique(labels)) <= {0.0, 1.0}
        assert len(ds.class_names) == 2
    elif spec.task == "multiclass":
        assert labels.dtype == np.int64 and labels.min() >= 0 and labels.max() < ds.n_classes
        assert len(ds.class_names) == ds.n_classes
    else:
        assert labels.dtype == np.float32 and ds.class_names == []


def _real_size(name: str) -> int:
    return {"digits": 1797, "iris": 150, "wine": 178, "breast_cancer": 569, "diabetes": 442}[name]


def test_train_size_rounds_half_to_even():
    assert n_train_points(25, 0.5) == 12
    assert n_train_points(27, 0.5) == 14
    assert make_dataset(DataConfig(n_points=25, train_ratio=0.5)).x_train.shape[0] == 12


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("seed", range(15))
def test_every_class_present_in_train_even_for_tight_splits(name, seed):
    n_classes = DATASETS[name].n_classes
    n_points = max(10, 2 * n_classes)  # train holds exactly n_classes points at ratio 0.5
    ds = make_dataset(DataConfig(name=name, n_points=n_points, train_ratio=0.5, seed=seed))
    assert len(np.unique(ds.y_train)) == n_classes


@pytest.mark.parametrize("k", [3, 4, 5])
def test_blobs_class_count_follows_config(k):
    ds = make_dataset(DataConfig(name="blobs", n_classes=k, n_points=3 * k + 1, train_ratio=0.4))
    assert ds.n_classes == k and ds.spec.n_classes == k
    assert set(np.unique(ds.y_train)) == set(range(k))
    assert DATASETS["blobs"].n_classes == 3  # the registry entry is not changed


@pytest.mark.parametrize("name", BUILT_IN)
@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_train_features_and_regression_targets_are_standardised(name, noise):
    ds = make_dataset(DataConfig(name=name, n_points=400, noise=noise, seed=5))
    x = ds.x_train.astype(np.float64)
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-5)
    std = x.std(axis=0)
    constant = std < 1e-6  # digits has always-blank pixels: they stay 0, not NaN
    assert not np.isnan(x).any() and not np.isnan(ds.x_test).any()
    assert name == "digits" or not constant.any()
    np.testing.assert_allclose(std[~constant], 1, atol=1e-5)
    if ds.task == "regression":
        y = ds.y_train.astype(np.float64)
        assert abs(y.mean()) < 1e-5 and abs(y.std() - 1) < 1e-5


@pytest.mark.parametrize("name", ["xor", "gauss", "moons"])
def test_split_partitions_the_points_and_test_uses_train_statistics(name):
    cfg = DataConfig(name=name, n_points=300, noise=0.3, train_ratio=0.3, seed=9)
    raw, labels = raw_points(cfg)
    ds = make_dataset(cfg)
    both = np.concatenate([ds.x_train, ds.x_test]).astype(np.float64)
    for col in range(2):
        # one affine map must carry every row, train and test alike, back to its raw value
        scale, centre = raw[:, col].std(), raw[:, col].mean()
        slope, intercept = np.polyfit(np.sort(both[:, col]), np.sort(raw[:, col]), 1)
        residual = np.sort(both[:, col]) * slope + intercept - np.sort(raw[:, col])
        assert np.abs(residual).max() < 1e-4 * scale
        # ...and that map is the train rows' statistics, not the whole set's
        assert not np.isclose(intercept, centre, atol=1e-6 * scale)
    assert np.concatenate([ds.y_train, ds.y_test]).sum() == labels.sum()


def test_circle_without_noise_is_split_by_radius():
    x, y = raw_points(DataConfig(name="circle", n_points=1000))
    r = np.hypot(x[:, 0], x[:, 1])
    assert r[y == 1].max() < 2.5 <= 3.5 <= r[y == 0].min() and r.max() <= 5
    assert (y == 1).sum() == (y == 0).sum() == 500


def test_circle_labels_follow_radius_after_standardisation():
    ds = make_dataset(DataConfig(name="circle", n_points=1000, seed=2))
    r = np.hypot(ds.x_train[:, 0], ds.x_train[:, 1])
    assert r[ds.y_train == 1].max() < r[ds.y_train == 0].min()


def test_circle_noise_flips_labels_against_radius():
    x, y = raw_points(DataConfig(name="circle", n_points=1000, noise=0.5))
    r = np.hypot(x[:, 0], x[:, 1])
    assert ((r < 2.5) != (y == 1)).mean() > 0.05


def test_xor_without_noise_follows_the_sign_of_the_product():
    x, y = raw_points(DataConfig(name="xor", n_points=1000, seed=1))
    assert np.array_equal(y, (x[:, 0] * x[:, 1] >= 0).astype(y.dtype))
    assert np.abs(x).min() >= 0.3  # the padding keeps points off the axes
    noisy_x, noisy_y = raw_points(DataConfig(name="xor", n_points=1000, seed=1, noise=0.5))
    assert not np.array_equal(noisy_y, (noisy_x[:, 0] * noisy_x[:, 1] >= 0).astype(y.dtype))


def test_gauss_clouds_sit_at_plus_and_minus_two_and_noise_widens_them():
    x, y = raw_points(DataConfig(name="gauss", n_points=2000))
    np.testing.assert_allclose(x[y == 1].mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(x[y == 0].mean(axis=0), [-2, -2], atol=0.1)
    wide, _ = raw_points(DataConfig(name="gauss", n_points=2000, noise=0.5))
    assert wide.std() > x.std()


@pytest.mark.parametrize(("name", "arms"), [("spiral", 2), ("spiral3", 3)])
def test_spiral_arms_reach_radius_five(name, arms):
    x, y = raw_points(DataConfig(name=name, n_points=300))
    assert sorted(np.unique(y)) == list(range(arms))
    assert np.hypot(x[:, 0], x[:, 1]).max() == pytest.approx(5, abs=0.1)
    assert np.bincount(y).tolist() == [300 // arms] * arms


def test_moons_and_plane_targets():
    x, y = raw_points(DataConfig(name="moons", n_points=400))
    assert x[y == 0, 1].min() >= 0 and x[y == 1, 1].max() <= 0.5
    p, t = raw_points(DataConfig(name="plane", n_points=400))
    np.testing.assert_allclose(t, (p[:, 0] + p[:, 1]) / 10)
    g, v = raw_points(DataConfig(name="multigauss", n_points=2000))
    assert v.min() < -0.5 and v.max() > 0.5 and np.abs(v).max() <= 1


def test_real_datasets_have_the_documented_shapes():
    digits = make_dataset(DataConfig(name="digits", n_points=5000))
    assert digits.x_train.shape[1] == 64 and digits.n_classes == 10 and not digits.is_2d
    assert len(digits.x_train) + len(digits.x_test) == 1797  # capped at the dataset's size
    iris = make_dataset(DataConfig(name="iris"))
    assert iris.x_train.shape[1] == 4 and iris.class_names[0] == "setosa"
    diabetes = make_dataset(DataConfig(name="diabetes"))
    assert diabetes.task == "regression" and diabetes.y_train.dtype == np.float32
    cancer = make_dataset(DataConfig(name="breast_cancer"))
    assert cancer.task == "binary" and cancer.class_names == ["malignant", "benign"]


def test_real_noise_jitters_features():
    clean = make_dataset(DataConfig(name="wine", seed=1))
    noisy = make_dataset(DataConfig(name="wine", seed=1, noise=0.5))
    assert np.array_equal(clean.y_train, noisy.y_train)
    assert not np.allclose(clean.x_train, noisy.x_train, atol=0.05)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "nope"}, "unknown dataset 'nope'"),
        ({"n_points": 50.0}, "n_points must be an integer"),
        ({"name": "digits", "n_points": 10}, "fewer than the 10 classes"),
    ],
)
def test_values_generation_cannot_use_raise_value_error(changes, message):
    # ranges are the settings table's and are checked there (tests/test_config.py)
    cfg = dataclasses.replace(DataConfig(), **changes)
    with pytest.raises(ValueError) as info:
        make_dataset(cfg)
    assert message in str(info.value)


def test_real_data_accepts_large_n_points_and_raw_points_rejects_it():
    assert len(make_dataset(DataConfig(name="iris", n_points=100_000)).y_test) == 75
    with pytest.raises(ValueError, match="2-D toys"):
        raw_points(DataConfig(name="iris"))


def test_noise_is_ten_standard_normal_inputs_and_a_target_that_ignores_them():
    ds = make_dataset(DataConfig(name="noise", n_points=5000, train_ratio=0.9, seed=1))
    assert ds.x_train.shape == (4500, 10) and not ds.is_2d and ds.task == "regression"
    assert np.allclose(ds.x_train.mean(0), 0, atol=1e-5) and np.allclose(
        ds.x_train.std(0), 1, atol=1e-3
    )
    corr = [abs(np.corrcoef(ds.x_train[:, i], ds.y_train)[0, 1]) for i in range(10)]
    assert max(corr) < 0.06  # about 4 standard errors of a zero correlation at n = 4500


# ---- input features for the 2-D toys ----------------------------------------------------------


def test_feature_crosses_are_the_raw_points_products_and_sines_standardised():
    features = ("x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2")
    cfg = DataConfig(name="spiral", n_points=300, noise=0.1, seed=3, features=features)
    ds = make_dataset(cfg)
    plane = ds.plane
    raw = plane.train.astype(np.float64) * plane.scale + plane.centre  # back to the data's units
    a, b = raw[:, 0], raw[:, 1]
    by_hand = np.column_stack([a, b, a**2, b**2, a * b, np.sin(a), np.sin(b)])
    by_hand = (by_hand - by_hand.mean(0)) / by_hand.std(0)
    assert ds.x_train.shape == (150, 7) and ds.n_features == 7
    np.testing.assert_allclose(ds.x_train, by_hand, atol=2e-5)
    # the recovered points are the generator's own points
    generated = {tuple(p) for p in np.round(raw_points(cfg)[0], 4)}
    assert {tuple(p) for p in np.round(raw, 4)} <= generated
    assert ds.feature_names == ["X₁", "X₂", "X₁²", "X₂²", "X₁X₂", "sin(X₁)", "sin(X₂)"]


def test_the_maps_grid_goes_through_the_same_recipe_as_the_data():
    ds = make_dataset(DataConfig(name="circle", seed=1, features=("x1_sq", "x2_sq", "sin_x1")))
    np.testing.assert_allclose(ds.plane.inputs(ds.plane.train), ds.x_train, atol=2e-5)
    np.testing.assert_allclose(ds.plane.inputs(ds.plane.test), ds.x_test, atol=2e-5)


def test_plain_features_leave_the_data_exactly_as_it_was():
    plain = make_dataset(DataConfig(name="moons", seed=2))
    default = make_dataset(DataConfig(name="moons", seed=2, features=("x1", "x2")))
    np.testing.assert_array_equal(plain.x_train, plain.plane.train)
    np.testing.assert_array_equal(plain.x_train, default.x_train)


def test_squares_make_the_circle_separable_by_a_straight_line():
    """With x1^2 and x2^2 the disc is a half-plane: a logistic regression needs no hidden unit."""
    from sklearn.linear_model import LogisticRegression

    ds = make_dataset(DataConfig(name="circle", n_points=400, features=("x1_sq", "x2_sq")))
    plain = make_dataset(DataConfig(name="circle", n_points=400))
    crossed = LogisticRegression().fit(ds.x_train, ds.y_train).score(ds.x_test, ds.y_test)
    flat = LogisticRegression().fit(plain.x_train, plain.y_train).score(plain.x_test, plain.y_test)
    assert crossed > 0.97 and flat < 0.75


def test_unknown_or_no_features_are_refused_and_real_data_ignores_them():
    with pytest.raises(ValueError, match="features must be some of"):
        make_dataset(DataConfig(name="xor", features=("x3",)))
    with pytest.raises(ValueError, match="features must be some of"):
        make_dataset(DataConfig(name="xor", features=()))
    iris = make_dataset(DataConfig(name="iris", features=("x1_sq",)))
    assert iris.n_features == 4 and iris.plane is None
