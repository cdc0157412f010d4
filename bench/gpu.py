"""CPU versus CUDA for the engine: speed on a tiny and a wide net, and matching losses.

Small playground nets are bound by per-op launch overhead, so a GPU can be slower than one CPU
thread; wide nets are bound by matrix work, where it should win by far. This times both on each
device (alternating rounds, medians) and checks that CUDA reproduces the CPU's loss curve within
float tolerance, since the app promises the same run on either device. It needs only torch,
numpy, pandas and scikit-learn (for the digits data), never the UI's packages.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (  # noqa: E402
    REFERENCE,
    interleaved,
    median,
    median_ratio,
    setup_torch,
    spread,
    timed,
)
from playground.config import RunConfig  # noqa: E402
from playground.train import Run  # noqa: E402

CONFIGS = {
    "reference": REFERENCE,
    "wide": RunConfig(
        dataset="digits",
        n_points=5000,  # all 1,797 digits
        depth=8,
        width=512,
        activation="relu",
        init="he",
        optimizer="adam",
        lr=0.001,
        batch_size=5000,  # capped at the training set: full batch
    ),
}
CHECK_RTOL = 1e-3


def rate(run: Run, seconds: float) -> float:
    """Steps per second of `run.train_for`, counted to the end of the device's queued work."""

    def work() -> int:
        return run.train_for(seconds)

    def sync() -> None:
        run.flush()  # reads the loss buffer back: waits for every queued step
        if run.device.type == "cuda":
            torch.cuda.synchronize()

    n, dt = timed(work, sync)
    if run.diverged is not None:
        raise RuntimeError(run.diverged.message())
    return n / dt


def speed(name: str, cfg: RunConfig, devices: list[str], rounds: int, seconds: float) -> float:
    """Print steps/s and epochs/s per device; return the median per-round CUDA/CPU ratio."""
    runs = {d: Run(cfg.replace(device=d)) for d in devices}
    spe = runs["cpu"].steps_per_epoch
    for r in runs.values():
        rate(r, min(seconds, 0.5))  # warm-up: kernels, allocator, cuBLAS handles
    rates = interleaved({d: (lambda r=r: rate(r, seconds)) for d, r in runs.items()}, rounds)
    print(f"{name}: batch {runs['cpu'].batch_size}, {spe} steps/epoch")
    for d in devices:
        steps = median(rates[d])
        print(
            f"  {d:<5} {steps:>10,.0f} steps/s {steps / spe:>10,.1f} epochs/s  ({spread(rates[d])})"
        )
    if "cuda" not in rates:
        return float("nan")
    ratio = median_ratio(rates["cuda"], rates["cpu"])
    print(f"  cuda/cpu speed-up {ratio:.2f}x")
    return ratio


def losses(cfg: RunConfig, device: str, steps: int) -> np.ndarray:
    """The batch losses of the first `steps` steps on `device`."""
    run = Run(cfg.replace(device=device, probe_every=50))  # step-based: same probe points
    run.step(steps)
    run.flush()
    if run.diverged is not None:
        raise RuntimeError(run.diverged.message())
    return run.history.steps.column("loss").copy()


def check(name: str, cfg: RunConfig, steps: int) -> float:
    """Max relative loss difference between CPU and CUDA over the first `steps` steps."""
    cpu, gpu = losses(cfg, "cpu", steps), losses(cfg, "cuda", steps)
    diff = np.abs(gpu - cpu)
    rel = diff / np.maximum(np.abs(cpu), 1e-12)
    worst = float(rel.max())
    verdict = "ok" if worst <= CHECK_RTOL else f"ABOVE {CHECK_RTOL:g}"
    print(
        f"  {name}: {len(cpu)} steps, max relative loss difference {worst:.2e} "
        f"(at step {int(rel.argmax()) + 1}), max absolute {diff.max():.2e}, {verdict}"
    )
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 short rounds, 50-step check")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 5)")
    parser.add_argument("--seconds", type=float, help="seconds per device per round (default 2)")
    parser.add_argument("--check-steps", type=int, help="steps compared (default 200)")
    args = parser.parse_args()
    setup_torch()
    rounds = args.rounds or (3 if args.quick else 5)
    seconds = args.seconds or (0.5 if args.quick else 2.0)
    check_steps = args.check_steps or (50 if args.quick else 200)

    cuda = torch.cuda.is_available()
    devices = ["cpu", "cuda"] if cuda else ["cpu"]
    print(f"torch {torch.__version__}; CPU: 1 thread")
    if cuda:
        print(f"CUDA: {torch.cuda.get_device_name(0)}")
    else:
        print("CUDA: absent (torch.cuda.is_available() is False); CPU figures only")
    print(f"{rounds} rounds x {seconds:g} s per device, probes every 100 ms")
    ratios = {name: speed(name, cfg, devices, rounds, seconds) for name, cfg in CONFIGS.items()}
    if cuda:
        print(f"CPU vs CUDA losses (probes every 50 steps, tolerance {CHECK_RTOL:g}):")
        for name, cfg in CONFIGS.items():
            check(name, cfg, check_steps)
        print(f"gpu_speedup_wide: {ratios['wide']:.2f}")
    else:
        print("gpu_speedup_wide: n/a")


if __name__ == "__main__":
    main()
