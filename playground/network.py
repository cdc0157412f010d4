"""The network itself, unit by unit: what each hidden unit computes, which ones are dead or
resting or saturated, and when each died; with the weights that link them.

The TensorFlow Playground draws every neuron as a small map of its output over the input plane,
with links coloured by weight, but never says which neurons are dead. This view keeps its
picture and adds the states: a unit is dead, resting or saturated by the probes' own rule
(`probes.unit_masks`, on the same probe set), and dead from step 0 apart from dead since a later
probe (`train.Run.dead_since`). Up to MAX_UNITS units a layer are drawn; the rest of a wide
layer is counted in a summary. Each unit's map is computed in one forward pass over a coarse
grid of the plane (MAP_CELLS x MAP_CELLS) for the units shown only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from playground import activations
from playground.probes import forward_capture, unit_masks
from playground.train import Run

MAX_UNITS = 12  # units drawn per layer (inputs too); the rest are summarised
MAP_CELLS = 16  # a unit's map: 16 x 16 cells of the plane
HIST_BINS = 24  # a chosen unit's histogram of its input
LIVE, SATURATED, RESTING = "live", "saturated", "resting"
DIED, DEAD_FROM_START = "died in training", "dead from step 0"
STATES = (LIVE, SATURATED, RESTING, DIED, DEAD_FROM_START)
DEAD = (DIED, DEAD_FROM_START)


@dataclass(frozen=True)
class LayerView:
    """One hidden layer: every unit's state, and the shown units' maps."""

    label: str  # the activation's name
    state: list[str]  # per unit, one of STATES
    died_at: np.ndarray  # per unit: the step from which it has stayed dead, -1 if live
    bias: np.ndarray
    mean_out: np.ndarray  # per unit: mean output over the probe set
    maps: np.ndarray | None  # [shown, cells, cells] outputs over the plane, 2-D data only
    hist_pre: list[tuple[np.ndarray, np.ndarray]]  # shown units: (edges, counts) of the input

    @property
    def width(self) -> int:
        return len(self.state)

    @property
    def shown(self) -> int:
        return min(self.width, MAX_UNITS)


@dataclass(frozen=True)
class NetworkView:
    """The whole network at one step: inputs, hidden layers, outputs and every weight."""

    step: int
    inputs: list[str]
    layers: list[LayerView]
    outputs: list[str]
    weights: list[np.ndarray]  # [out, in] per linear layer, the head last


def view(run: Run, cells: int = MAP_CELLS) -> NetworkView:
    """The network of a `train.Run` as it stands now."""
    model, specs = run.model, run.specs
    batch_stats = model.norms is not None  # as the probes measure it
    _, capture = forward_capture(model, run.x_probe, batch_stats)
    pre = torch.stack([z for z, _ in capture])
    post = torch.stack([a for _, a in capture])
    states = unit_masks(specs, pre)
    dead, resting, saturated = (
        m.cpu().numpy() for m in (states.dead, states.resting, states.saturated)
    )
    maps = _maps(run, cells)
    since = run.dead_since
    layers = []
    for i, spec in enumerate(specs):
        flags = zip(dead[i], resting[i], saturated[i], since[i], strict=True)
        state = [_state(*unit) for unit in flags]
        layers.append(
            LayerView(
                label=activations.get(spec.key).label,
                state=state,
                died_at=np.where(dead[i], since[i], -1),
                bias=model.linears[i].bias.detach().cpu().numpy().astype(np.float64),
                mean_out=post[i].mean(0).detach().cpu().numpy().astype(np.float64),
                maps=None if maps is None else maps[i],
                hist_pre=[_histogram(pre[i, :, u]) for u in range(min(pre.shape[2], MAX_UNITS))],
            )
        )
    weights = [lin.weight.detach().cpu().numpy().astype(np.float64) for lin in model.linears]
    weights.append(model.head.weight.detach().cpu().numpy().astype(np.float64))
    n_out = weights[-1].shape[0]
    outputs = list(run.data.class_names) if n_out > 1 else [_output_name(run)]
    return NetworkView(run.step_count, list(run.data.feature_names), layers, outputs, weights)


def _histogram(values: torch.Tensor, bins: int = HIST_BINS) -> tuple[np.ndarray, np.ndarray]:
    """A unit's weighted sums over the probe set, counted: what its activation receives."""
    v = values.detach().cpu().numpy().astype(np.float64)
    lo, hi = float(v.min()), float(v.max())
    counts, edges = np.histogram(v, bins=bins, range=(lo, hi if hi > lo else lo + 1.0))
    return edges, counts


def _state(dead: bool, resting: bool, saturated: bool, dead_since: int) -> str:
    """One state per unit, by the probes' precedence: dead, then resting, then saturated."""
    if dead:
        return DEAD_FROM_START if dead_since == 0 else DIED
    return RESTING if resting else SATURATED if saturated else LIVE


def _output_name(run: Run) -> str:
    return "prediction" if run.task == "regression" else f"P({run.data.class_names[-1]})"


def _maps(run: Run, cells: int) -> list[np.ndarray] | None:
    """Each hidden layer's shown units' outputs over a grid of the plane, [shown, cells, cells]."""
    plane = run.data.plane
    if plane is None:
        return None
    both = np.concatenate([plane.train, plane.test])
    lo, hi = both.min(0) - 0.5, both.max(0) + 0.5
    gx = np.linspace(lo[0], hi[0], cells, dtype=np.float32)
    gy = np.linspace(lo[1], hi[1], cells, dtype=np.float32)
    xx, yy = np.meshgrid(gx, gy)
    grid = torch.as_tensor(plane.inputs(np.stack([xx.ravel(), yy.ravel()], 1)), device=run.device)
    _, capture = forward_capture(run.model, grid, batch_stats=False)
    out = []
    for _, a in capture:
        shown = a[:, :MAX_UNITS].detach().cpu().numpy().astype(np.float64)
        out.append(shown.T.reshape(-1, cells, cells))
    return out
