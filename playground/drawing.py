"""Data a person draws on the plane: points added by clicks, erased, cleared, saved and shared.

A drawing is a plain tuple of (x1, x2, label) points on the TensorFlow Playground's plane,
-6 to 6 on both axes; the label is a class (0 or 1) or, for regression, a value in [-1, 1].
It becomes a dataset like an upload (`as_upload`): the "drawn" dataset of `playground.data`,
which has a plane, so the decision map, the input features and the network view all apply.
A link carries a drawing of up to MAX_LINK_POINTS points (`encode`/`decode`); beyond that
the page says the link cannot, and the drawing downloads as CSV.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from playground.upload import Upload

NAME = "drawn"
EXTENT = 6.0  # the plane is [-EXTENT, EXTENT] on both axes
ERASE_RADIUS = 0.6  # a click this near a point erases it
MIN_POINTS = 10
MAX_POINTS = 2000
MAX_LINK_POINTS = 300  # a link of about 4 KB: safe in every browser and chat client
CLASS_NAMES = ["orange", "blue"]  # the TensorFlow Playground's colours, class 0 and 1

Point = tuple[float, float, float]
Drawing = tuple[Point, ...]


def add(drawing: Drawing, x: float, y: float, label: float) -> Drawing:
    """The drawing with a point at (x, y), clipped to the plane; full drawings stay as they are."""
    if len(drawing) >= MAX_POINTS or not (math.isfinite(x) and math.isfinite(y)):
        return drawing
    return (*drawing, (_clip(x), _clip(y), float(label)))


def _clip(v: float) -> float:
    return round(min(EXTENT, max(-EXTENT, float(v))), 2)


def erase(drawing: Drawing, x: float, y: float, radius: float = ERASE_RADIUS) -> Drawing:
    """The drawing without its point nearest to (x, y), if one lies within `radius`."""
    if not drawing:
        return drawing
    d = [math.hypot(px - x, py - y) for px, py, _ in drawing]
    nearest = int(np.argmin(d))
    return drawing if d[nearest] > radius else drawing[:nearest] + drawing[nearest + 1 :]


def problems(drawing: Drawing, task: str) -> list[str]:
    """Why this drawing cannot train yet, in words; empty when it can."""
    out = []
    if len(drawing) < MIN_POINTS:
        out.append(f"draw at least {MIN_POINTS} points (there are {len(drawing)})")
    if task == "binary" and len({int(c) for *_, c in drawing}) < 2:
        out.append("draw points of both colours: there is nothing to tell apart yet")
    return out


def as_upload(drawing: Drawing, task: str) -> Upload:
    """The drawing as the table behind the "drawn" dataset (check `problems` first)."""
    x = np.array([(px, py) for px, py, _ in drawing], np.float64).reshape(-1, 2)
    labels = np.array([c for *_, c in drawing], np.float64)
    y = labels.astype(np.int64) if task == "binary" else labels
    digest = hashlib.sha256(f"{task}:{drawing!r}".encode()).hexdigest()[:16]
    names = CLASS_NAMES if task == "binary" else []
    return Upload(NAME, digest, "label", task, x, y, ["x1", "x2"], names)


def from_upload(upload: Upload | None) -> tuple[Drawing, str] | None:
    """The drawing and its task back from its table, or None when the table is not a drawing."""
    if upload is None or upload.name != NAME:
        return None
    points = tuple((float(a), float(b), float(c)) for (a, b), c in zip(upload.x, upload.y))
    return points, upload.task


def to_csv(drawing: Drawing, task: str) -> str:
    """The drawing as a CSV that the upload control reads back (x1, x2, label)."""
    rows = [f"{x:g},{y:g},{int(c) if task == 'binary' else f'{c:g}'}" for x, y, c in drawing]
    return "\n".join(["x1,x2,label", *rows]) + "\n"


def encode(drawing: Drawing, task: str) -> str | None:
    """The drawing as link text ("b" or "r", then x,y,label;...), or None when too large."""
    if len(drawing) > MAX_LINK_POINTS:
        return None
    body = ";".join(f"{x:g},{y:g},{c:g}" for x, y, c in drawing)
    return ("b" if task == "binary" else "r") + body


def decode(text: str) -> tuple[Drawing, str, list[str]]:
    """A drawing from link text, the points that make sense kept, with notices for the rest."""
    text = text.strip()
    task = {"b": "binary", "r": "regression"}.get(text[:1])
    if task is None:
        return (), "binary", [f"points: {text[:20]!r} is not a drawing; nothing was drawn."]
    kept: list[Point] = []
    bad = 0
    for part in text[1:].split(";")[: MAX_LINK_POINTS + 1]:
        point = _point(part, task)
        if point is None:
            bad += 1
        else:
            kept.append(point)
    notices = [f"points: {bad} point(s) could not be read and were left out."] if bad else []
    if len(kept) > MAX_LINK_POINTS:
        notices.append(
            f"points: a link carries at most {MAX_LINK_POINTS} points; the rest were left out."
        )
        kept = kept[:MAX_LINK_POINTS]
    return tuple(kept), task, notices


def _point(part: str, task: str) -> Point | None:
    try:
        x, y, c = (float(v) for v in part.split(","))
    except ValueError:
        return None
    inside = all(math.isfinite(v) and abs(v) <= EXTENT for v in (x, y))
    label_ok = c in (0.0, 1.0) if task == "binary" else math.isfinite(c) and abs(c) <= 1
    return (x, y, c) if inside and label_ok else None
