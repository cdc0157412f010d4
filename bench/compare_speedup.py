"""Lock-step batching against training the same models one at a time.

A comparison of V variants x S seeds is one batched computation (`playground.stack.Stack`);
this times it against the same engine training each model on its own (a stack of one), same
data, same batches, same probe schedule (losses of every model on the training set every
`--probe-every` steps) on both sides, in this process. Two cases: 8 seeds of one activation,
and 8 different activations (one seed each). The 8-activation ratio is the headline.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from bench._common import REFERENCE, setup_torch  # noqa: E402
from playground.config import RunConfig  # noqa: E402
from playground.data import make_dataset  # noqa: E402
from playground.stack import Model, batch_order, stack_for  # noqa: E402

ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "elu", "silu", "gelu", "mish"]
TARGETS = {"seeds": 8.0, "activations": 3.5}


def _train(stacks, x, y, batches, probe_every: int) -> float:
    """Seconds to take every stack through the batches, probing on the schedule."""
    t0 = time.perf_counter()
    for stack in stacks:
        for i, idx in enumerate(batches):
            stack.step(x[idx], y[idx])
            if (i + 1) % probe_every == 0:
                with torch.no_grad():
                    stack.losses(x, y)
    return time.perf_counter() - t0


def case(
    models: list[Model], steps: int, probe_every: int, rounds: int, net: RunConfig
) -> list[float]:
    """Alone-over-together time ratios, one a round (the two sides alternate)."""
    data = make_dataset(net.data_config())
    x = torch.as_tensor(data.x_train, dtype=torch.float32)
    y = torch.as_tensor(data.y_train, dtype=torch.float32).view(-1, 1)
    batches = batch_order(len(x), net.batch_size, steps, seed=0)
    shape = (net.width, net.depth, "bce_logits")
    ratios = []
    for _ in range(rounds):
        together = _train([stack_for(data, models, *shape)], x, y, batches, probe_every)
        alone = [stack_for(data, [m], *shape) for m in models]
        ratios.append(_train(alone, x, y, batches, probe_every) / together)
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and rounds")
    parser.add_argument("--steps", type=int, help="steps per model (default 600, quick 100)")
    parser.add_argument("--probe-every", type=int, default=50)
    parser.add_argument("--depth", type=int, help=f"hidden layers (default {REFERENCE.depth})")
    parser.add_argument("--width", type=int, help=f"units a layer (default {REFERENCE.width})")
    parser.add_argument("--batch", type=int, help=f"batch size (default {REFERENCE.batch_size})")
    args = parser.parse_args()
    net = REFERENCE.replace(
        depth=args.depth or REFERENCE.depth,
        width=args.width or REFERENCE.width,
        batch_size=args.batch or REFERENCE.batch_size,
    )
    steps = args.steps or (100 if args.quick else 600)
    rounds = 2 if args.quick else 3
    setup_torch()
    print(
        f"network: {net.dataset}, {net.depth} x {net.width}, batch {net.batch_size}; "
        f"{steps} steps a model, losses probed every "
        f"{args.probe_every} steps on both sides; {rounds} rounds"
    )
    cases = {
        "seeds": [Model("tanh", 0.0, "xavier", s, 0.03, "sgd") for s in range(8)],
        "activations": [
            Model(
                k, 0.01 if k == "leaky_relu" else 1.0 if k == "elu" else 0.0, "he", 0, 0.03, "sgd"
            )
            for k in ACTIVATIONS
        ],
    }
    headline = {}
    for name, models in cases.items():
        ratios = case(models, steps, args.probe_every, rounds, net)
        headline[name] = sorted(ratios)[len(ratios) // 2]
        every = ", ".join(f"{r:.2f}" for r in ratios)
        print(
            f"8 {name}: one at a time / lock-step = {every} (median {headline[name]:.2f}, "
            f"target >= {TARGETS[name]:g})"
        )
    print(f"compare_speedup_seeds: {headline['seeds']:.2f}")
    print(f"compare_speedup_activations: {headline['activations']:.2f}")


if __name__ == "__main__":
    main()
