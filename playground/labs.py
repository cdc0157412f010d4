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

import torch
from torch import nn

from playground.comparison import MAX_SEEDS, CompareConfig, Comparison, Variant
from playground.config import SETTING, ConfigError, RunConfig, from_query, parse_hide

LABS_DIR = Path(__file__).resolve().parent.parent / "labs"
# what every variant of a lab shares: the data, the batches and where they train
SHARED = ("dataset", "n_points", "noise", "train_ratio", "n_classes", "data_seed", "batch_size",
          "device", "probe_every", "probe_ms", "init_seed")  # fmt: skip
WORDS = ("title", "question", "explanation", "watch", "next")


class LabError(ValueError):
    """A lab file that cannot be used: the message names the file and what is wrong."""


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
    )
    problems = lab.compare_config().problems()
    if problems:
        raise LabError(f"{name}: {problems[0][1]}")
    return lab


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
    (the record `python -m playground lab NAME --json` writes)."""
    comparison = Comparison(lab.compare_config(seeds))
    comparison.step(lab.steps if steps is None else steps, probe_at_end=True)
    models = comparison.final_layers()
    s = comparison.cfg.seeds
    return {
        "lab": lab.key,
        "steps": comparison.step_count,
        "variants": [
            {
                "key": v.key,
                "label": v.label,
                "settings": dict(v.settings),
                "runs": models[i * s : (i + 1) * s],
            }
            for i, v in enumerate(lab.variants)
        ],
    }


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
