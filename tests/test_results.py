"""The test set's results for data without a plane: numbers against scikit-learn's and the
model's own output, and the charts' data."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import confusion_matrix, r2_score, recall_score

from playground import charts
from playground.config import RunConfig
from playground.probes import predict
from playground.results import Results, confusion, most_confused, per_class_accuracy
from playground.train import Run


@pytest.fixture(scope="module")
def digits_run() -> Run:
    run = Run(RunConfig(dataset="digits", n_points=1797, lr=0.1, init_seed=1))
    run.step(150, probe_at_end=True)
    return run


def test_confusion_and_per_class_accuracy_match_scikit_learn():
    rng = np.random.default_rng(0)
    actual, predicted = rng.integers(0, 4, 300), rng.integers(0, 4, 300)
    predicted[:100] = actual[:100]
    matrix = confusion(actual, predicted, 4)
    np.testing.assert_array_equal(matrix, confusion_matrix(actual, predicted, labels=range(4)))
    np.testing.assert_allclose(
        per_class_accuracy(matrix), recall_score(actual, predicted, average=None)
    )


def test_a_class_missing_from_the_test_set_has_no_accuracy_and_is_left_off_the_chart():
    res = Results("multiclass", 0, np.array([0, 0, 2]), np.array([0, 1, 2]), None, ["a", "b", "c"])
    assert np.isnan(per_class_accuracy(res.confusion())[1])
    assert charts.results.accuracy_frame(res)["class"].tolist() == ["a", "c"]


def test_results_are_the_models_own_predictions_on_the_test_set(digits_run):
    res = digits_run.results()
    out = predict(digits_run.model, torch.as_tensor(digits_run.data.x_test))
    np.testing.assert_array_equal(res.predicted, out.argmax(1).numpy())
    np.testing.assert_array_equal(res.actual, digits_run.data.y_test)
    assert res.step == 150 and res.n_classes == 10
    accuracy = np.trace(res.confusion()) / len(res.actual)
    assert accuracy == pytest.approx(digits_run.latest.test_metric, abs=1e-6)


def test_mistakes_are_misclassified_digits_most_confident_first(digits_run):
    res = digits_run.results()
    wrong = res.mistakes()
    assert len(wrong) > 0 and (res.actual[wrong] != res.predicted[wrong]).all()
    assert (np.diff(res.confidence[wrong]) <= 0).all()
    shipped = {img.tobytes() for img in load_digits().images.astype(np.float32)}
    assert all(res.images[i].tobytes() in shipped for i in wrong)  # the test rows' own pixels
    frame = charts.results.mistakes_frame(res)
    names = res.class_names
    assert frame["caption"].tolist() == [
        f"{names[res.actual[i]]} → {names[res.predicted[i]]}" for i in wrong
    ]
    assert frame["url"].str.startswith("data:image/png;base64,").all()


def test_binary_results_threshold_the_probability_at_one_half():
    run = Run(RunConfig(dataset="breast_cancer", n_points=569, lr=0.1))
    run.step(100)
    res = run.results()
    p = torch.sigmoid(predict(run.model, torch.as_tensor(run.data.x_test))).view(-1).numpy()
    np.testing.assert_array_equal(res.predicted, (p >= 0.5).astype(np.int64))
    np.testing.assert_allclose(res.confidence, np.where(p >= 0.5, p, 1 - p), rtol=1e-6)
    assert res.class_names == ["malignant", "benign"]


def test_regression_results_and_figures_match_an_independent_computation():
    run = Run(RunConfig(dataset="diabetes", lr=0.03))
    run.step(200, probe_at_end=True)
    res = run.results()
    out = predict(run.model, torch.as_tensor(run.data.x_test)).view(-1).numpy()
    np.testing.assert_allclose(res.predicted, out, rtol=1e-6)
    figures = charts.results.summary(res)
    assert figures["r2"] == pytest.approx(r2_score(res.actual, res.predicted), abs=1e-9)
    assert figures["r2"] == pytest.approx(run.latest.test_metric, abs=1e-5)
    residual = res.actual - res.predicted
    assert figures["rmse"] == pytest.approx(np.sqrt(np.mean(residual**2)))
    frame = charts.results.residual_frame(res)
    assert frame["count"].sum() == len(res.actual)
    assert frame["lo"].iloc[0] == pytest.approx(residual.min())


def test_confusion_frame_shades_each_cell_by_its_share_of_the_true_class():
    res = Results("multiclass", 3, np.array([0, 0, 0, 1]), np.array([0, 1, 1, 1]), None, ["x", "y"])
    frame = charts.results.confusion_frame(res).set_index(["actual", "predicted"])
    assert frame.loc[("x", "y"), "count"] == 2 and frame.loc[("x", "y"), "share"] == pytest.approx(
        2 / 3
    )
    assert frame.loc[("y", "y"), "share"] == 1.0 and frame.loc[("y", "x"), "count"] == 0
    assert most_confused(res.confusion()) == (0, 1, 2)
    assert most_confused(np.eye(3, dtype=int)) is None
    spec = charts.vega_spec(charts.results.confusion_chart(res))
    assert spec["title"] == "Confusion matrix (test set)"
