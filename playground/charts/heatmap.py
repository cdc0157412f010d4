"""The decision map as one picture: the grid's colours computed here and sent as a PNG.

Drawing 1,600 rectangles at every refresh was the browser's largest single job; one image mark
costs it almost nothing. The colours must be exactly those of the chart's own legend, so the
Vega scales are reproduced: diverging scales interpolate in CIELAB as d3's `interpolateLab`
does (D50 white, the same matrices), multi-class cells are the class colour at an opacity set
by the confidence, laid over the chart's white background. The same colour maths gives the
layer charts their depth ramp (`lab_ramp`).
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

_XN, _YN, _ZN = 0.96422, 1.0, 0.82521  # d3-color's D50 reference white
_T0, _T1 = 4 / 29, 6 / 29
_T2, _T3 = 3 * _T1 * _T1, _T1**3
_TO_XYZ = np.array(
    [
        [0.4360747, 0.3850649, 0.1430804],
        [0.2225045, 0.7168786, 0.0606169],
        [0.0139322, 0.0971045, 0.7141733],
    ]
)
_TO_RGB = np.array(
    [
        [3.1338561, -1.6168667, -0.4906146],
        [-0.9787684, 1.9161415, 0.0334540],
        [0.0719453, -0.2289914, 1.4052427],
    ]
)
UPSCALE = 8  # each grid cell becomes 8x8 pixels: crisp cell edges however the browser scales


def hex_rgb(color: str) -> np.ndarray:
    """'#f59322' -> [245, 147, 34] as floats."""
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB 0-255 -> CIELAB, as d3-color computes it."""
    c = rgb / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _TO_XYZ.T / np.array([_XN, _YN, _ZN])
    f = np.where(xyz > _T3, np.cbrt(xyz), xyz / _T2 + _T0)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1
    )


def _rgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB -> sRGB 0-255, as d3-color computes it (unclamped)."""
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], -1)
    xyz = np.where(f > _T1, f**3, _T2 * (f - _T0)) * np.array([_XN, _YN, _ZN])
    linear = xyz @ _TO_RGB.T
    return 255 * np.where(
        linear <= 0.0031308, 12.92 * linear, 1.055 * np.abs(linear) ** (1 / 2.4) - 0.055
    )


def diverging(values: np.ndarray, lo: float, hi: float, colors: list[str]) -> np.ndarray:
    """Vega's diverging scale (domain lo, mid, hi; three colours; interpolate 'lab'; clamped)
    as 0-255 RGB per value; non-finite values get the middle colour."""
    mid = (lo + hi) / 2
    v = np.where(np.isfinite(values), values, mid).clip(lo, hi)
    labs = _lab(np.stack([hex_rgb(c) for c in colors]))
    upper = v > mid
    t = np.where(upper, (v - mid) / (hi - mid), (v - lo) / (mid - lo))[..., None]
    start = np.where(upper[..., None], labs[1], labs[0])
    end = np.where(upper[..., None], labs[2], labs[1])
    return _rgb(start + t * (end - start))


def lab_ramp(colors: list[str], n: int) -> list[str]:
    """`n` hex colours at even steps along the path through `colors`, interpolated in CIELAB
    (a straight path in Lab stays as even to the eye as the colours it joins)."""
    labs = _lab(np.stack([hex_rgb(c) for c in colors]))
    t = np.linspace(0, len(labs) - 1, n)
    i = np.minimum(t.astype(np.int64), len(labs) - 2)
    f = (t - i)[:, None]
    rgb = np.rint(_rgb(labs[i] + f * (labs[i + 1] - labs[i]))).clip(0, 255).astype(np.int64)
    return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rgb]


def by_class(
    classes: np.ndarray, confidence: np.ndarray, palette: list[str], opacity: tuple[float, float]
) -> np.ndarray:
    """Each cell in its class's colour at an opacity rising linearly with the confidence from
    chance level (1/k) to certainty, clamped to `opacity`, over white."""
    k = len(palette)
    colors = np.stack([hex_rgb(c) for c in palette])[np.asarray(classes, dtype=np.int64) % k]
    conf = np.where(np.isfinite(confidence), confidence, 1 / k)
    alpha = opacity[0] + (conf - 1 / k) / (1 - 1 / k) * (opacity[1] - opacity[0])
    alpha = alpha.clip(opacity[0], opacity[1])[..., None]
    return colors * alpha + 255 * (1 - alpha)


def png_url(rgb: np.ndarray) -> str:
    """A [rows, columns, 3] grid (row 0 at the bottom of the plane) as a PNG data URL."""
    pixels = np.rint(rgb[::-1]).clip(0, 255).astype(np.uint8)  # images start at the top
    image = Image.fromarray(pixels, "RGB")
    image = image.resize((image.width * UPSCALE, image.height * UPSCALE), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # speed over bytes: flat colours compress
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
