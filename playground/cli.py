"""Command line: `python -m playground train | inspect | properties | lab | claims | list`.

Flags come from the same settings table as the app and its URLs, so their names, ranges and
defaults cannot disagree. A bad flag or value prints one line naming the allowed range and exits
with status 2: a CLI user should never see a traceback for a typo.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NoReturn

import numpy as np

from playground import activations, advice, configure_torch, labs, presets, properties
from playground.claims import Verdict
from playground.config import DEVICES, SETTING, SETTINGS, ConfigError, RunConfig, config_dict
from playground.data import DATASETS
from playground.inspection import inspect_init
from playground.model import INITS, PAIRINGS
from playground.probes import LAYER_KEYS, PROBE_ROWS
from playground.properties import FLAT_SLOPE, SIDE
from playground.train import TEST_MS, Run, resolve_device, run_to_end


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_settings(p: argparse.ArgumentParser) -> None:
    for s in SETTINGS:
        if s.key in ("data_seed", "init_seed") or s.effect == "display":
            continue
        kind = (lambda t, s=s: _parse(s, t)) if s.kind is not str else None
        p.add_argument(
            f"--{s.key.replace('_', '-')}",
            dest=s.key,
            metavar=s.key.upper(),
            type=kind,
            choices=s.choices or None,
            help=f"{s.help} ({s.describe()})",
        )
    p.add_argument(
        "--seed",
        type=lambda t: _parse(SETTING["data_seed"], t),
        default=0,
        help="sets both the data seed and the weight seed",
    )
    p.add_argument("--data-seed", dest="data_seed", type=lambda t: _parse(SETTING["data_seed"], t))
    p.add_argument("--init-seed", dest="init_seed", type=lambda t: _parse(SETTING["init_seed"], t))
    p.add_argument("--json", metavar="PATH", help="write a machine-readable record ('-': stdout)")


def _parse(setting: Any, text: str) -> Any:
    try:
        return setting.parse(text)
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m playground", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = sub.add_parser(
        "train",
        help="train a network and report its final state",
        description="Train a network and report its final state. train_loss, train_accuracy "
        "(or R^2) and every per-layer measurement are taken on the probe set, a fixed subset "
        f"of at most {PROBE_ROWS} training rows (all of them for smaller data); test numbers "
        "are on the whole test set.",
    )
    _add_settings(train)
    length = train.add_mutually_exclusive_group()
    length.add_argument("--steps", type=_count("steps"), help="training steps (default 1000)")
    length.add_argument("--epochs", type=_count("epochs"), help="passes over the training set")
    inspect = sub.add_parser(
        "inspect",
        help="per-layer statistics at initialisation",
        description="Per-layer statistics at initialisation, measured as a run's step-0 probe "
        f"measures them: on the probe set (at most {PROBE_ROWS} training rows).",
    )
    _add_settings(inspect)
    inspect.add_argument(
        "--seeds",
        type=_count("seeds", 100),
        default=5,
        help="weight seeds to average over (1 to 100)",
    )
    props = sub.add_parser(
        "properties",
        help="measured properties of each hidden activation",
        description="Each hidden activation measured as PyTorch runs it: output mean and std "
        "for standard-normal input, least value and where it is reached, f'(0) by autograd, "
        f"the share of each side (of [-{SIDE:g}, 0) and (0, {SIDE:g}]) where |f'| < "
        f"{FLAT_SLOPE:g}, the float32 input beyond which the slope is exactly 0, and forward "
        "plus backward time per element against ReLU's. Softmax, a vector function, has no row.",
    )
    props.add_argument(
        "--activation",
        dest="keys",
        action="append",
        choices=activations.HIDDEN_KEYS,
        metavar="KEY",
        help=f"one of {', '.join(activations.HIDDEN_KEYS)} (repeat for several; default all)",
    )
    props.add_argument(
        "--device", choices=DEVICES, default="cpu", help="where the float32 measurements run"
    )
    props.add_argument("--json", metavar="PATH", help="write the records as JSON ('-': stdout)")
    lab = sub.add_parser(
        "lab",
        help="run a lab headless, or list them",
        description="Train a lab's variants in lock-step, each over its seeds, and report every "
        "hidden layer at the end: the share of dead, resting and saturated units (on the probe "
        "set) and the weight-gradient norm of the last step. 'list' names the labs. --check "
        "instead checks every claim the lab's words make, on its own run: each with its "
        "measured value, its margin and PASS or FAIL; the exit status is 1 if any fails.",
    )
    lab.add_argument("name", metavar="NAME", help="a lab's key, 'list', or with --check 'all'")
    lab.add_argument("--check", action="store_true", help="check the lab's claims")
    lab.add_argument(
        "--times", type=_count("times", 100), default=1,
        help="with --check: train each lab this many times its own steps (the Labs page has "
        "no step limit, so its words must hold longer runs too)",
    )  # fmt: skip
    lab.add_argument("--seeds", type=_count("seeds", 16), help="seeds a variant (the lab's own)")
    lab.add_argument("--steps", type=_count("steps"), help="training steps (the lab's own)")
    lab.add_argument("--json", metavar="PATH", help="write the record as JSON ('-': stdout)")
    said = sub.add_parser(
        "claims",
        help="check what the labs, presets and advice say training does",
        description="Run the experiment behind each claim the labs, the presets' notes and the "
        "advice make, and print each claim with its measured value, its margin and PASS or "
        "FAIL; the exit status is 1 if any fails.",
    )
    said.add_argument(
        "which", nargs="?", default="all", choices=("all", "labs", "presets", "advice")
    )
    said.add_argument("--seeds", type=_count("seeds", 16), help="seeds a variant (each one's own)")
    said.add_argument("--steps", type=_count("steps"), help="training steps (each one's own)")
    sub.add_parser("list", help="list activations, inits, datasets and output/loss pairings")
    return parser


def _count(name: str, high: int = 10_000_000) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = -1
        if not 1 <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{name} must be a whole number between 1 and {high} (got {text!r})"
            )
        return value

    return parse


def _config(args: argparse.Namespace) -> RunConfig:
    values = {
        s.key: getattr(args, s.key) for s in SETTINGS if getattr(args, s.key, None) is not None
    }
    values.setdefault("data_seed", args.seed)
    values.setdefault("init_seed", args.seed)
    return RunConfig(**values).validate()


def _layers(run: Run) -> list[dict[str, float | str | None]]:
    cols = run.latest.layer_columns()
    return [
        {"layer": i + 1, "activation": spec.key, **{k: _num(cols[k][i]) for k in LAYER_KEYS}}
        for i, spec in enumerate(run.specs)
    ]


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _train(args: argparse.Namespace) -> int:
    cfg = _config(args)
    run = Run(cfg)
    steps = args.steps or (args.epochs * run.steps_per_epoch if args.epochs else 1000)
    if run.device_note:
        print(run.device_note, file=sys.stderr)
    run_to_end(run, steps)
    p = run.latest
    metric = "test_r2" if run.task == "regression" else "test_accuracy"
    final = {
        "steps": run.step_count,
        "epochs": round(run.epoch, 3),
        "train_loss": _num(p.train_loss),
        "test_loss": _num(p.test_loss),
        metric: _num(p.test_metric),
    }
    layers = _layers(run)
    _summary(run, final, layers, sys.stderr if args.json == "-" else sys.stdout)
    if args.json:
        record = {
            "config": config_dict(run.cfg),
            "device": str(run.device),
            "final": final,
            "probe_set": {
                "rows": len(run.x_probe),
                "train_rows": len(run.x_train),
                "note": "train_loss, the history's train_* and every per-layer measurement are "
                "on these probe rows, a fixed subset of the training rows; test_* are on the "
                "whole test set, measured at the first and the final step and at every probe "
                f"with --probe-every, else about every {TEST_MS / 1000:g} s: the history's "
                "test_* are null on the probes in between.",
            },
            "diverged": run.diverged.message() if run.diverged else None,
            "layers": layers,
            "history": [
                {k: _num(v) for k, v in row.items()}
                for row in run.history.probes.frame().to_dict(orient="records")
            ],
        }
        _write_json(args.json, record)
    return 0


def _summary(run: Run, final: dict[str, Any], layers: list[dict[str, Any]], out: Any) -> None:
    """The human-readable report; on stderr when stdout carries the JSON record."""
    print(
        f"{run.cfg.dataset} ({run.task}), {run.cfg.depth} x {run.cfg.width} "
        f"{run.cfg.activation}, init {run.cfg.init}, {run.cfg.optimizer} lr {run.cfg.lr:g}, "
        f"device {run.device}",
        file=out,
    )
    print(
        "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in final.items()),
        file=out,
    )
    print(
        f"train_* and per-layer numbers on the probe set: {len(run.x_probe)} of "
        f"{len(run.x_train)} training rows",
        file=out,
    )
    if run.diverged:
        print(run.diverged.message(), file=out)
    print(_table(layers), file=out)


def _table(rows: list[dict[str, Any]]) -> str:
    """Right-aligned columns as wide as their header or widest cell: no name is cut."""
    head = list(rows[0])
    cells = [[_cell(r[h]) for h in head] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]
    lines = ["  ".join(f"{h:>{w}}" for h, w in zip(head, widths))]
    lines += ["  ".join(f"{c:>{w}}" for c, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _inspect(args: argparse.Namespace) -> int:
    cfg = _config(args)
    frame = inspect_init(cfg, args.seeds)
    rows = [
        {k: (_num(v) if isinstance(v, float | np.floating) else v) for k, v in r.items()}
        for r in frame.to_dict(orient="records")
    ]
    out = sys.stderr if args.json == "-" else sys.stdout
    print(
        f"{cfg.dataset}: {cfg.depth} x {cfg.width} {cfg.activation}, init {cfg.init}, "
        f"averaged over {args.seeds} weight seed(s), at step 0",
        file=out,
    )
    print(_table(rows), file=out)
    if args.json:
        _write_json(args.json, {"config": config_dict(cfg), "seeds": args.seeds, "layers": rows})
    return 0


def _properties(args: argparse.Namespace) -> int:
    device, note = resolve_device(args.device)
    if note:  # a table measured elsewhere than asked would mislabel its figures
        raise ValueError(f"--device {args.device} is not available here (use --device cpu)")
    records = [p.record() for p in properties.table(args.keys, device=str(device))]
    out = sys.stderr if args.json == "-" else sys.stdout
    print(f"measured on {device} (minimum and moments in float64, slopes in float32)", file=out)
    shown = [{k: v for k, v in r.items() if k != "label"} for r in records]
    print(_table(shown), file=out)
    if args.json:
        _write_json(args.json, {"device": str(device), "activations": records})
    return 0


def _lab(args: argparse.Namespace) -> int:
    found = labs.all_labs()
    if args.name == "list":
        for key, lab in found.items():
            print(f"{key}: {lab.title}. {lab.question}")
        return 0
    if args.check:
        chosen = list(found.values()) if args.name == "all" else [_named(found, args.name)]
        return _check(chosen, args.seeds, args.steps, args.times)
    lab = _named(found, args.name)
    record = labs.run(lab, args.seeds, args.steps)
    out = sys.stderr if args.json == "-" else sys.stdout
    seeds = len(record["variants"][0]["runs"])
    print(f"{lab.title}: {seeds} seeds a variant, {record['steps']} steps", file=out)
    print("per hidden layer, median over the seeds that did not diverge:", file=out)
    print(_table([_lab_row(v) for v in record["variants"]]), file=out)
    if lab.key == "output-loss":
        print(_table(labs.pairing_numbers()), file=out)
    if lab.key == "textbook-dying-relu":
        script = labs.textbook_script()
        print(
            f"the script as written, {script['seeds']} seeds: {script['nan']} end in NaN; the "
            f"others leave {script['dead_of_5']} of 5 units dead",
            file=out,
        )
    if args.json:
        _write_json(args.json, record)
    return 0


def _named(found: dict[str, labs.Lab], name: str) -> labs.Lab:
    if name not in found:
        raise ValueError(f"no lab {name!r}; the labs are {', '.join(found)}")
    return found[name]


def _check(chosen: list[labs.Lab], seeds: int | None, steps: int | None, times: int) -> int:
    """Each lab's claims, checked on its own run (`times` its own length, unless `steps`)."""
    return _report(
        [(lab.key, partial(labs.check, lab, seeds, steps or lab.steps * times)) for lab in chosen]
    )


def _report(checks: list[tuple[str, Callable[[], list[Verdict]]]]) -> int:
    """Every claim with its measured value, margin and PASS or FAIL: 0 when all hold, else 1."""
    failed = total = 0
    for name, run in checks:
        verdicts = run()
        print(f"{name}: {len(verdicts)} claims")
        for v in verdicts:
            print(f"  {v.line()}")
        failed += sum(not v.passed for v in verdicts)
        total += len(verdicts)
    print(f"{total - failed} of {total} claims hold")
    return 1 if failed else 0


def _claims(args: argparse.Namespace) -> int:
    groups = {
        "labs": [(f"lab {k}", partial(labs.check, lab, args.seeds, args.steps))
                 for k, lab in labs.all_labs().items()],
        "presets": [(f"preset {k}", partial(e.check, args.seeds, args.steps))
                    for k, e in presets.CHECKS.items()],
        "advice": [(f"advice {k}", partial(e.check, args.seeds, args.steps))
                   for k, e in advice.CHECKS.items()],
    }  # fmt: skip
    chosen = list(groups) if args.which == "all" else [args.which]
    return _report([c for g in chosen for c in groups[g]])


def _lab_row(variant: dict[str, Any]) -> dict[str, Any]:
    runs = [r for r in variant["runs"] if not r["diverged"]]
    row: dict[str, Any] = {
        "variant": variant["key"],
        "diverged": f"{len(variant['runs']) - len(runs)}/{len(variant['runs'])}",
    }
    measured = (("dead_fraction", "dead"), ("resting_fraction", "resting"),
                ("saturated_fraction", "saturated"),
                ("grad_norm", "grad_norm"), ("post_std", "spread"),
                ("input_spread", "across inputs"))  # fmt: skip
    for key, word in [m for m in measured if m[0] in variant["runs"][0]]:
        layers = np.array([r[key] for r in runs], dtype=float) if runs else np.empty((0, 0))
        row[word] = _layer_list(layers, key.endswith("fraction"))
    return row


def _layer_list(values: np.ndarray, share: bool) -> str:
    """Per-layer medians as 'a/b/c': percentages for shares, 2 significant digits for norms."""
    if not values.size or np.isnan(values).all():
        return "-"
    with np.errstate(all="ignore"):
        medians = np.nanmedian(values, axis=0)
    return "/".join(f"{m:.0%}" if share else f"{m:.1e}" for m in medians)


def _list() -> int:
    print("activations:", ", ".join(activations.HIDDEN_KEYS), "(softmax: output layer only)")
    print("inits:", ", ".join(INITS))
    print("datasets:", ", ".join(f"{k} ({s.task})" for k, s in DATASETS.items()))
    print("pairings:", ", ".join(f"{k} ({p.task})" for k, p in PAIRINGS.items()))
    print("optimizers:", ", ".join(SETTING["optimizer"].choices))
    return 0


def _write_json(path: str, record: dict[str, Any]) -> None:
    text = json.dumps(record, indent=2, allow_nan=False, default=_json_default)
    if path == "-":
        print(text)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + "\n")


def _json_default(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    raise TypeError(f"cannot serialise {type(x).__name__}")


def main(argv: Sequence[str] | None = None) -> int:
    configure_torch()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return _list()
        if args.command == "properties":
            return _properties(args)
        if args.command == "lab":
            return _lab(args)
        if args.command == "claims":
            return _claims(args)
        return _train(args) if args.command == "train" else _inspect(args)
    except (ConfigError, ValueError) as e:
        print(f"{parser.prog} {args.command}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # e.g. --json into a folder that does not exist
        print(
            f"{parser.prog} {args.command}: error: cannot write {e.filename}: {e.strerror}",
            file=sys.stderr,
        )
        return 2
