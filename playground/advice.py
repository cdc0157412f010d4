"""Reading a run's curves the way a teacher would: is it overfitting, and since when?

The loss curves show overfitting, but a newcomer rarely knows the signs: the training loss keeps
falling while the test loss, after its lowest point, climbs back up. `overfitting` finds that
pattern in a probe history so a page can name it and say what to try.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

RISE = 1.25  # test loss this many times its lowest, with the training loss still falling
GAP = 0.1  # and training accuracy or R² at least this far above the test's
MIN_PROBES = 5  # fewer probes than this are too early to judge


@dataclass(frozen=True)
class Overfitting:
    """The test loss's best moment and where the run stands now."""

    best_step: int
    best_test_metric: float  # accuracy or R² at the test loss's lowest point
    train_metric: float  # now
    test_metric: float  # now


def overfitting(probes: pd.DataFrame) -> Overfitting | None:
    """The overfitting pattern in a probe frame (step, train_*, test_* columns), or None.

    The pattern: the test loss has climbed to RISE times its lowest while the training loss
    went on falling, and the training metric is at least GAP above the test metric (a rise
    from a tiny test loss with both metrics alike is noise, not memorising).

    Test values may be NaN on probes that skipped the test set; they are left out.
    """
    tested = probes[np.isfinite(probes["test_loss"].to_numpy(dtype=np.float64))]
    if len(tested) < MIN_PROBES:
        return None
    test_loss = tested["test_loss"].to_numpy(dtype=np.float64)
    train_loss = tested["train_loss"].to_numpy(dtype=np.float64)
    best = int(np.argmin(test_loss))
    now = len(tested) - 1
    if not (test_loss[now] > RISE * test_loss[best] and train_loss[now] < train_loss[best]):
        return None
    found = Overfitting(
        best_step=int(tested["step"].iloc[best]),
        best_test_metric=float(tested["test_metric"].iloc[best]),
        train_metric=float(tested["train_metric"].iloc[now]),
        test_metric=float(tested["test_metric"].iloc[now]),
    )
    return found if found.train_metric - found.test_metric >= GAP else None
