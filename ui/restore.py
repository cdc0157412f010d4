"""Load back what the Downloads saved: a config (JSON) applies its settings as a link would; a
weights file (safetensors) applies the settings written into it and goes on from its weights.

Files are read as data only: JSON by the json module, weights by safetensors (tensors and a
text header, no code); nothing from a file reaches a path. The optimiser's state is in neither
file, so momentum and Adam start afresh, as the page says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import streamlit as st
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from playground.backends import TrainerHandle
from playground.config import SCHEMA_VERSION, SETTING
from ui import settings

FILE, PENDING, ERROR = "restore_file", "restore_pending", "restore_error"
MAX_JSON = 1_000_000  # bytes: a config is a few hundred
FORMAT = "activation-playground weights"
NO_OPTIMISER = (
    "The optimiser's state (momentum, Adam's running averages) is not in the file: it starts "
    "afresh, so only plain SGD takes exactly the steps the saved run would have."
)


def weights_file(trainer: TrainerHandle) -> bytes:
    """The trained weights as safetensors, with the config and the step in its text header,
    so that loading it back brings the same network to the same point."""
    _, weights, record = trainer.export()
    meta = {"format": FORMAT, "step": str(record["step"]), "config": json.dumps(record)}
    return save_tensors(weights, metadata=meta)


def loader() -> None:
    """The upload control for a config or weights file, and what loading it did."""
    st.file_uploader(
        "Load a config (JSON) or weights (safetensors) saved here",
        type=["json", "safetensors"],
        key=FILE,
        on_change=_read,
        help="A config applies its settings; weights also go on from where they were saved. "
        + NO_OPTIMISER,
    )
    error = st.session_state.get(ERROR)
    if error:
        st.error(error, icon=":material/error:")


def _read() -> None:
    """The file's callback, before the page draws: settings first, weights once they apply."""
    st.session_state[ERROR] = None
    file = st.session_state.get(FILE)
    if file is None:
        return
    raw = file.getvalue()
    try:
        if file.name.lower().endswith(".json"):
            record = _json(raw)
        else:
            weights, record = _weights(raw)
            st.session_state[PENDING] = (weights, int(record.get("step", 0) or 0))
    except ValueError as e:
        st.session_state[ERROR] = f"{file.name}: {e}. Your run and settings are unchanged."
        return
    if record:
        settings.apply_link(as_link(record))


def _json(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_JSON:
        raise ValueError(f"a config is a few hundred bytes; this file is {len(raw):,}")
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"this is not a JSON config ({e})") from None
    if not isinstance(record, dict) or not set(record) & set(SETTING):
        raise ValueError("this JSON holds no settings of this app")
    return record


def _weights(raw: bytes) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors, and the config its header carries (empty for weights saved elsewhere)."""
    try:
        weights = load_tensors(raw)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise ValueError(f"this is not a safetensors weights file ({e})") from None
    meta = _header(raw).get("__metadata__") or {}
    try:
        record = json.loads(meta.get("config", "{}")) if meta.get("format") == FORMAT else {}
    except json.JSONDecodeError:
        record = {}
    return weights, record if isinstance(record, dict) else {}


def _header(raw: bytes) -> dict[str, Any]:
    """A safetensors file's JSON header: 8 bytes of its length, then the header itself."""
    size = int.from_bytes(raw[:8], "little")
    try:
        header = json.loads(raw[8 : 8 + size])
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return header if isinstance(header, dict) else {}


def as_link(record: Mapping[str, Any]) -> dict[str, str]:
    """A saved config as link parameters, so it goes through the link's checks and notices."""
    out = {"v": str(record.get("schema_version", SCHEMA_VERSION))}
    for key, value in record.items():
        if key not in SETTING or value is None or isinstance(value, dict | list):
            continue
        if isinstance(value, bool):
            out[key] = "1" if value else "0"
        else:
            out[key] = repr(value) if isinstance(value, float) else str(value)
    return out


def apply_pending(trainer: TrainerHandle | None) -> None:
    """Once the page's trainer runs the loaded file's settings, go on from its weights."""
    pending = st.session_state.pop(PENDING, None)
    if pending is None or trainer is None:
        return
    weights, step = pending
    try:
        trainer.resume(weights, step)
    except ValueError as e:
        st.session_state[ERROR] = f"{e}. Your run is unchanged."
        return
    st.toast(f"Loaded the weights of step {step:,}. {NO_OPTIMISER}", icon=":material/upload:")
