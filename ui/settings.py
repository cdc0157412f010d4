"""The settings sidebar, generated from the settings table, and the link <-> session round trip.

Every widget's label, range, grid, choices, help and visibility come from `playground.config`;
nothing here knows a value list of its own. The settings live in one plain session dict, so a
control that is not drawn (hidden by a link, another page visited, the blobs-only slider) keeps
its value, and links and presets go through one path with one set of notices.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import asdict
from typing import Any

import numpy as np
import streamlit as st

from playground import activations, drawing
from playground.config import (
    GROUPS,
    SETTING,
    SETTINGS,
    Preset,
    RunConfig,
    Setting,
    first_value,
    from_query,
    hide_query,
    parse_hide,
    to_query,
)
from playground.data import DATASETS, FEATURES, PLAIN
from playground.presets import PRESETS
from playground.train import available_devices
from playground.upload import Upload
from ui import present, upload

VALUES, HIDDEN, NOTICES, NOTE = "settings", "hidden", "notices", "preset_note"
ALPHAS, WRITTEN = "alphas", "written_link"


def widget_key(name: str) -> str:
    return f"cfg_{name}"


def _alpha_key(act: str) -> str:
    return widget_key(f"alpha_{act}")


# ---- links and presets ------------------------------------------------------------------------
def apply_link(params: Mapping[str, Any], extra: Collection[str] = ()) -> None:
    """Make the session's settings those of a link (or preset), with notices for what was not
    applied. Runs before widgets are drawn (first run, or a widget callback). `extra` names the
    page's own parameters, read by the page (see `ui.race`)."""
    preset = link_param(params, "preset")
    if preset in PRESETS:  # a scenario's settings under the link's own: the note fits the run
        params = {**PRESETS[preset].query(), **params}
    table, drawn_notices = _table_of(params)
    cfg, notices = from_query(params, extra, upload=table)
    notices = drawn_notices + notices
    if preset and preset not in PRESETS:
        notices.append(f"unknown scenario {preset!r}; its settings were applied as they are.")
    unavailable = available_devices().get(cfg.device)
    if unavailable:
        notices.append(unavailable)
        cfg = cfg.replace(device="cpu")
    param = activations.get(cfg.activation).param
    if "alpha" in params and param is None:
        notices.append(f"alpha does not apply to {cfg.activation}; ignored.")
    if param is None or cfg.alpha == param.default:  # as the sidebar will read it back
        cfg = cfg.replace(alpha=None)
    hidden, hide_notices = parse_hide(link_param(params, "hide"))
    values = asdict(cfg)
    values["upload"] = table
    st.session_state[VALUES] = values
    st.session_state[HIDDEN] = hidden
    st.session_state[NOTICES] = (cfg, notices + hide_notices)
    st.session_state[NOTE] = (cfg, PRESETS[preset]) if preset in PRESETS else None
    for name, value in values.items():
        st.session_state[widget_key(name)] = value
    st.session_state[ALPHAS] = {} if cfg.alpha is None else {cfg.activation: cfg.alpha}
    for act in activations.HIDDEN_KEYS:  # each activation's parameter starts from the link's
        st.session_state.pop(_alpha_key(act), None)


def _table_of(params: Mapping[str, Any]) -> tuple[Upload | None, list[str]]:
    """The table a link brings (a drawing's `points`), else the session's own upload."""
    kept = st.session_state.get(VALUES, {}).get("upload")
    text = link_param(params, "points")
    if not text:
        return kept, []
    points, task, notices = drawing.decode(text)
    return (drawing.as_upload(points, task) if points else kept), notices


def apply_preset(preset: Preset) -> None:
    """Open a preset as if it were a link: same validation, same notices, reflected in the URL."""
    apply_link(preset.query())


def literal(text: str, limit: int = 400) -> str:
    """Text that came from a link, shown as written: Markdown escaped (a shared link must not
    be able to put a clickable link or an image into the app's own notice), length capped."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:/])", r"\\\1", text)  # ":/": no autolinks


def link_param(params: Mapping[str, Any], key: str) -> str:
    """One link parameter as text (the last one when it was given several times)."""
    return first_value(params.get(key, "") or "")


def _active_preset(cfg: RunConfig) -> Preset | None:
    """The scenario whose note still applies: none once the run was rebuilt otherwise."""
    note = st.session_state.get(NOTE)
    return note[1] if note and not cfg.needs_rebuild(note[0]) else None


def hidden() -> tuple[str, ...]:
    return st.session_state.get(HIDDEN, ())


def write_link(cfg: RunConfig, extra: Mapping[str, str] | None = None) -> None:
    """Put the running config (and hide flags, and the page's own `extra` parameters) in the
    URL, so the address bar is the link."""
    query = {**to_query(cfg), **(extra or {}), **hide_query(hidden())}
    drawn = drawing.from_upload(cfg.upload) if cfg.dataset == "drawn" else None
    if drawn and drawing.encode(*drawn):  # a drawing the link can carry travels with it
        query["points"] = drawing.encode(*drawn)
    if present.chart() is not None:  # presenting stays on through every rerun of the link
        query["present"] = present.chart()
    preset = _active_preset(cfg)
    if preset is not None:  # a copied link shows the scenario's note too
        query["preset"] = preset.key
    st.session_state[WRITTEN] = query
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


def arrived_with_a_new_link(params: Mapping[str, Any]) -> bool:
    """A first visit, or navigation that brought parameters this page did not write (a
    scenario link from another page); plain navigation without parameters keeps the settings."""
    if VALUES not in st.session_state:
        return True
    return bool(params) and params != st.session_state.get(WRITTEN)


def show_notices(cfg: RunConfig) -> None:
    """Link notices and a preset's note, kept on screen until the run is rebuilt otherwise."""
    issued = st.session_state.get(NOTICES)
    if issued and not cfg.needs_rebuild(issued[0]):
        for notice in issued[1]:
            st.warning(f"Link: {literal(notice)}", icon=":material/link:")
    preset = _active_preset(cfg)
    if preset is not None:
        st.info(f"**{preset.title}.** {preset.note}", icon=":material/school:")


# ---- the sidebar --------------------------------------------------------------------------------
def sidebar(extra: Collection[str] = (), under: Mapping[str, str] | None = None) -> RunConfig:
    """Draw every visible setting and return the config they describe (not yet validated).

    `extra`: the page's own link parameters, which the page reads (not unknown to the link);
    `under`: parameters a new link is applied over (a lab's settings under the link's own)."""
    params = st.query_params.to_dict()
    if arrived_with_a_new_link(params):
        apply_link({**(under or {}), **params}, extra)
    values: dict[str, Any] = st.session_state[VALUES]
    sb = st.sidebar
    _preset_picker(sb)
    _hidden_note(sb)
    shown = [s for s in SETTINGS if s.key not in hidden()]
    for group in GROUPS:
        group_settings = [s for s in shown if s.group == group and not s.advanced]
        if group_settings:
            sb.header(group)
        for setting in group_settings:
            _draw(sb, setting, values)
    advanced = [s for s in shown if s.advanced]
    if advanced:
        with sb.expander("Advanced"):
            for setting in advanced:
                _draw(st, setting, values)
    _follow_undrawn(values)
    return RunConfig(**values)


def _follow_undrawn(values: dict[str, Any]) -> None:
    """Keep controls that are not drawn consistent with the ones that are: the activation's
    parameter follows the activation, and a choice that no longer fits (an output for the
    previous dataset's task) falls back to the first that does."""
    if "alpha" in hidden():
        values["alpha"] = _remembered_alpha(values["activation"])
    for setting in SETTINGS:
        if setting.choices:
            values[setting.key] = setting.fitting(values[setting.key], values)


def _remembered_alpha(act: str) -> float | None:
    param = activations.get(act).param
    if param is None:
        return None
    value = st.session_state.get(ALPHAS, {}).get(act, param.default)
    return None if value == param.default else value


def _preset_picker(where: Any) -> None:
    where.selectbox(
        "Scenario",
        list(PRESETS),
        index=None,
        placeholder="Start from a scenario…",
        format_func=lambda k: PRESETS[k].title,
        key="preset_pick",
        on_change=_picked,
        help="Loads a ready-made setup with a note on what to watch; your current settings "
        "are replaced (the link changes with them).",
    )


def _picked() -> None:
    key = st.session_state.get("preset_pick")
    if key in PRESETS:
        apply_preset(PRESETS[key])
    st.session_state["preset_pick"] = None


def _hidden_note(where: Any) -> None:
    if not hidden():
        return
    names = ", ".join(SETTING[k].label if k in SETTING else k for k in hidden())
    where.caption(f"This link hides: {names}. Their values still apply.")
    where.button("Show all controls", key="show_all", on_click=_show_all)


def _show_all() -> None:
    st.session_state[HIDDEN] = ()


def _draw(where: Any, setting: Setting, values: dict[str, Any]) -> None:
    """One setting's widget; its value goes back into `values`."""
    if not setting.shown(values):
        return
    key = widget_key(setting.key)
    if key not in st.session_state:  # not drawn last run: restore from the settings dict
        st.session_state[key] = values[setting.key]
    if setting.widget == "param":
        values[setting.key] = _alpha(where, values["activation"])
        return
    widget = _WIDGETS[_widget_kind(setting)]
    values[setting.key] = widget(where, setting, values, key)
    if setting.key == "dataset":
        where.caption(DATASETS[values["dataset"]].help)
        upload.uploader(where, values, widget_key)
    elif setting.key == "data_seed":
        where.button(
            "Regenerate",
            key="regenerate",
            icon=":material/casino:",
            on_click=_regenerate,
            help="New points from a new data seed; the seed goes into the link, so the link "
            "still brings back these very points.",
        )


def _regenerate() -> None:
    """A fresh data seed, drawn from the session's own generator (seeded per session)."""
    seed = int(_session_rng().integers(0, SETTING["data_seed"].high + 1))
    st.session_state[widget_key("data_seed")] = seed
    st.session_state[VALUES]["data_seed"] = seed


def _session_rng() -> np.random.Generator:
    if "regenerate_rng" not in st.session_state:
        st.session_state["regenerate_rng"] = np.random.default_rng()
    return st.session_state["regenerate_rng"]


def _widget_kind(s: Setting) -> str:
    if s.widget:
        return s.widget
    if s.choices:
        return "select"
    if s.grid:
        return "grid"
    if s.kind is bool:
        return "toggle"
    if s.kind is str:
        return "text"
    return "slider"


def _select(where: Any, s: Setting, values: dict[str, Any], key: str) -> Any:
    options = s.options(values)
    st.session_state[key] = s.fitting(st.session_state[key], values)
    return where.selectbox(s.label, options, key=key, format_func=s.label_of, help=s.help)


def _grid(where: Any, s: Setting, values: dict[str, Any], key: str) -> Any:
    options = s.options({**values, s.key: st.session_state[key]})
    return where.select_slider(
        s.label, options, key=key, format_func=lambda v: f"{v:g}", help=s.help
    )


def _ranged(widget_name: str) -> Any:
    def draw(where: Any, s: Setting, values: dict[str, Any], key: str) -> Any:
        low, high = (s.low, s.high) if s.kind is float else (int(s.low), int(s.high))
        extra = {"step": s.step} if s.step is not None else {}
        return getattr(where, widget_name)(s.label, low, high, key=key, help=s.help, **extra)

    return draw


def _toggle(where: Any, s: Setting, values: dict[str, Any], key: str) -> Any:
    return where.toggle(s.label, key=key, help=s.help)


def _text(where: Any, s: Setting, values: dict[str, Any], key: str) -> Any:
    return where.text_input(s.label, key=key, help=s.help)


def _features(where: Any, s: Setting, values: dict[str, Any], key: str) -> str:
    """Toggles for the input features, as the TensorFlow Playground's column of inputs; the
    setting holds them as link text ("x1,x2,x1_x2"). Turning the last one off keeps it on."""
    state = st.session_state[key]
    if isinstance(state, str):  # from a link or a preset: the text, as the table holds it
        chosen = RunConfig(features=state).feature_keys()
        st.session_state[key] = list(chosen or PLAIN)
    picked = where.pills(
        s.label,
        list(FEATURES),
        selection_mode="multi",
        format_func=lambda k: FEATURES[k].label,
        key=key,
        help=s.help,
        on_change=_keep_a_feature,
    )
    return ",".join(k for k in FEATURES if k in picked) or values[s.key]


def _keep_a_feature() -> None:
    """A network needs an input: turning the last feature off turns the previous ones back on."""
    key = widget_key("features")
    if not st.session_state[key]:
        before = st.session_state[VALUES]["features"]
        st.session_state[key] = list(RunConfig(features=before).feature_keys() or PLAIN)


def _radio(where: Any, s: Setting, values: dict[str, Any], key: str) -> Any:
    """The device: usable ones to pick from, missing ones shown disabled with the reason."""
    devices = available_devices()
    usable = [d for d in s.options(values) if devices.get(d) is None]
    if st.session_state[key] not in usable:
        st.session_state[key] = usable[0]
    value = where.radio(s.label, usable, key=key, horizontal=True, help=s.help)
    for name, why in devices.items():
        if why is not None:
            where.checkbox(
                f"{name.upper()}: not available",
                value=False,
                disabled=True,
                help=why.split(";")[0] + ".",
                key=f"no_{name}",
            )
    return value


_WIDGETS = {
    "select": _select,
    "grid": _grid,
    "slider": _ranged("slider"),
    "number": _ranged("number_input"),
    "toggle": _toggle,
    "text": _text,
    "radio": _radio,
    "features": _features,
}


def _alpha(where: Any, act: str) -> float | None:
    """The activation's own parameter, remembered per activation; None means its default."""
    param = activations.get(act).param
    if param is None:
        return None
    key = _alpha_key(act)
    alphas = st.session_state.setdefault(ALPHAS, {})
    if key not in st.session_state:
        st.session_state[key] = alphas.get(act, param.default)
    value = where.number_input(
        f"{param.name} ({activations.get(act).label})",
        param.low,
        param.high,
        step=param.step,
        key=key,
        help=param.help,
    )
    alphas[act] = value
    return _remembered_alpha(act)
