"""This tab's trainer: created per browser session, driven by commands, read through snapshots.

A page calls `sync(cfg)` with the sidebar's config, draws `controls`, hands a drawing function
to `live` (a fragment that polls snapshots only while training) and offers `downloads`. Nothing
here reaches into the run: the trainer's commands and snapshots are the whole contract, so the
trainer could live in another process.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from playground import backends, configure_torch, limits
from playground.backends import TrainerHandle
from playground.comparison_config import CompareConfig
from playground.config import DRAWING_PENDING, RunConfig
from playground.runner import Snapshot
from ui import restore, share
from ui.panels import Show
from ui.settings import hidden, literal, write_link

REFRESH_S = 0.5  # chart refresh while playing: 2 Hz leaves the trainer most of the GIL
SLOW_S = 2.0  # refresh of the charts that change slowly (see `live`)

configure_torch()


class Parked:
    """Trainers of tabs whose connection dropped, paused and kept for the session's return.

    A dropped websocket is not a closed tab: Streamlit keeps the session for
    `server.disconnectedSessionTTL` seconds in case the tab reconnects (a network blip, a
    laptop waking up). So a disconnected session's trainer stops training at once and waits
    here; a reconnecting session takes it back, and after the TTL it is closed and freed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, tuple[TrainerHandle, threading.Timer]] = {}

    def park(self, session_id: str, trainer: TrainerHandle, ttl_s: float) -> None:
        trainer.pause()
        timer = threading.Timer(ttl_s, self._expire, args=(session_id, trainer))
        timer.daemon = True
        with self._lock:
            self._waiting[session_id] = (trainer, timer)
        timer.start()

    def claim(self, session_id: str) -> TrainerHandle | None:
        with self._lock:
            trainer, timer = self._waiting.pop(session_id, (None, None))
        if timer is not None:
            timer.cancel()
        return trainer

    def _expire(self, session_id: str, trainer: TrainerHandle) -> None:
        with self._lock:
            if self._waiting.get(session_id, (None,))[0] is not trainer:
                return  # claimed meanwhile
            del self._waiting[session_id]
        trainer.close()

    def __len__(self) -> int:
        with self._lock:
            return len(self._waiting)

    def close_all(self) -> None:
        """Free every parked trainer now (a test's fresh start; the same session id again)."""
        with self._lock:
            waiting, self._waiting = self._waiting, {}
        for trainer, timer in waiting.values():
            timer.cancel()
            trainer.close()


PARKED = Parked()


class TrainerBox:
    """Holds this session's trainer; when the session's connection drops, parks it."""

    def __init__(self, session_id: str | None = None) -> None:
        self.session_id = session_id
        self.trainer: TrainerHandle | None = PARKED.claim(session_id) if session_id else None
        self.reattached = self.trainer is not None

    def close(self) -> None:
        """The session's release hook: it fires when the tab's websocket disconnects."""
        if self.trainer is None or self.trainer.closed:
            return
        if self.session_id is None:
            self.trainer.close()
        else:
            ttl = float(st.get_option("server.disconnectedSessionTTL"))
            PARKED.park(self.session_id, self.trainer, ttl)


@st.cache_resource(scope="session", on_release=TrainerBox.close, show_spinner=False)
def session_box(page: str = "playground") -> TrainerBox:
    """The session's trainer for a page: the Playground's run and the Compare page's
    comparison are separate, so visiting one never rebuilds the other."""
    ctx = get_script_run_ctx()
    return TrainerBox(f"{ctx.session_id}/{page}" if ctx is not None else None)


def page_of(cfg: RunConfig | CompareConfig) -> str:
    if isinstance(cfg, CompareConfig):
        return "labs" if cfg.lab else "compare"
    return "playground"


def sync(cfg: RunConfig | CompareConfig) -> TrainerHandle | None:
    """Make the trainer match the settings; bad settings leave the current run alone."""
    box = session_box(page_of(cfg))
    if box.reattached:
        box.reattached = False
        st.toast(
            "Reconnected: your run was kept, paused. Press Play to go on.",
            icon=":material/link:",
        )
    try:
        problems = cfg.problems() or limits.over(cfg, host_limits())
    except BackendError as e:
        st.error(str(e), icon=":material/dns:")
        return box.trainer
    pending = [m for _, m in problems if m.startswith(DRAWING_PENDING)]
    if pending and len(pending) == len(problems):  # a drawing on its way: no error, a note
        _drawing_pending(box.trainer, pending)
        return box.trainer
    if problems:
        after = (
            "The current run is unchanged."
            if box.trainer is not None and not box.trainer.closed
            else "Nothing runs until the settings can."
        )
        for _, message in problems:
            st.error(
                f"Not applied: {literal(message)}. {after}",
                icon=":material/warning:",
            )
        return box.trainer
    try:
        if box.trainer is None or box.trainer.closed:
            box.trainer, change = backend().trainer(cfg), None
        else:
            change = box.trainer.apply(cfg)
    except BackendError as e:
        st.error(str(e), icon=":material/dns:")
        return box.trainer
    except Exception as e:  # e.g. out of memory building a huge network: say so, keep the run
        st.error(
            f"Could not build this network ({type(e).__name__}: {e}). The current run is "
            "unchanged.",
            icon=":material/warning:",
        )
        return box.trainer
    if isinstance(cfg, CompareConfig):
        write_link(cfg.base, cfg.query())
    else:
        write_link(cfg)
    if change == "rebuilt":
        what = "every model" if isinstance(cfg, CompareConfig) else "the network"
        st.toast(
            f"Settings changed: {what} was rebuilt at step 0 and is paused. Press Play to train.",
            icon=":material/restart_alt:",
        )
    elif change == "lr":
        st.toast(f"Learning rate is now {cfg.lr:g}, applied mid-run.", icon=":material/tune:")
    return box.trainer


@st.cache_resource(show_spinner=False)
def host_limits() -> limits.HostLimits:
    """This server's limits on one run: environment first, then secrets' `[limits]` table."""
    try:
        table = dict(st.secrets.get("limits", {}))
    except FileNotFoundError:  # no secrets file: the environment and the defaults
        table = {}
    try:
        return limits.HostLimits.from_settings(os.environ, table)
    except ValueError as e:
        raise BackendError(f"This server's settings are wrong: {e}.") from None


class BackendError(RuntimeError):
    """The server's backend setting cannot be used: the message says why and what to do."""


def backend() -> backends.ThreadBackend | backends.RayBackend:
    """The server's trainer backend; a bad setting or a missing Ray becomes a clear message."""
    try:
        return backends.default()
    except ValueError as e:
        raise BackendError(f"This server's settings are wrong: {e}.") from None
    except ImportError:
        raise BackendError(
            "PLAYGROUND_BACKEND=ray, but Ray is not installed here: `pip install "
            "ray==2.60.0` (see the README's classroom section), or unset it to train in "
            "the server's process."
        ) from None


def _drawing_pending(trainer: TrainerHandle | None, pending: list[str]) -> None:
    """A drawing that cannot train yet is work in progress, not an error: one note (and while
    nothing has trained, a Play that says what it waits for)."""
    needs = "; ".join(m.removeprefix(DRAWING_PENDING) for m in pending)
    if trainer is not None and not trainer.closed:
        st.info(
            f"The run below is still the one before the drawing: to train on the drawing, {needs}.",
            icon=":material/draw:",
        )
        return
    st.button(
        "Play",
        key="play_waiting",
        type="primary",
        icon=":material/play_arrow:",
        disabled=True,
        help=f"To train on the drawing: {needs}.",
    )
    st.caption(f"Play starts once the drawing can train: {needs}.")


def controls(trainer: TrainerHandle, page: str = "playground") -> None:
    """Play/Pause, Step, Reset: buttons outside the live fragment, so a click reruns the page.

    A click names its command (see `_request`) rather than binding the trainer drawn with
    the buttons, which may have been closed since (the session's connection dropped and came
    back): a Play on a closed trainer does nothing at all.
    """
    command = st.session_state.pop(f"command_{page}", None)
    if command is not None:  # clicked while no live trainer: this is the one `sync` made
        getattr(trainer, command)()
    playing, waiting = trainer.playing, trainer.queued
    buttons = (  # (control, label, icon, command, help); Pause stands where Play was
        ("play", *_play_or_pause(playing or waiting)),
        ("step", "Step", ":material/skip_next:", "step",
         "One update on one batch, then measure everything."),
        ("reset", "Reset", ":material/restart_alt:", "reset",
         "Back to step 0 with the same starting weights."),
    )  # fmt: skip
    # a row that wraps only when it must: Streamlit stacks columns below 640 px, and four
    # buttons a row each took 45 % of a phone's first screen; the note on where it trains below
    row = st.container(horizontal=True, gap="medium")
    for control, label, icon, name, tip in buttons:
        if control in hidden():
            continue
        row.button(
            label,
            key=label.lower(),
            type="primary" if control == "play" else "secondary",
            icon=icon,
            on_click=_request,
            args=(name, page),
            disabled=control == "step" and playing,  # a queued run may still Step
            help=tip,
        )
    device, where = trainer.info.device.upper(), backend().where
    how = (
        f"on the server's {device}"
        if backend().name == "thread"
        else f"in its own process ({device})"
    )
    share.share(row)
    st.caption(f"Trains {how}; up to {backend().limit} at once on {where}.")


def _request(command: str, page: str) -> None:
    """Button callback: run the command on the session's live trainer now, before the rerun
    (so Pause takes hold at once), or leave it for `controls` when there is none."""
    trainer = session_box(page).trainer
    if trainer is not None and not trainer.closed:
        getattr(trainer, command)()
    else:
        st.session_state[f"command_{page}"] = command


def _play_or_pause(playing: bool) -> tuple[str, str, str, str]:
    if playing:
        return "Pause", ":material/pause:", "pause", "Stop training; the run is kept."
    return "Play", ":material/play_arrow:", "play", "Train continuously and watch the charts move."


def live(
    trainer: TrainerHandle,
    fast: Callable[[Snapshot], list[Show]],
    slow: Callable[[Snapshot], list[Show]] | None = None,
    notes: Callable[[], None] | None = None,
    beside: tuple[Any, Any] | None = None,
    slow_visuals: tuple[str, ...] = ("histograms",),
) -> None:
    """Redraw while training: `fast` every REFRESH_S, `slow` every SLOW_S; both once when paused.

    `beside`: two containers (columns) for the fast and the slow parts, side by side (a
    presenter's one screen), instead of one above the other. `slow_visuals`: what the slow
    part's snapshot carries (see `Worker.snapshot`).

    Two fragments on two timers: the loss curve and counters keep their 2 Hz while charts that
    change slowly (histograms, unit health, gradient norms) cost the browser a quarter as much,
    and the trainer lends its lock for the histograms' forward pass a quarter as often.
    `notes`, drawn between the two outside either fragment, holds what changes only with the
    run (captions, headings).

    Why panels compute first and show after (`fast` and `slow` return `Show`s): the browser
    redraws the whole page (every element, sidebar included) each time a batch of elements
    arrives, and a fragment whose elements trickle out between computations, slowed by the
    trainer's hold on the GIL, arrives in several batches. Sent in one burst they arrive in
    one. On a test page with 40 other elements, seven elements sent 6 ms apart cost the
    browser 85-92 ms of main-thread work per redraw, and 55-66 ms sent at once.
    """
    playing = st.session_state["drawn_playing"] = trainer.playing
    waiting = trainer.queued

    @st.fragment(run_every=REFRESH_S)
    def turn() -> None:
        """While queued only this polls (counting as the page's heartbeat), so a queued page
        costs the server and its browser one note twice a second, not the whole page."""
        snap = trainer.snapshot(visuals=False)
        if snap.message:
            st.session_state["trainer_message"] = snap.message
        if snap.queue_place is None:  # its turn came, or it left the queue: redraw all
            st.rerun(scope="app")
        st.info(_queue_note(snap.queue_place), icon=":material/hourglass_top:")

    @st.fragment(run_every=REFRESH_S if playing else None)
    def tick() -> None:
        snap = trainer.snapshot(visuals=True if slow is None else ("boundary",))
        if snap.message:  # kept across the rerun below, which would otherwise swallow it
            st.session_state["trainer_message"] = snap.message
        if snap.playing != st.session_state["drawn_playing"]:
            st.rerun(scope="app")  # it stopped by itself (diverged, heartbeat): redraw buttons
        shows = fast(snap)
        message = st.session_state.pop("trainer_message", None)
        if message:
            st.info(message)
        if snap.divergence is not None:
            st.error(snap.divergence.message(), icon=":material/error:")
        for show in shows:
            show()

    @st.fragment(run_every=SLOW_S if playing else None)
    def tock() -> None:
        for show in slow(trainer.snapshot(visuals=slow_visuals)):
            show()

    if waiting:
        turn()
    fast_at, slow_at = beside or (nullcontext(), nullcontext())  # in place, unless beside
    with fast_at:
        tick()
    if notes is not None:
        notes()
    if slow is not None:
        with slow_at:
            tock()


def _queue_note(place: int) -> str:
    where = backend().where
    ahead = "you are next" if place == 1 else f"you are number {place} in the queue"
    limit = backend().limit
    slots = "The one training slot" if limit == 1 else f"All {limit} training slots"
    return (
        f"{slots} on {where} {'is' if limit == 1 else 'are'} in use: {ahead}. Training "
        "starts by itself when a slot frees (Pause leaves the queue; Step still works)."
    )


@dataclass(frozen=True)
class Download:
    """One download button: its label, the bytes (made when clicked), file name and help."""

    label: str
    data: Callable[[], Any]
    file_name: str
    mime: str
    key: str
    help: str


def download_row(
    files: list[Download], title: str = "Downloads", then: Callable[[], None] | None = None
) -> None:
    """The Downloads expander: one button a file, side by side, and `then` below them."""
    if "downloads" in hidden():
        return
    with st.expander(title):
        for col, f in zip(st.columns(len(files)), files, strict=True):
            col.download_button(
                f.label, data=f.data, file_name=f.file_name, mime=f.mime,
                on_click="ignore", key=f.key, help=f.help,
            )  # fmt: skip
        if then is not None:
            then()


def downloads(trainer: TrainerHandle) -> None:
    """History, weights and config, copied under the trainer's lock when clicked."""
    download_row(
        [
            Download("History (CSV)", lambda: trainer.export()[0], "history.csv", "text/csv",
                     "dl_csv", "Every probe: losses, accuracy, per-layer statistics."),
            Download("Weights (safetensors)", lambda: restore.weights_file(trainer),
                     "weights.safetensors", "application/octet-stream", "dl_weights",
                     "The trained weights, loadable with safetensors.torch.load; the config "
                     "and step ride in its header, so loading it here goes on from them."),
            Download("Config (JSON)", lambda: json.dumps(trainer.export()[2], indent=2),
                     "config.json", "application/json", "dl_cfg",
                     "The exact settings, seeds included."),
        ],
        title="Download, or load back",
        then=restore.loader,
    )  # fmt: skip
