"""What a trained network gets right and wrong on the test set, for data with no plane to draw.

A decision map shows a 2-D toy's result at a glance; a table of 13 or 64 features has no such
picture. These are the views a practitioner reaches for instead: the confusion matrix and each
class's accuracy (recall) for classes, the worst mistakes drawn as images for the digits, and
predicted against actual with the residuals for regression. All plain numpy, computed from one
forward pass over the test set (`train.Run.results`), so a page and a test read the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MISTAKES = 24  # misclassified digits a page draws: three rows of eight


@dataclass(frozen=True)
class Results:
    """The test set's targets and the network's predictions at one step.

    Classes: `predicted` holds class indices and `confidence` the probability the network gave
    its choice. Regression: `predicted` holds values, in the standardised target's units (the
    data's targets are standardised on the training split, as its features are).
    """

    task: str
    step: int
    actual: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray | None
    class_names: list[str]
    images: np.ndarray | None = None  # digits: the test rows as 8x8 pixels, for the mistakes

    @property
    def n_classes(self) -> int:
        return max(len(self.class_names), 2)

    def confusion(self) -> np.ndarray:
        """Counts [true class, predicted class]: row i is what the network said of class i."""
        return confusion(self.actual, self.predicted, self.n_classes)

    def mistakes(self, limit: int = MISTAKES) -> np.ndarray:
        """Indices of misclassified test rows, the most confident mistakes first."""
        wrong = np.flatnonzero(self.actual != self.predicted)
        if self.confidence is not None:
            wrong = wrong[np.argsort(-self.confidence[wrong], kind="stable")]
        return wrong[:limit]


def confusion(actual: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """The k x k confusion matrix of integer labels, as scikit-learn lays it out."""
    actual, predicted = np.asarray(actual, np.int64), np.asarray(predicted, np.int64)
    return np.bincount(actual * k + predicted, minlength=k * k).reshape(k, k)


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Share of each true class predicted right (recall); NaN for a class the test set lacks."""
    totals = matrix.sum(axis=1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / totals, np.nan)


def residual_summary(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """The numbers a regression's result is read by: R^2, RMSE and the mean residual."""
    actual, predicted = np.asarray(actual, np.float64), np.asarray(predicted, np.float64)
    residual = actual - predicted
    spread = float(((actual - actual.mean()) ** 2).sum())
    r2 = 1.0 - float((residual**2).sum()) / spread if spread > 0 else float("nan")
    return {"r2": r2, "rmse": float(np.sqrt((residual**2).mean())), "bias": float(residual.mean())}


def most_confused(matrix: np.ndarray) -> tuple[int, int, int] | None:
    """The (true, predicted) pair of different classes with the most test rows, and its count;
    None when every row is right."""
    off = np.asarray(matrix).copy()
    np.fill_diagonal(off, 0)
    if off.max(initial=0) == 0:
        return None
    i, j = np.unravel_index(int(off.argmax()), off.shape)
    return int(i), int(j), int(off[i, j])
