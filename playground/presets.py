"""Ready-made setups for the Playground: each one a question with the settings that answer it.

A preset is link text over the defaults (see `config.Preset`), so it is validated, reported and
shared exactly like a link. Compare and Labs build multi-variant presets on the same idea.
"""

from __future__ import annotations

from playground.config import Preset

PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "dying_relu",
            "Dying ReLU",
            "Plain SGD at learning rate 1.0 throws ReLU units onto their flat side, where no "
            "gradient reaches them. Watch the dead-unit chart climb, then try a learning rate "
            "of 0.03, He initialisation or Leaky ReLU on the same seeds.",
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
            "receives, so the first layers barely learn. Read the gradient-norm chart from the "
            "last layer to the first, then switch the activation to ReLU or tanh.",
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
            "see almost nothing and the loss sits still. Switch the initialisation to Xavier "
            "and compare the histograms.",
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
            "A softmax output fed into CrossEntropyLoss, which applies log-softmax again: the "
            "loss can never approach 0 and learning stalls. Switch the output to auto.",
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
            "A wide network and few training points of real data (diabetes): the training loss "
            "keeps falling while the test loss turns and climbs; the hint under the curves "
            "says when. Then try an L2 penalty of 0.01, or a larger train share.",
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
            "lower; press Play again after lowering the learning rate.",
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
