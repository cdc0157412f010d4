"""Inspect a network at initialisation, before any training step.

This is what an initialisation lesson shows: how the spread of activations and gradients changes
layer by layer (shrinking to nothing or exploding through 30 layers) under different schemes.
Averaging over several weight seeds separates the scheme's effect from one draw's luck.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import torch

from playground.config import RunConfig
from playground.data import make_dataset
from playground.model import PAIRINGS, build_model
from playground.probes import (
    LAYER_KEYS,
    LayerSpec,
    capture_stats,
    forward_capture,
    layer_columns,
    probe_pass,
    probe_rows,
)
from playground.train import model_spec


def init_spreads(cfg: RunConfig, seeds: int) -> dict[str, np.ndarray]:
    """Per weight seed and hidden layer [seeds, L], two spreads of the outputs at step 0:
    "spread", the std of every output on the probe set, and "input_spread", what of it
    depends on the input: the root mean over units of each unit's variance across the probe
    inputs. A layer whose units sit at fixed values set by their biases has a large spread and
    an input spread near 0: the signal itself is gone."""
    cfg = cfg.validate()
    data = make_dataset(cfg.data_config())
    pairing = PAIRINGS[cfg.resolved_pairing()]
    x = torch.as_tensor(data.x_train)[torch.as_tensor(probe_rows(len(data.x_train), cfg.data_seed))]
    base = model_spec(cfg, data, pairing, cfg.init_seed)
    found: dict[str, list[list[float]]] = {"spread": [], "input_spread": []}
    for s in range(seeds):
        model = build_model(dataclasses.replace(base, seed=cfg.init_seed + s))
        _, capture = forward_capture(model, x, batch_stats=True)
        posts = [a.double() for _, a in capture]
        found["spread"].append([a.std().item() for a in posts])
        found["input_spread"].append([a.var(0).mean().sqrt().item() for a in posts])
    return {k: np.array(v) for k, v in found.items()}


def inspect_init(cfg: RunConfig, seeds: int = 5) -> pd.DataFrame:
    """Per hidden layer: activation and gradient statistics at step 0, averaged over `seeds`.

    Weight seeds are init_seed, init_seed+1, ...; the data and probe set stay fixed. Everything
    is measured as a run's step-0 probe measures it, so the two agree: on the probe set (up to
    512 training rows), gradients of the data loss from one backward pass, and with batch norm
    the probe set's own batch statistics.
    """
    cfg = cfg.validate()
    if not 1 <= seeds <= 100:
        raise ValueError(f"seeds must be between 1 and 100 (got {seeds})")
    data = make_dataset(cfg.data_config())
    pairing = PAIRINGS[cfg.resolved_pairing()]
    keys = cfg.hidden_activations()
    specs = [LayerSpec(k, cfg.alpha_for(k)) for k in keys]
    x = torch.as_tensor(data.x_train)
    if data.task == "multiclass":
        y = torch.as_tensor(data.y_train, dtype=torch.long)
    else:
        y = torch.as_tensor(data.y_train, dtype=torch.float32).view(-1, 1)
    rows = torch.as_tensor(probe_rows(len(x), cfg.data_seed))
    x_probe, y_probe = x[rows], y[rows]
    loss_fn = pairing.loss()
    base = model_spec(cfg, data, pairing, cfg.init_seed)
    measured = []
    for s in range(seeds):
        model = build_model(dataclasses.replace(base, seed=cfg.init_seed + s))
        probe = probe_pass(model, x_probe, y_probe, loss_fn, batch_stats=True)
        stats = capture_stats(probe.capture, specs, histograms=False)
        stats.dead_from_start = stats.dead  # at step 0, dead now is dead since the start
        cols = layer_columns(stats, probe.norms.numpy().astype(np.float64))
        measured.append(np.stack([cols[k] for k in LAYER_KEYS], axis=1))
    mean = np.mean(measured, axis=0)  # NaN (not applicable) stays NaN
    frame = pd.DataFrame(mean, columns=list(LAYER_KEYS))
    frame.insert(0, "activation", keys)
    frame.insert(0, "layer", np.arange(1, len(keys) + 1))
    return frame
