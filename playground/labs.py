"""Labs: a question, the experiment that answers it, and what to look at, as data.

Each lab is one TOML file under `labs/`: the shared settings (link text, read exactly as a
link's), the controls it hides, its variants (each a key, a label and settings over the shared
ones), how many seeds and steps, and the words: the question, what it shows, what to look at,
the question to try next. A lab is validated like a link, through the settings table, and a
file with a bad setting is refused with a message naming the file, the variant and the setting.
A lab runs as a comparison (`playground.comparison`): its variants in lock-step, each over its
seeds, on the same data and batches.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from playground import claims
from playground.claims import Claim, ClaimError, Verdict
from playground.comparison import Comparison
from playground.comparison_config import MAX_SEEDS, CompareConfig, Variant
from playground.config import SETTING, ConfigError, RunConfig, from_query, parse_hide
from playground.inspection import init_spreads, inspect_init

LABS_DIR = Path(__file__).resolve().parent.parent / "labs"
# what every variant of a lab shares: the data, the batches and where they train
SHARED = ("dataset", "n_points", "noise", "train_ratio", "n_classes", "data_seed", "batch_size",
          "device", "probe_every", "probe_ms", "init_seed")  # fmt: skip
WORDS = ("title", "question", "explanation", "watch", "next")
# the chart a presenter's `present=1` puts beside the race: the one the lab's watch text names
PRESENTED = ("gradients", "health")  # present= names (ui.present.CHARTS) a race can show


class LabError(ValueError):
    """A lab file that cannot be used: the message names the file and what is wrong."""


@dataclass(frozen=True)
class Guess:
    """What a no-training lab asks the learner to predict before it shows the measurement:
    the spread (std) of one hidden layer's outputs at initialisation, for one initialisation."""

    layer: int
    init: str


@dataclass(frozen=True)
class Lab:
    key: str
    title: str
    question: str
    explanation: str
    watch: str  # what to look at while it runs
    next: str  # the question to try next
    settings: Mapping[str, str]  # the shared settings, as link text
    hide: tuple[str, ...]
    variants: tuple[Variant, ...]
    seeds: int
    steps: int  # how long the headless run (`python -m playground lab`) trains
    guess: Guess | None = None  # a lab with no training: guess a measurement, then see it
    present: str = PRESENTED[0]
    claims: tuple[Claim, ...] = ()  # what its words say training does, checked by `check`

    def base(self) -> RunConfig:
        return from_query(self.settings)[0]

    def compare_config(self, seeds: int | None = None) -> CompareConfig:
        return CompareConfig(
            base=self.base(),
            values=tuple(v.key for v in self.variants),
            seeds=self.seeds if seeds is None else seeds,
            custom=self.variants,
            lab=self.key,
        )

    def query(self) -> dict[str, str]:
        """The lab as link parameters under which a link's own apply (see `ui.labs`)."""
        return {**self.settings, "hide": ",".join(self.hide), "lab": self.key}


def load(path: Path) -> Lab:
    """Read and validate one lab file; raises LabError naming the file and the problem."""
    name = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise LabError(f"{name}: not a readable TOML file ({e})") from None
    missing = [k for k in (*WORDS, "settings", "variants") if k not in raw]
    if missing:
        raise LabError(f"{name}: missing {', '.join(missing)}")
    settings = {
        k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in raw["settings"].items()
    }
    base, notices = from_query(settings)
    if notices:
        raise LabError(f"{name}: {notices[0]}")
    hidden, notices = parse_hide(",".join(raw.get("hide", [])))
    if notices:
        raise LabError(f"{name}: {notices[0]}")
    variants = tuple(_variant(name, v) for v in raw["variants"])
    lab = Lab(
        key=re.sub(r"^\d+-", "", path.stem),  # the number orders the files, not the name
        **{k: str(raw[k]).strip() for k in WORDS},
        settings=settings,
        hide=hidden,
        variants=variants,
        seeds=_whole(name, raw, "seeds", 4, MAX_SEEDS),
        steps=_whole(name, raw, "steps", 500, 100_000),
        guess=_guess(name, raw.get("guess"), base.depth),
        present=_presented(name, raw.get("present", PRESENTED[0])),
        claims=_claims(name, raw.get("claims"), variants, base.depth),
    )
    problems = lab.compare_config().problems()
    if problems:
        raise LabError(f"{name}: {problems[0][1]}")
    return lab


def _claims(name: str, raw: Any, variants: tuple[Variant, ...], depth: int) -> tuple[Claim, ...]:
    try:
        return claims.parse(raw, tuple(v.key for v in variants), depth)
    except ClaimError as e:
        raise LabError(f"{name}: {e}") from None


def _presented(name: str, raw: Any) -> str:
    if raw not in PRESENTED:
        raise LabError(f"{name}: present must be one of {', '.join(PRESENTED)} (got {raw!r})")
    return str(raw)


def _variant(name: str, raw: Mapping[str, Any]) -> Variant:
    key, label = str(raw.get("key", "")), str(raw.get("label", ""))
    if not key or not label:
        raise LabError(f"{name}: every variant needs a key and a label (got {dict(raw)})")
    values: list[tuple[str, Any]] = []
    for setting, value in raw.get("settings", {}).items():
        if setting not in SETTING:
            raise LabError(f"{name}: variant {key}: unknown setting {setting!r}")
        if setting in SHARED:
            raise LabError(
                f"{name}: variant {key}: {setting} is shared by every variant (the same data "
                "and batches): set it in [settings]"
            )
        try:
            values.append((setting, SETTING[setting].parse(_text(value))))
        except ConfigError as e:
            raise LabError(f"{name}: variant {key}: {e}") from None
    return Variant(key, label, tuple(values))


def _guess(name: str, raw: Mapping[str, Any] | None, depth: int) -> Guess | None:
    if raw is None:
        return None
    layer, init = raw.get("layer"), str(raw.get("init", ""))
    if not isinstance(layer, int) or not 1 <= layer <= depth:
        raise LabError(f"{name}: guess.layer must be a hidden layer, 1 to {depth} (got {layer!r})")
    try:
        SETTING["init"].check(init)
    except ConfigError as e:
        raise LabError(f"{name}: guess.init: {e}") from None
    return Guess(layer, init)


def _text(value: Any) -> str:
    """A TOML value as link text: TOML's true is the link's 'true'."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _whole(name: str, raw: Mapping[str, Any], key: str, default: int, high: int) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or not 1 <= value <= high:
        raise LabError(f"{name}: {key} must be a whole number from 1 to {high} (got {value!r})")
    return value


def all_labs(folder: Path = LABS_DIR) -> dict[str, Lab]:
    """Every lab, in file-name order (the files are numbered for the picker's order)."""
    return {lab.key: lab for lab in (load(p) for p in sorted(folder.glob("*.toml")))}


def run(lab: Lab, seeds: int | None = None, steps: int | None = None) -> dict[str, Any]:
    """The lab trained headless: per variant, per seed, the end state of every hidden layer
    (the record `python -m playground lab NAME --json` writes). A guessing lab does not train:
    its record is every layer at initialisation, with the spread of its outputs."""
    if lab.guess is not None:
        return _at_init(lab, seeds or lab.seeds)
    comparison = _trained(lab, seeds, steps)
    models = comparison.final_layers()
    s = comparison.cfg.seeds
    return {
        "lab": lab.key,
        "steps": comparison.step_count,
        "variants": [_record(v, models[i * s : (i + 1) * s]) for i, v in enumerate(lab.variants)],
    }


def _trained(lab: Lab, seeds: int | None, steps: int | None) -> Comparison:
    comparison = Comparison(lab.compare_config(seeds))
    comparison.step(lab.steps if steps is None else steps, probe_at_end=True)
    return comparison


def check(lab: Lab, seeds: int | None = None, steps: int | None = None) -> list[Verdict]:
    """Every claim of the lab checked on a headless run of it (its own seeds and steps unless
    given): at step 0 for claims `at` "start", at the end for the others."""
    keys = [v.key for v in lab.variants]
    if lab.guess is not None:
        found = {
            v.key: {
                **init_spreads(variant_config(lab, v), seeds or lab.seeds),
                "diverged": np.zeros(1),
            }
            for v in lab.variants
        }
        return claims.check(lab.claims, found, None, 0)
    n = lab.steps if steps is None else steps
    return claims.verify(lab.compare_config(seeds), keys, lab.claims, n)


def _record(v: Variant, runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"key": v.key, "label": v.label, "settings": dict(v.settings), "runs": runs}


def variant_config(lab: Lab, variant: Variant) -> RunConfig:
    return lab.compare_config().variant(variant.key)


def _at_init(lab: Lab, seeds: int) -> dict[str, Any]:
    keys = ("dead_fraction", "resting_fraction", "saturated_fraction", "grad_norm", "post_std")
    variants = []
    for v in lab.variants:
        cfg = variant_config(lab, v)
        runs = []
        across = init_spreads(cfg, seeds)["input_spread"]
        for s in range(seeds):
            frame = inspect_init(cfg.replace(init_seed=cfg.init_seed + s), seeds=1)
            runs.append(
                {
                    "seed": cfg.init_seed + s,
                    "diverged": False,
                    **{k: _listed(frame[k]) for k in keys},
                    "input_spread": _listed(across[s]),
                }
            )
        variants.append(_record(v, runs))
    return {"lab": lab.key, "steps": 0, "variants": variants}


def _listed(column: Any) -> list[float | None]:
    return [float(x) if math.isfinite(x) else None for x in column]


def spreads(lab: Lab, activation: str, seeds: int) -> pd.DataFrame:
    """For the variants of one activation, each layer's spread across inputs at
    initialisation over `seeds` weight seeds (`inspection.init_spreads`): (metric, variant,
    layer, median, lo, hi), as a band chart reads it."""
    rows = []
    for v in lab.variants:
        cfg = variant_config(lab, v)
        if cfg.activation != activation:
            continue
        per_seed = init_spreads(cfg, seeds)["input_spread"]
        for layer in range(per_seed.shape[1]):
            col = per_seed[:, layer]
            rows.append(("input_spread", v.label, layer + 1, np.median(col), col.min(), col.max()))
    return pd.DataFrame(rows, columns=["metric", "variant", "layer", "median", "lo", "hi"])


# ---- the classic dying-ReLU script, as written ---------------------------------------------------
def textbook_script(seeds: int = 40, steps: int = 100) -> dict[str, Any]:
    """The subject's own example run as it is written, once per seed: 10 -> 5 ReLU -> 1,
    PyTorch's default initialisation, plain SGD at learning rate 1.0, MSE, fresh N(0, 1)
    inputs and targets of 32 rows every step; then dead units counted on 100 fresh inputs.
    Returns how many seeds end with a NaN loss and the dead counts of the others."""
    nan, dead = 0, []
    for seed in range(seeds):
        gen = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 1))
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        loss = torch.tensor(0.0)
        for _ in range(steps):
            x, y = torch.randn(32, 10, generator=gen), torch.randn(32, 1, generator=gen)
            loss = nn.functional.mse_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if not math.isfinite(loss.item()):
            nan += 1
            continue
        with torch.no_grad():
            out = torch.relu(model[0](torch.randn(100, 10, generator=gen)))
        dead.append(int((out == 0).all(0).sum()))
    return {"seeds": seeds, "steps": steps, "nan": nan, "dead_of_5": dead}


# ---- the output and loss lab's numbers --------------------------------------------------------
def pairing_numbers() -> list[dict[str, Any]]:
    """What each pairing computes where it matters, by the engine's own losses in float32:
    a confidently wrong binary logit, the best softmax-then-CrossEntropy can do, and a bounded
    output facing a regression target out of its reach."""
    rows = []
    for label, out_fn, loss in (
        ("Sigmoid + BCELoss", torch.sigmoid, nn.BCELoss()),
        ("One logit + BCEWithLogitsLoss", lambda z: z, nn.BCEWithLogitsLoss()),
    ):
        z = torch.tensor([17.0], requires_grad=True)
        value = loss(out_fn(z), torch.tensor([0.0]))
        value.backward()
        rows.append(_row(label, "logit 17, label 0", value, z.grad))
    for label, out_fn in (
        ("Softmax + CrossEntropyLoss", lambda z: z.softmax(1)),
        ("Logits + CrossEntropyLoss", lambda z: z),
    ):
        z = torch.tensor([[30.0, 0.0, 0.0]], requires_grad=True)  # as confident as it gets
        value = nn.CrossEntropyLoss()(out_fn(z), torch.tensor([0]))
        value.backward()
        rows.append(_row(label, "3 classes, right at logit 30", value, z.grad))
    for label, out_fn in (("Tanh output + MSE", torch.tanh), ("Linear + MSE", lambda z: z)):
        z = torch.tensor([[3.0]], requires_grad=True)  # the output's own input, target 2
        value = nn.MSELoss()(out_fn(z), torch.tensor([[2.0]]))
        value.backward()
        rows.append(_row(label, "target 2, pre-output 3", value, z.grad))
    return rows


def _row(label: str, case: str, loss: torch.Tensor, grad: torch.Tensor | None) -> dict[str, Any]:
    g = float(grad.abs().max()) if grad is not None else math.nan
    return {"pairing": label, "case": case, "loss": loss.item(), "gradient": g}
