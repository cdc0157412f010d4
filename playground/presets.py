"""Ready-made setups for the Playground: each one a question with the settings that answer it.

A preset is link text over the defaults (see `config.Preset`), so it is validated, reported and
shared exactly like a link. Compare and Labs build multi-variant presets on the same idea.
What each note says training does is checked by `CHECKS`: the preset raced against the changes
its note suggests, with the note's sentences as claims (`python -m playground claims presets`).
"""

from __future__ import annotations

from playground.claims import Claim, Experiment
from playground.config import Preset

PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "dying_relu",
            "Dying ReLU",
            "Plain SGD at learning rate 1.0 throws ReLU units onto their flat side, where no "
            "gradient reaches them: within 2,000 steps a third or more are dead and the network "
            "learns nothing. Watch the dead-unit chart climb, then try a learning rate of 0.03 "
            "on the same seeds: few units die and it starts to learn. He initialisation does "
            "not help here; Leaky ReLU's units rest instead of dying, but at learning rate 1.0 "
            "it learns nothing either.",
            {
                "dataset": "spiral",
                "activation": "relu",
                "depth": "4",
                "width": "8",
                "init": "xavier",
                "optimizer": "sgd",
                "lr": "1.0",
                "batch_size": "10",
            },
        ),
        Preset(
            "vanishing_sigmoid",
            "Vanishing gradients",
            "Twelve sigmoid layers: each passes back at most a quarter of the gradient it "
            "receives, so the first layers get a millionth of the last one's or less, and the "
            "network learns nothing. Read the gradient-norm chart from the last layer to the "
            "first, then switch the activation to tanh: its first layers get about as much "
            "gradient as its last.",
            {
                "dataset": "spiral",
                "activation": "sigmoid",
                "depth": "12",
                "width": "8",
                "init": "xavier",
                "optimizer": "sgd",
                "lr": "0.1",
            },
            hide=("Data",),
        ),
        Preset(
            "tiny_init",
            "Weights too small",
            "Starting weights with std 0.01 shrink the signal at every layer, so deep layers "
            "see almost nothing and the loss sits at 0.693, a coin toss. Switch the "
            "initialisation to Xavier and compare the histograms: the same network learns the "
            "circle.",
            {
                "dataset": "circle",
                "activation": "tanh",
                "depth": "8",
                "width": "16",
                "init": "small",
                "optimizer": "sgd",
                "lr": "0.03",
            },
        ),
        Preset(
            "double_softmax",
            "Softmax twice",
            "A softmax output fed into CrossEntropyLoss, which applies log-softmax again: with 4 "
            "classes the loss cannot fall below log(1 + 3/e) = 0.744, so it stalls there, while "
            "the accuracy still climbs (the second softmax keeps the classes' order). Switch "
            "the output to auto: the loss falls towards 0.",
            {
                "dataset": "blobs",
                "n_classes": "4",
                "noise": "0.2",
                "activation": "relu",
                "init": "he",
                "pairing": "softmax_ce",
                "optimizer": "adam",
                "lr": "0.01",
            },
        ),
        Preset(
            "overfitting",
            "Overfitting",
            "A wide network and few training points of real data (diabetes, a fifth of it for "
            "training): the training loss falls to almost 0 while the test loss stays far above "
            "it and the test R² stays low: the network has memorised its training points rather "
            "than the trend. An L2 penalty of 0.01 does not cure it here; a train share of 0.5 "
            "helps more.",
            {
                "dataset": "diabetes",
                "train_ratio": "0.2",
                "activation": "relu",
                "depth": "3",
                "width": "128",
                "init": "he",
                "optimizer": "adam",
                "lr": "0.003",
                "batch_size": "20",
            },
        ),
        Preset(
            "divergence",
            "Divergence",
            "Plain SGD at learning rate 3 on a regression target: within a few steps the loss "
            "overflows. The run stops, rolls back to its last good weights and says what to "
            "lower; press Play again after lowering the learning rate (at 0.1 it learns).",
            {
                "dataset": "plane",
                "activation": "relu",
                "init": "he",
                "optimizer": "sgd",
                "lr": "3.0",
            },
        ),
    )
}


def _claims(*rows: tuple[str, str, str, str, float]) -> tuple[Claim, ...]:
    """Claims as (says, variant, measure, op, value) rows, held by every seed."""
    return tuple(Claim(s, v, m, op, value) for s, v, m, op, value in rows)


SEEDS, STEPS = 4, 2000  # what a note's "within 2,000 steps" and "on the same seeds" mean
CHECKS: dict[str, Experiment] = {
    "dying_relu": Experiment(
        PRESETS["dying_relu"].settings,
        {
            "preset": {},
            "lr-0.03": {"lr": "0.03"},
            "he": {"init": "he"},
            "leaky": {"activation": "leaky_relu"},
        },
        SEEDS,
        STEPS,
        _claims(
            ("a third or more are dead", "preset", "dead_share", ">=", 0.3),
            ("the network learns nothing", "preset", "test_metric", "<", 0.55),
            ("at 0.03 few units die", "lr-0.03", "dead_share", "<", 0.15),
            ("at 0.03 it starts to learn", "lr-0.03", "test_metric", ">", 0.58),
            ("He initialisation does not help", "he", "dead_share", ">=", 0.3),
            ("Leaky ReLU learns nothing either", "leaky", "test_metric", "<", 0.55),
        )
        + (Claim("Leaky ReLU's units rest", "leaky", "resting_share", ">", 0.2, over="median"),),
    ),
    "vanishing_sigmoid": Experiment(
        PRESETS["vanishing_sigmoid"].settings,
        {"preset": {}, "tanh": {"activation": "tanh"}},
        SEEDS,
        STEPS,
        (
            Claim(
                "the first layers get a millionth of the last one's or less",
                "preset",
                "grad_norm",
                "<",
                1e-6,
                layer=1,
                per_layer=12,
            ),
            Claim("the network learns nothing", "preset", "test_metric", "<", 0.55),
            Claim(
                "tanh's first layers get about as much gradient as its last",
                "tanh",
                "grad_norm",
                ">",
                0.1,
                layer=1,
                per_layer=12,
            ),
        ),
    ),
    "tiny_init": Experiment(
        PRESETS["tiny_init"].settings,
        {"preset": {}, "xavier": {"init": "xavier"}},
        SEEDS,
        STEPS,
        _claims(
            ("the loss sits at 0.693", "preset", "train_loss", ">", 0.69),
            ("with Xavier the same network learns the circle", "xavier", "test_metric", ">", 0.95),
        ),
    ),
    "double_softmax": Experiment(
        PRESETS["double_softmax"].settings,
        {"preset": {}, "auto": {"pairing": "auto"}},
        SEEDS,
        STEPS,
        _claims(
            ("the loss cannot fall below 0.744", "preset", "train_loss", ">", 0.744),
            ("the accuracy still climbs", "preset", "test_metric", ">", 0.9),
            ("with the output on auto the loss falls towards 0", "auto", "train_loss", "<", 0.1),
        ),
    ),
    "overfitting": Experiment(
        PRESETS["overfitting"].settings,
        {"preset": {}, "l2": {"l2": "0.01"}},
        SEEDS,
        STEPS,
        _claims(
            ("the training loss falls to almost 0", "preset", "train_loss", "<", 0.05),
            ("the test loss stays far above it", "preset", "test_loss", ">", 0.5),
            ("the test R² stays low", "preset", "test_metric", "<", 0.35),
        )
        + (
            Claim(
                "an L2 penalty of 0.01 does not cure it",
                "l2",
                "test_metric",
                "<=",
                None,
                "preset",
                over="median",
            ),
        ),
    ),
    "overfitting-half": Experiment(
        {**PRESETS["overfitting"].settings, "train_ratio": "0.5"},
        {"preset": {}, "l2": {"l2": "0.01"}},
        SEEDS,
        STEPS,
        (
            Claim(
                "a train share of 0.5 helps more", "preset", "test_metric", ">", 0.3, over="median"
            ),
        ),
    ),
    "divergence": Experiment(
        PRESETS["divergence"].settings,
        {"preset": {}, "lr-0.1": {"lr": "0.1"}},
        SEEDS,
        50,
        _claims(
            ("within a few steps the loss overflows", "preset", "diverged", ">=", SEEDS),
            ("at 0.1 it does not diverge", "lr-0.1", "diverged", "<=", 0),
            ("at 0.1 it learns", "lr-0.1", "test_metric", ">", 0.85),
        ),
    ),
}
