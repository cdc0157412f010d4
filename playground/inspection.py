"""Inspect a network at initialisation, before any training step.

This is what an initialisation lesson shows: how the spread of activations and gradients changes
layer by layer (shrinking to nothing or exploding through 30 layers) under different schemes.
Averaging over several weight seeds separates the scheme's effect from one draw's luck.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from playground.config import RunConfig
from playground.data import make_dataset
from playground.model import PAIRINGS, build_model
from playground.probes import (
    LAYER_KEYS,
    LayerSpec,
    grad_norms,
    layer_columns,
    layer_stats,
    probe_rows,
)


def inspect_init(cfg: RunConfig, seeds: int = 5) -> pd.DataFrame:
    """Per hidden layer: activation and gradient statistics at step 0, averaged over `seeds`.

    Weight seeds are init_seed, init_seed+1, ...; the data and probe set stay fixed. Gradients
    come from one backward pass of the loss on the whole training set.
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
    x_probe = x[torch.as_tensor(probe_rows(len(x), cfg.data_seed))]
    n_out = data.n_classes if data.task == "multiclass" else 1
    rows = []
    for s in range(seeds):
        model = build_model(
            data.n_features,
            n_out,
            cfg.width,
            keys,
            [p.alpha for p in specs],
            cfg.init,
            cfg.init_seed + s,
            cfg.batch_norm,
            pairing.output,
        )
        stats = layer_stats(model, x_probe, specs, histograms=False)
        capture: list[tuple[torch.Tensor, torch.Tensor]] = []
        out = model(x, capture)
        signals = [z for z, _ in capture]
        for z in signals:
            z.retain_grad()
        pairing.loss()(out, y).backward()
        norms = grad_norms(model, signals).numpy().astype(np.float64)
        cols = layer_columns(stats, norms)
        rows.append(np.stack([cols[k] for k in LAYER_KEYS], axis=1))
    mean = np.mean(rows, axis=0)  # NaN (not applicable) stays NaN
    frame = pd.DataFrame(mean, columns=list(LAYER_KEYS))
    frame.insert(0, "activation", keys)
    frame.insert(0, "layer", np.arange(1, len(keys) + 1))
    return frame
