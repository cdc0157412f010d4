"""One declarative table of settings: it drives the run config, its validation, the URL and the CLI.

The idea is the TensorFlow Playground's `state.ts`: every setting is declared once, with its type,
default, range and help text, and everything else (widgets, query parameters, command-line flags,
error messages) is derived from that declaration, so they cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from playground import activations, drawing
from playground.data import DATASETS, FEATURES, PLANE_KEYS, TABLES, DataConfig, n_train_points
from playground.model import INITS, PAIRINGS, default_pairing
from playground.upload import Upload

SCHEMA_VERSION = 1
MOMENTUM = 0.9  # the "momentum" optimiser: SGD with this momentum
OPTIMIZERS = {  # key -> its name on the page
    "sgd": "SGD",
    "momentum": f"SGD + momentum {MOMENTUM:g}",
    "adam": "Adam",
    "rmsprop": "RMSprop",
}
DEVICES = ("cpu", "cuda", "mps")
GROUPS = ("Data", "Network", "Training", "Display")  # sidebar order, and names a link may hide
CONTROLS = ("play", "step", "reset", "downloads")  # buttons a link may hide, beside settings
LINK_KEYS = ("v", "hide", "preset", "present", "points")  # link parameters, not settings

# Value grids for the sliders that jump in sensible steps rather than a linear range.
LR_GRID = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
WIDTH_GRID = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
BATCH_GRID = (1, 2, 4, 5, 8, 10, 16, 20, 32, 50, 64, 100, 128, 256, 500, 1000, 2000, 5000)
PENALTY_GRID = (0.0, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)


class ConfigError(ValueError):
    """A setting, or a combination of settings, that cannot work; the message says why."""


@dataclass(frozen=True)
class Setting:
    """One user-facing setting: enough to build a widget, a flag, a URL field and a check.

    `widget` names the control when the kind alone does not decide it: "number" for a typed box,
    "radio", "param" (the activation's own parameter, ranged by the registry). Otherwise choices
    give a select box, a grid a stepped slider, a range a slider, a bool a toggle, text a box.
    """

    key: str
    kind: type  # int, float, bool or str
    group: str
    label: str
    help: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    labels: Mapping[str, str] | None = None  # words shown for each choice
    fits: Callable[[str, Mapping[str, Any]], bool] | None = None  # choice allowed given others
    grid: tuple[float, ...] = ()  # the values a slider offers
    step: float | None = None
    widget: str = ""
    shown_when: tuple[str, tuple[Any, ...]] | None = None  # (other key, values it must take)
    hideable: bool = True
    advanced: bool = False  # drawn in the sidebar's Advanced section
    effect: str = "rebuild"  # "rebuild": changes the run; "live": applied mid-run; "display"

    def parse(self, text: str) -> Any:
        """Turn URL or CLI text into a value, or raise ConfigError naming the allowed values."""
        text = text.strip()
        try:
            if self.kind is bool:
                if text.lower() in ("1", "true", "yes", "on"):
                    return True
                if text.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            value = self.kind(text)
        except ValueError:
            raise ConfigError(f"{self.key} must be {self.describe()} (got {text!r})") from None
        self.check(value)
        return value

    def check(self, value: Any) -> None:
        """Raise ConfigError if `value` is outside this setting's range or choices."""
        if self.choices and value not in self.choices:
            raise ConfigError(f"{self.key} must be {self.describe()} (got {value!r})")
        if self.kind in (int, float):
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{self.key} must be {self.describe()} (got {value!r})")
            if (self.low is not None and value < self.low) or (
                self.high is not None and value > self.high
            ):
                raise ConfigError(f"{self.key} must be {self.describe()} (got {value!r})")

    def describe(self) -> str:
        """The allowed values in words, for error messages and help."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind is bool:
            return "true or false"
        if self.low is not None and self.high is not None:
            noun = "a whole number" if self.kind is int else "a number"
            return f"{noun} between {self.low:g} and {self.high:g}"
        return "text"

    def label_of(self, choice: Any) -> str:
        """The words a widget shows for one of the choices."""
        return self.labels.get(choice, str(choice)) if self.labels else str(choice)

    def options(self, values: Mapping[str, Any]) -> list[Any]:
        """What a widget offers given the other settings: choices that fit, or the grid plus
        the current value when a link put it off the grid."""
        if self.choices:
            return [c for c in self.choices if self.fits is None or self.fits(c, values)]
        current = values.get(self.key, self.default)
        grid = list(self.grid)
        return grid if current in grid else sorted([*grid, current])

    def fitting(self, value: Any, values: Mapping[str, Any]) -> Any:
        """`value` if it fits the other settings, else the first choice that does (an output
        and loss for the previous dataset's task becomes 'auto')."""
        options = self.options(values)
        return value if value in options else options[0]

    def shown(self, values: Mapping[str, Any]) -> bool:
        """Whether the control applies given the other settings (e.g. classes only for blobs)."""
        if self.shown_when is None:
            return True
        other, allowed = self.shown_when
        return values.get(other, SETTING[other].default) in allowed


def _s(key: str, kind: type, group: str, label: str, help: str, default: Any, **kw: Any) -> Setting:
    return Setting(key, kind, group, label, help, default, **kw)


def task_of(dataset: str, upload: Upload | None) -> str:
    """A dataset's task; an upload's is the one its person chose."""
    if dataset in TABLES and upload is not None:
        return upload.task
    return DATASETS[dataset].task


def _pairing_fits(choice: str, values: Mapping[str, Any]) -> bool:
    task = task_of(values.get("dataset", "circle"), values.get("upload"))
    return choice == "auto" or PAIRINGS[choice].task == task


def _dataset_fits(choice: str, values: Mapping[str, Any]) -> bool:
    """Your CSV is offered once a table has been uploaded in this session (a drawing is not
    one: it is offered as Your drawing, always, to start one)."""
    upload = values.get("upload")
    return choice != "upload" or (upload is not None and upload.name != drawing.NAME)


SEED_MAX = 2**31 - 1
GENERATED = tuple(k for k in DATASETS if k != "drawn")  # a drawing's points are as drawn
# fmt: off
SETTINGS: tuple[Setting, ...] = (
    # data
    _s("dataset", str, "Data", "Dataset", "Which points the network learns to separate or fit.",
       "circle", choices=tuple(DATASETS), fits=_dataset_fits,
       labels={k: f"{d.label} ({d.task})" for k, d in DATASETS.items()} | {"upload": "Your CSV"}),
    _s("n_points", int, "Data", "Points", "How many points in total, before the train/test split.",
       500, low=10, high=5000, shown_when=("dataset", GENERATED)),
    _s("noise", float, "Data", "Noise", "How much the classes overlap or the targets jitter.",
       0.0, low=0.0, high=0.5, step=0.01, shown_when=("dataset", GENERATED)),
    _s("train_ratio", float, "Data", "Train share",
       "Share of the points used for training; the rest measure how well the network generalises.",
       0.5, low=0.1, high=0.9, step=0.05),
    _s("n_classes", int, "Data", "Classes", "Number of classes for the gaussian blobs.",
       3, low=3, high=5, shown_when=("dataset", ("blobs",))),
    _s("data_seed", int, "Data", "Data seed", "Same seed, same points, bit for bit.",
       0, low=0, high=SEED_MAX, widget="number"),
    _s("features", str, "Data", "Input features",
       "What the network is given of each point: the coordinates, and products and sines of "
       "them that let a small network draw curved boundaries with straight ones.",
       "x1,x2", widget="features", shown_when=("dataset", PLANE_KEYS)),
    # network
    _s("activation", str, "Network", "Hidden activation",
       "The non-linearity in every hidden layer.", "tanh", choices=activations.HIDDEN_KEYS,
       labels={k: activations.get(k).label for k in activations.HIDDEN_KEYS}),
    _s("alpha", float, "Network", "Alpha",
       "The activation's parameter (negative slope or saturation level); empty means its "
       "usual default.", None, low=0.0, high=5.0, widget="param"),
    _s("depth", int, "Network", "Hidden layers", "How many hidden layers.", 2, low=1, high=32),
    _s("width", int, "Network", "Units per layer", "How many units in each hidden layer.",
       8, low=1, high=512, grid=WIDTH_GRID),
    _s("init", str, "Network", "Initialisation", "How the starting weights are drawn.",
       "xavier", choices=tuple(INITS), labels={k: f"{k}: {v}" for k, v in INITS.items()}),
    _s("batch_norm", bool, "Network", "Batch norm",
       "Normalise each layer's pre-activations over the batch before the activation.", False),
    _s("pairing", str, "Network", "Output and loss",
       "The output layer and loss; 'auto' picks the recommended pairing for the task.",
       "auto", choices=("auto", *PAIRINGS), fits=_pairing_fits,
       labels={"auto": "auto (recommended)", **{k: p.label for k, p in PAIRINGS.items()}}),
    _s("init_seed", int, "Network", "Weight seed", "Same seed, same starting weights.",
       0, low=0, high=SEED_MAX, widget="number"),
    _s("layer_activations", str, "Network", "Per-layer activations",
       "Optional comma-separated activation per hidden layer, overriding the one above "
       "(e.g. relu,relu,tanh).", "", advanced=True),
    # training
    _s("optimizer", str, "Training", "Optimiser", "How gradients turn into weight updates.",
       "sgd", choices=tuple(OPTIMIZERS), labels=OPTIMIZERS),
    _s("lr", float, "Training", "Learning rate",
       "Step size of each update; too large diverges or kills ReLU units, too small crawls.",
       0.03, low=1e-5, high=10.0, grid=LR_GRID, effect="live"),
    _s("batch_size", int, "Training", "Batch size",
       "Training points per update step (capped at the training set's size).",
       10, low=1, high=5000, grid=BATCH_GRID),
    _s("l1", float, "Training", "L1 penalty",
       "Penalty on the absolute size of weights: pulls many weights close to 0 (with these "
       "optimisers they hover near 0 rather than landing on it).",
       0.0, low=0.0, high=1.0, grid=PENALTY_GRID),
    _s("l2", float, "Training", "L2 penalty",
       "Adds l2 x w to each weight's gradient (a penalty of l2/2 times the squared weights): "
       "weight decay with SGD; with Adam it is not AdamW's decoupled decay.",
       0.0, low=0.0, high=1.0, grid=PENALTY_GRID),
    # where training runs and why a requested GPU is missing must stay in view: not hideable
    _s("device", str, "Training", "Device",
       "Where the network trains; falls back to CPU with a reason when the chosen device is "
       "missing.", "cpu", choices=DEVICES, widget="radio", hideable=False),
    _s("probe_every", int, "Training", "Probe every k steps (0 = by time)",
       "Measure every k steps; 0 measures by training time instead (see probe_ms).",
       0, low=0, high=100_000, widget="number", advanced=True),
    _s("probe_ms", float, "Training", "Probe interval (ms)",
       "With probe_every 0: milliseconds of training between measurements.",
       100.0, low=10.0, high=10_000.0, widget="number", advanced=True),
    # display only: how the page shows the run, never what it computes
    _s("log_loss", bool, "Display", "Log-scale loss",
       "Show the loss on a log scale, where late progress stays visible.", False,
       effect="display"),
    _s("dead_threshold", float, "Display", "Dead-unit warning at",
       "Warn when a layer's share of dead units passes this.", 0.25, low=0.05, high=1.0,
       step=0.05, effect="display"),
    _s("show_test", bool, "Display", "Show test data",
       "Draw the test points on the decision map, outlined dark; off shows the training "
       "points alone.", True, effect="display"),
    _s("discrete", bool, "Display", "Discretise output",
       "Colour the map by the decision alone (the class, or the sign of a prediction) "
       "rather than by how sure the network is.", False, effect="display"),
)
# fmt: on
SETTING = {s.key: s for s in SETTINGS}


def _default(key: str) -> Any:
    return SETTING[key].default


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run; two equal configs give the same trajectory on CPU.

    Each field's default is its setting's: the table is the one place they are written.
    """

    dataset: str = _default("dataset")
    n_points: int = _default("n_points")
    noise: float = _default("noise")
    train_ratio: float = _default("train_ratio")
    n_classes: int = _default("n_classes")
    data_seed: int = _default("data_seed")
    features: str = _default("features")
    activation: str = _default("activation")
    alpha: float | None = _default("alpha")
    depth: int = _default("depth")
    width: int = _default("width")
    init: str = _default("init")
    batch_norm: bool = _default("batch_norm")
    pairing: str = _default("pairing")
    init_seed: int = _default("init_seed")
    layer_activations: str = _default("layer_activations")
    optimizer: str = _default("optimizer")
    lr: float = _default("lr")
    batch_size: int = _default("batch_size")
    l1: float = _default("l1")
    l2: float = _default("l2")
    device: str = _default("device")
    probe_every: int = _default("probe_every")
    probe_ms: float = _default("probe_ms")
    log_loss: bool = _default("log_loss")
    dead_threshold: float = _default("dead_threshold")
    show_test: bool = _default("show_test")
    discrete: bool = _default("discrete")
    # not a setting: the table behind dataset "upload", which no link or flag can carry
    upload: Upload | None = None

    def data_config(self) -> DataConfig:
        return DataConfig(
            name=self.dataset,
            n_points=self.n_points,
            noise=self.noise,
            train_ratio=self.train_ratio,
            seed=self.data_seed,
            n_classes=self.n_classes,
            features=self.feature_keys(),
            upload=self.upload if self.dataset in TABLES else None,
        )

    def feature_keys(self) -> tuple[str, ...]:
        """The chosen input features in their table's order, each once (a link may repeat or
        reorder them and still mean the same network)."""
        chosen = {part.strip().lower() for part in self.features.split(",")}
        return tuple(k for k in FEATURES if k in chosen)

    @property
    def task(self) -> str:
        return task_of(self.dataset, self.upload)

    def io_sizes(self) -> tuple[int, int]:
        """The network's inputs and the data's classes (1 for regression), before loading it."""
        if self.dataset == "upload" and self.upload is not None:
            return self.upload.x.shape[1], self.upload.n_classes
        if self.dataset == "drawn" and self.upload is not None:
            return len(self.feature_keys()), self.upload.n_classes
        spec = DATASETS[self.dataset]
        n_in = len(self.feature_keys()) if self.dataset in PLANE_KEYS else spec.n_features
        return n_in, self.n_classes if self.dataset == "blobs" else spec.n_classes

    def hidden_activations(self) -> list[str]:
        """The activation key of each hidden layer, in order."""
        if not self.layer_activations.strip():
            return [self.activation] * self.depth
        return [k.strip().lower() for k in self.layer_activations.split(",")]

    def resolved_pairing(self) -> str:
        return default_pairing(self.task) if self.pairing == "auto" else self.pairing

    def alpha_for(self, key: str) -> float:
        """The parameter value for activation `key` (its own default when unset or not its own)."""
        param = activations.get(key).param
        if param is None:
            return 0.0
        if self.alpha is None or key != self.activation:
            return param.default
        return self.alpha

    def problems(self) -> list[tuple[str, str]]:
        """Every reason this config cannot run, as (setting key, message); empty when it can."""
        out: list[tuple[str, str]] = []
        for s in SETTINGS:
            value = getattr(self, s.key)
            if value is None or s.kind is str and not s.choices:
                continue
            try:
                s.check(value)
            except ConfigError as e:
                out.append((s.key, str(e)))
        if out:
            return out
        return _combination_problems(self)

    def validate(self) -> RunConfig:
        """Return self, or raise ConfigError with every problem in one message."""
        problems = self.problems()
        if problems:
            raise ConfigError("; ".join(msg for _, msg in problems))
        return self

    def replace(self, **changes: Any) -> RunConfig:
        return replace(self, **changes)

    def needs_rebuild(self, other: RunConfig) -> bool:
        """True when going from `other` to self changes what the run computes beyond live
        settings (the learning rate) and display settings."""
        return self.upload != other.upload or any(
            getattr(self, s.key) != getattr(other, s.key) for s in SETTINGS if s.effect == "rebuild"
        )


def _combination_problems(cfg: RunConfig) -> list[tuple[str, str]]:
    """Rules that involve more than one setting: the combinations that cannot work."""
    out: list[tuple[str, str]] = []
    layers = cfg.hidden_activations()
    if cfg.layer_activations.strip():
        if len(layers) != cfg.depth:
            out.append(
                (
                    "layer_activations",
                    f"layer_activations names {len(layers)} activations but depth is {cfg.depth}",
                )
            )
        for key in layers:
            if key not in activations.REGISTRY:
                out.append(
                    (
                        "layer_activations",
                        f"unknown activation {key!r} in "
                        f"layer_activations; choose from {', '.join(activations.HIDDEN_KEYS)}",
                    )
                )
            elif key not in activations.HIDDEN_KEYS:
                out.append(
                    (
                        "layer_activations",
                        f"{key} belongs in the output layer only, not "
                        "in a hidden layer: it couples units so they compete instead of "
                        "computing features",
                    )
                )
    out += _feature_problems(cfg.features)
    param = activations.get(cfg.activation).param
    if cfg.alpha is not None and param is not None and not param.low <= cfg.alpha <= param.high:
        out.append(
            (
                "alpha",
                f"alpha for {cfg.activation} must be between {param.low:g} and "
                f"{param.high:g} (got {cfg.alpha:g})",
            )
        )
    if cfg.dataset == "upload" and cfg.upload is None:
        out.append(("dataset", UPLOAD_MISSING))
        return out
    if cfg.dataset == "drawn":
        drawn = drawing.from_upload(cfg.upload)
        said = drawing.problems(*drawn) if drawn else [drawing.problems((), "binary")[0]]
        out += [("dataset", f"{DRAWING_PENDING}{message}") for message in said]
        if said:
            return out
    n_train = n_train_points(cfg.n_points, cfg.train_ratio)
    n_classes = cfg.io_sizes()[1]
    if cfg.task != "regression" and n_train < n_classes:
        out.append(
            (
                "n_points",
                f"n_points={cfg.n_points} at train_ratio={cfg.train_ratio:g} leaves "
                f"{n_train} training points, fewer than the {n_classes} classes; raise "
                "n_points or train_ratio",
            )
        )
    if cfg.batch_norm and min(cfg.batch_size, n_train) < 2:
        out.append(
            (
                "batch_norm",
                "batch norm needs at least 2 points per batch: with a batch "
                "of 1 every normalised value is 0; raise the batch size (and the training "
                "points) or turn it off",
            )
        )
    pairing = PAIRINGS.get(cfg.resolved_pairing())
    if pairing is not None and pairing.task != cfg.task:
        fits = ", ".join(k for k, p in PAIRINGS.items() if p.task == cfg.task)
        out.append(
            (
                "pairing",
                f"output/loss {cfg.pairing} is for {pairing.task} tasks but "
                f"{cfg.dataset} is {cfg.task}; choose auto or one of {fits}",
            )
        )
    return out


DRAWING_PENDING = "your drawing: "  # what a drawing still needs: a page says it, a link opens
UPLOAD_MISSING = (
    "dataset upload is a table uploaded on the page, and a link cannot carry a file: upload "
    "it again"
)


def _feature_problems(text: str) -> list[tuple[str, str]]:
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in FEATURES]
    if unknown or not names:
        what = f"unknown feature(s) {', '.join(map(repr, unknown))}" if unknown else "no feature"
        return [("features", f"features: {what}; choose from {', '.join(FEATURES)}")]
    return []


def to_query(cfg: RunConfig) -> dict[str, str]:
    """The config as URL query parameters: every setting, plus the schema version."""
    out = {"v": str(SCHEMA_VERSION)}
    for s in SETTINGS:
        value = getattr(cfg, s.key)
        if value is None:
            continue
        if s.kind is bool:
            out[s.key] = "1" if value else "0"
        elif s.kind is float:
            out[s.key] = repr(float(value))  # shortest text that reads back exactly
        else:
            out[s.key] = str(value)
    return out


def from_query(
    params: Mapping[str, Any], extra: Collection[str] = (), upload: Upload | None = None
) -> tuple[RunConfig, list[str]]:
    """Read a config from URL parameters; anything unusable falls back to its default.

    Returns the config and the notices to show: a link must never fail to open, but the person
    must be told what was not applied. `extra` names a page's own parameters (a comparison's),
    which it reads itself; `upload`, the table behind an upload or a drawing (a link's
    `points`, read by `playground.drawing`), which no setting holds.
    """
    notices: list[str] = []
    version = first_value(params.get("v", str(SCHEMA_VERSION)))
    if version != str(SCHEMA_VERSION):
        notices.append(
            f"This link has settings version {version!r}; this app reads version "
            f"{SCHEMA_VERSION}. Settings were applied where they still make sense."
        )
    unknown = sorted(k for k in params if k not in {*LINK_KEYS, *SETTING, *extra})
    if unknown:
        notices.append(f"Ignored unknown link parameter(s): {', '.join(unknown)}.")
    values: dict[str, Any] = {}
    for key in params:
        if key not in SETTING:
            continue
        text = first_value(params[key])
        if key == "alpha" and text.strip() == "":
            continue
        try:
            values[key] = SETTING[key].parse(text)
        except ConfigError as e:
            notices.append(f"{e}; using the default.")
    cfg = RunConfig(**values, upload=upload)
    for key, message in _link_problems(cfg):
        notices.append(f"{message}; using the default for {key}.")
        cfg = replace(cfg, **{key: getattr(RunConfig(), key)})
    leftover = _link_problems(cfg)
    if leftover:  # defaults of the offending fields still clash: start clean
        notices.append("The link's settings do not fit together; using all defaults.")
        cfg = RunConfig()
    # as the sidebar's toggles write it back: the same features, in the table's order
    return replace(cfg, features=",".join(cfg.feature_keys())), notices


def _link_problems(cfg: RunConfig) -> list[tuple[str, str]]:
    """A config's problems but an unfinished drawing's: a link to the drawing plane opens it
    (with few points or none), and the page says what the drawing still needs."""
    return [(k, m) for k, m in cfg.problems() if not m.startswith(DRAWING_PENDING)]


def first_value(value: Any) -> str:
    """A link parameter as text: the last when it was given several times."""
    if isinstance(value, list | tuple):
        return str(value[-1]) if value else ""
    return str(value)


def config_dict(cfg: RunConfig) -> dict[str, Any]:
    """Plain dict for JSON records, with the schema version; an uploaded table is described
    (file, digest, target), not copied."""
    return {"schema_version": SCHEMA_VERSION, **plain_dict(cfg)}


def plain_dict(cfg: RunConfig) -> dict[str, Any]:
    """The settings as JSON-ready values."""
    out = asdict(cfg)
    out["upload"] = cfg.upload.summary() if cfg.upload is not None else None
    return out


def parse_hide(text: str) -> tuple[tuple[str, ...], list[str]]:
    """Read a link's `hide=` list (setting keys, group names, button names), with notices.

    Group names expand to their hideable settings, so `hide=lr,Training` hides the whole group.
    Names that are unknown or may not be hidden are dropped with a notice.
    """
    hidden: list[str] = []
    notices: list[str] = []
    groups = {g.lower(): g for g in GROUPS}
    for name in (part.strip() for part in text.split(",")):
        if not name:
            continue
        if name.lower() in groups:
            group = groups[name.lower()]
            hidden += [s.key for s in SETTINGS if s.group == group and s.hideable]
        elif (name in SETTING and SETTING[name].hideable) or name in CONTROLS:
            hidden.append(name)
        elif name in SETTING:
            notices.append(f"{name} cannot be hidden by a link; it stays visible.")
        else:
            known = ", ".join([*GROUPS, *CONTROLS])
            notices.append(f"hide: unknown control {name!r} (use setting keys or {known}).")
    return tuple(dict.fromkeys(hidden)), notices


def hide_query(hidden: tuple[str, ...]) -> dict[str, str]:
    """The `hide=` link parameter for `hidden`, or nothing when no control is hidden."""
    return {"hide": ",".join(hidden)} if hidden else {}


@dataclass(frozen=True)
class Preset:
    """A ready-made setup: settings over the defaults, controls to hide, and what to look at.

    Its settings are link text, so a preset goes through exactly the validation and notices a
    link does, and applying one is the same as opening its link.
    """

    key: str
    title: str
    note: str
    settings: Mapping[str, str]
    hide: tuple[str, ...] = ()

    def query(self) -> dict[str, str]:
        """The preset as link parameters."""
        return {
            "v": str(SCHEMA_VERSION),
            **self.settings,
            **hide_query(self.hide),
            "preset": self.key,
        }
