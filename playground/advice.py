"""Reading a run's curves the way a teacher would: is it overfitting, and since when?

The loss curves show overfitting, but a newcomer rarely knows the signs: the training loss keeps
falling while the test loss, after its lowest point, climbs back up. `overfitting` finds that
pattern in a probe history so a page can name it and say what to try.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from playground.claims import Claim, Experiment

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


# ---- which activation to use --------------------------------------------------------------------
PLACES = ("hidden", "output")
TASKS = ("binary", "multiclass", "regression")
VERY_DEEP = 40  # layers from which Swish (SiLU) is the usual advice for hidden layers
SHALLOW = 2  # at most this many hidden layers: tanh still trains (sigmoid barely)
NARROW_DEEP = 8  # from this many layers, narrow ReLU stacks start losing whole seeds
TASK_WORDS = {"binary": "binary", "multiclass": "multi-class", "regression": "regression"}
PLAYGROUND_DATASET = {"binary": "spiral", "multiclass": "spiral3", "regression": "multigauss"}


@dataclass(frozen=True)
class Recommendation:
    """What to use, why, the pairing rule that goes with it, and a Playground setup to try."""

    choice: str  # activation key (hidden) or pairing key (output)
    title: str
    reason: str
    rule: str
    settings: dict[str, str]  # Playground link settings that show the advice in action
    alternatives: str = ""


GOLDEN_RULE = (
    "When the loss applies the output activation itself (CrossEntropyLoss applies softmax, "
    "BCEWithLogitsLoss applies sigmoid), leave that activation out of the model: the fused "
    "version is numerically stable, and applying it twice squashes the gradients."
)
OUTPUT_ADVICE = {
    "binary": (
        "bce_logits",
        "No output activation: one logit into BCEWithLogitsLoss",
        "A yes/no answer needs a probability, and sigmoid makes one. BCEWithLogitsLoss applies "
        "it inside the loss, where log(sigmoid) is computed without overflow; at prediction "
        "time apply sigmoid to the logit.",
        "Also right: a sigmoid output with BCELoss (less stable for confident wrong answers).",
    ),
    "multiclass": (
        "ce_logits",
        "No output activation: raw logits into CrossEntropyLoss",
        "Several exclusive classes need a distribution that sums to 1, which softmax makes. "
        "CrossEntropyLoss applies log-softmax itself, so the model returns raw scores.",
        "Also right: log-softmax with NLLLoss. Wrong: softmax followed by CrossEntropyLoss "
        "(softmax twice), or softmax with NLLLoss (it expects log-probabilities).",
    ),
    "regression": (
        "mse",
        "Linear (no) output activation with mean squared error",
        "A value that can be any real number needs an output that can reach it: no squashing. "
        "A sigmoid or tanh output caps every prediction at its range.",
        "MAE (L1) or Smooth L1 when outliers should count less; tanh only when the targets are "
        "known to lie in [-1, 1].",
    ),
}


def recommend(place: str, task: str, depth: int) -> Recommendation:
    """The subject matter's advice for one place in a network, as a recommendation."""
    if place not in PLACES or task not in TASKS:
        raise ValueError(f"place must be one of {PLACES} and task one of {TASKS}")
    if depth < 1:
        raise ValueError("depth must be at least 1 hidden layer")
    pairing = OUTPUT_ADVICE[task][0]
    if place == "output":
        _, title, reason, also = OUTPUT_ADVICE[task]
        return Recommendation(pairing, title, reason, GOLDEN_RULE, _try(task, "relu", depth), also)
    if depth >= VERY_DEEP:
        key, title = "silu", "Swish (SiLU), with normalisation and skip connections"
        reason = (
            f"At {depth} hidden layers the usual advice is Swish: smooth, with a small negative "
            "dip instead of ReLU's flat side. But no activation on its own makes a plain stack "
            "this deep train: the Swish paper measured its gains on wide networks, and very "
            "deep networks today also use normalisation and skip connections, which the "
            "Playground's plain stacks do not have. Try it: 32 layers of 8 units stay at chance "
            "on the spiral with SiLU, ReLU or Leaky ReLU alike."
        )
        also = "In the Playground, fewer layers first: 4 layers of 8 units learn the spiral."
    else:
        key, title = "relu", "ReLU, with He initialisation"
        reason = (
            "ReLU is the default for hidden layers: cheap, and its slope is exactly 1 wherever "
            "a unit is active, so with He initialisation the gradient keeps its size through "
            "the layers, unlike sigmoid's (slope at most 0.25 a layer)."
        )
        also = "If many units die (the Playground counts them), try Leaky ReLU or ELU."
        if depth >= NARROW_DEEP:
            also = (
                f"At {depth} layers, narrow ReLU stacks lose their units: 16 layers of 8 lose "
                "about half of them and stay near chance on the spiral. Widen the layers or use "
                "fewer."
            )
        if depth <= SHALLOW:
            also += (
                f" With {depth} hidden layer(s), tanh can work too, though more slowly; "
                "sigmoid barely learns."
            )
    rule = (
        f"Its output layer, for a {TASK_WORDS[task]} task: {OUTPUT_ADVICE[task][1]}. {GOLDEN_RULE}"
    )
    return Recommendation(key, title, reason, rule, _try(task, key, depth), also)


def _try(task: str, activation: str, depth: int) -> dict[str, str]:
    """Playground settings for the advice: its dataset for the task, the network deep as asked
    (up to the Playground's 32 layers), He initialisation and the task's pairing."""
    return {
        "dataset": PLAYGROUND_DATASET[task],
        "activation": activation,
        "depth": str(min(depth, 32)),
        "width": "8",
        "init": "he",
        "pairing": OUTPUT_ADVICE[task][0],
        "optimizer": "adam",
        "lr": "0.01",
    }


def _race(depth: int, keys: tuple[str, ...], steps: int, claims: tuple[Claim, ...]) -> Experiment:
    """The binary "Try it" link at `depth`, raced over these hidden activations, 3 seeds."""
    variants = {k: {"activation": k} for k in keys}
    return Experiment(_try("binary", keys[0], depth), variants, 3, steps, claims)


# what the advice says training does, checked on its own "Try it" settings
# (`python -m playground claims advice`): medians, or every seed
CHECKS: dict[str, Experiment] = {
    "very-deep": _race(
        VERY_DEEP, ("silu", "relu", "leaky_relu"), 1500,
        tuple(Claim(f"32 layers of 8 units stay at chance on the spiral ({k})", k,
                    "test_metric", "<", 0.6) for k in ("silu", "relu", "leaky_relu")),
    ),
    "four-layers": _race(
        4, ("silu", "relu", "leaky_relu"), 2000,
        tuple(Claim(f"4 layers of 8 units learn the spiral ({k})", k, "test_metric", ">", 0.9,
                    over="median") for k in ("silu", "relu", "leaky_relu")),
    ),
    "sixteen-layers": _race(
        16, ("relu", "leaky_relu"), 2000,
        (
            Claim("16 layers of 8 ReLU units stay near chance", "relu", "test_metric", "<",
                  0.7, over="median"),
            Claim("and lose about half of their units", "relu", "dead_share", ">=", 0.4,
                  over="median"),
        ),
    ),
    "two-layers": _race(
        SHALLOW, ("relu", "tanh", "sigmoid"), 3000,
        (
            Claim("with 2 hidden layers tanh can work too", "tanh", "test_metric", ">", 0.75,
                  over="median"),
            Claim("though more slowly than ReLU", "tanh", "test_metric", "<", None, "relu",
                  over="median"),
            Claim("sigmoid barely learns", "sigmoid", "test_metric", "<", 0.7),
        ),
    ),
}  # fmt: skip
