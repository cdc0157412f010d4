"""Your own data in the sidebar: upload a CSV, pick its target column and task, train on it.

A file is read (`playground.upload`) in the upload's own callback, before the page draws, so a
good table can switch the Dataset control to it in the same rerun. A bad one leaves the
settings and the run as they were and says what is wrong with it. The table lives in the
session's settings (`RunConfig.upload`), so changing other settings, or another dataset and
back, keeps it; a link cannot carry it, and the Share popover says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from playground.config import SETTING
from playground.upload import MAX_BYTES, TASKS, Table, UploadError, prepare, read_table

FILE, TARGET, TASK = "upload_file", "upload_target", "upload_task"
ERROR, TABLE = "upload_error", "upload_table"
NO_LINK = "An uploaded table stays in this session: a link cannot carry a file."


def uploader(where: Any, values: dict[str, Any], widget_key: Callable[[str], str]) -> None:
    """The upload control and, once a table is in, its target and task; with notes and errors.

    `values`: the session's settings, which a good table changes (in a callback, before the
    widgets are drawn); `widget_key`: the sidebar's key of a setting's widget."""
    again = (values, widget_key)
    # open while a CSV is the data (a drawing keeps its table in the same slot: not then)
    with where.expander("Your own data (CSV)", expanded=values.get("dataset") == "upload"):
        st.file_uploader(
            "CSV file",
            type=["csv", "tsv", "txt"],
            key=FILE,
            on_change=_read,
            args=again,
            max_upload_size=MAX_BYTES // 2**20,  # the box says this limit, not the server's
            help=f"A table with a header row, up to {MAX_BYTES // 2**20} MB: numeric "
            "columns, and text columns of few values (one-hot encoded). " + NO_LINK,
        )
        error = st.session_state.get(ERROR)
        if error:
            st.error(error, icon=":material/error:")
        table: Table | None = st.session_state.get(TABLE)
        if table is None:
            return
        columns = table.columns
        if st.session_state.get(TARGET) not in columns:
            st.session_state[TARGET] = table.default_target()
        st.selectbox("Target column", columns, key=TARGET, on_change=_prepare, args=again)
        st.radio("Task", TASKS, key=TASK, horizontal=True, on_change=_prepare, args=again)
        upload = values.get("upload")
        if upload is not None:
            st.caption(
                upload.label + ". " + " ".join(f"{n[0].upper()}{n[1:]}." for n in upload.notes)
            )


def _read(values: dict[str, Any], widget_key: Callable[[str], str]) -> None:
    """The file's callback: parse it; a good table becomes the dataset, a bad one an error."""
    st.session_state[ERROR] = None
    file = st.session_state.get(FILE)
    if file is None:
        return
    try:
        table = read_table(file.getvalue(), file.name)
    except UploadError as e:
        st.session_state[ERROR] = f"{file.name}: {e}. Your run and settings are unchanged."
        return
    st.session_state[TABLE] = table
    st.session_state[TARGET] = table.default_target()
    st.session_state.setdefault(TASK, "auto")
    _prepare(values, widget_key)


def _prepare(values: dict[str, Any], widget_key: Callable[[str], str]) -> None:
    """Encode the table for the chosen target and task and make it the session's dataset."""
    table: Table | None = st.session_state.get(TABLE)
    if table is None:
        return
    try:
        upload = prepare(table, st.session_state.get(TARGET), st.session_state.get(TASK, "auto"))
    except UploadError as e:
        st.session_state[ERROR] = f"{table.name}: {e}. Your run and settings are unchanged."
        return
    st.session_state[ERROR] = None
    values.update(upload=upload, dataset="upload", pairing="auto")
    values["n_points"] = min(len(upload.y), int(SETTING["n_points"].high))
    for key in ("dataset", "pairing", "n_points"):
        st.session_state[widget_key(key)] = values[key]
