"""Draw your own data: a plane to click on, in the chosen colour (or value), erase and clear.

The plane is a small component of its own (`st.components.v2`), because a chart's selection
returns the data under the pointer, never the coordinates of a click on empty space. It draws
the points on a canvas and sends each click's plane coordinates back; the drawing lives in the
session's settings as the "drawn" dataset's table, so it trains, shows its decision map and
travels in the link like any other dataset (up to `drawing.MAX_LINK_POINTS` points).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from playground import drawing
from playground.charts import CLASS_0, CLASS_1, NEUTRAL, heatmap

PLANE_PX = 360
JS = """
export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  let canvas = parentElement.querySelector("canvas");
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.setAttribute("aria-label", "Drawing plane: click to add a point");
    canvas.style.cursor = "crosshair";
    canvas.style.border = "1px solid #d0d4d9";
    parentElement.appendChild(canvas);
  }
  const size = data.size, extent = data.extent;
  canvas.width = size; canvas.height = size;
  const ctx = canvas.getContext("2d");
  const px = (v) => ((v + extent) / (2 * extent)) * size;
  const py = (v) => ((extent - v) / (2 * extent)) * size;
  ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, size, size);
  ctx.strokeStyle = "#eef0f2"; ctx.lineWidth = 1;
  for (let t = -extent; t <= extent; t += 1) {
    ctx.beginPath(); ctx.moveTo(px(t), 0); ctx.lineTo(px(t), size); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(0, py(t)); ctx.lineTo(size, py(t)); ctx.stroke();
  }
  ctx.strokeStyle = "#b8bec6";
  ctx.beginPath(); ctx.moveTo(px(0), 0); ctx.lineTo(px(0), size); ctx.stroke();
  ctx.beginPath(); ctx.moveTo(0, py(0)); ctx.lineTo(size, py(0)); ctx.stroke();
  for (const [x, y, colour] of data.points) {
    ctx.beginPath(); ctx.arc(px(x), py(y), 5, 0, 2 * Math.PI);
    ctx.fillStyle = colour; ctx.fill();
    ctx.strokeStyle = "#ffffff"; ctx.lineWidth = 1.5; ctx.stroke();
  }
  canvas.onclick = (event) => {
    const box = canvas.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * 2 * extent - extent;
    const y = extent - ((event.clientY - box.top) / box.height) * 2 * extent;
    setTriggerValue("click", { x: x, y: y });
  };
}
"""
_plane = st.components.v2.component("playground_draw_plane", js=JS)

TASK, MODE, VALUE = "draw_task", "draw_mode", "draw_value"
MODES = {"binary": ("orange", "blue", "erase"), "regression": ("value", "erase")}


def panel(values: dict[str, Any]) -> None:
    """The drawing plane and its controls; a click changes the drawing and reruns the page."""
    drawn = drawing.from_upload(values.get("upload")) or ((), "binary")
    points, task = drawn
    st.subheader("Draw your data")
    left, right = st.columns([3, 2])
    with right:
        task = st.radio(
            "Task",
            ["binary", "regression"],
            index=0 if task == "binary" else 1,
            key=TASK,
            horizontal=True,
            format_func=lambda t: "two colours" if t == "binary" else "values (regression)",
        )
        mode = st.segmented_control("Click adds", MODES[task], default=MODES[task][0], key=MODE)
        value = 0.0
        if mode == "value":
            value = st.slider("Value", -1.0, 1.0, 0.5, 0.1, key=VALUE)
        st.caption(_counts(points, task))
        c1, c2 = st.columns(2)
        if c1.button("Clear", key="draw_clear", icon=":material/delete:"):
            _store(values, (), task)
        c2.download_button(
            "CSV",
            drawing.to_csv(points, task),
            "drawing.csv",
            "text/csv",
            key="draw_csv",
            icon=":material/download:",
            on_click="ignore",
            help="The drawing as a table, which the CSV upload reads back.",
        )
    with left:
        result = _plane(
            data={"points": _coloured(points, task), "size": PLANE_PX, "extent": drawing.EXTENT},
            key="draw_plane",
            on_click_change=lambda: None,
            height=PLANE_PX + 4,
        )
    click = getattr(result, "click", None)
    if task != drawn[1]:  # a task of its own: the points' labels mean something else
        _store(values, (), task)
    elif click:
        _clicked(values, points, task, mode or MODES[task][0], value, click)


def _clicked(
    values: dict[str, Any], points: drawing.Drawing, task: str, mode: str, value: float, at: dict
) -> None:
    x, y = float(at.get("x", 0.0)), float(at.get("y", 0.0))
    if mode == "erase":
        after = drawing.erase(points, x, y)
    else:
        label = {"orange": 0.0, "blue": 1.0}.get(mode, value)
        after = drawing.add(points, x, y, label)
    if after != points:
        _store(values, after, task)


def _store(values: dict[str, Any], points: drawing.Drawing, task: str) -> None:
    """The drawing as the session's dataset; the page reruns so the sidebar and the run see it."""
    values["upload"] = drawing.as_upload(points, task)
    values["dataset"] = "drawn"
    st.rerun()


def _coloured(points: drawing.Drawing, task: str) -> list[list[Any]]:
    if task == "binary":
        return [[x, y, CLASS_1 if c >= 0.5 else CLASS_0] for x, y, c in points]
    return [[x, y, _value_colour(c)] for x, y, c in points]


def _value_colour(v: float) -> str:
    """A value in [-1, 1] on the map's orange-white-blue scale (in sRGB: enough for a dot)."""
    start, end = heatmap.hex_rgb(NEUTRAL), heatmap.hex_rgb(CLASS_1 if v >= 0 else CLASS_0)
    rgb = start + (end - start) * min(1.0, abs(v))
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


def _counts(points: drawing.Drawing, task: str) -> str:
    n = len(points)
    if task == "binary":
        blue = sum(c >= 0.5 for *_, c in points)
        text = f"{n} points: {n - blue} orange, {blue} blue."
    else:
        text = f"{n} points."
    problems = drawing.problems(points, task)
    return text + (" To train: " + "; ".join(problems) + "." if problems else " Ready to train.")
