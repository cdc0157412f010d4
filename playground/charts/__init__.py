"""Altair chart builders: plain data in, a chart out. No Streamlit here.

One module per view (`curves`, `boundary` with its `heatmap` image, `layers`, `health`) on top
of `base`, which holds what they share: the palette, the cached skeletons that keep a spec
byte-identical between redraws, thinning, and `vega_spec`, the hand-off to a renderer. Pages
import this package and nothing below it: `from playground import charts; charts.loss_chart()`.
"""

from playground.charts import heatmap, network, results
from playground.charts.base import (
    BOUNDARY_SIZE,
    CALM,
    CLASS_0,
    CLASS_1,
    CLASS_PALETTE,
    DEPTH_COLORS,
    DIVERGING,
    HEIGHT,
    HIST_COLUMNS,
    HIST_HEIGHT,
    HIST_WIDTH,
    INK,
    LOG_FLOOR,
    MAX_STEPS,
    NEUTRAL,
    PLAIN,
    SPLITS,
    TEST,
    TRAIN,
    WARNING,
    WIDE,
    depth_colors,
    downsample,
    stacked,
    vega_spec,
)
from playground.charts.boundary import CONFIDENCE_OPACITY, boundary_chart
from playground.charts.compare import band_chart, variant_colors
from playground.charts.curves import loss_chart, metric_chart
from playground.charts.explorer import function_chart
from playground.charts.health import PARTS, layer_share_chart
from playground.charts.layers import HIST_KINDS, histogram_chart, layer_lines_chart

__all__ = [
    "BOUNDARY_SIZE",
    "CALM",
    "CLASS_0",
    "CLASS_1",
    "CLASS_PALETTE",
    "CONFIDENCE_OPACITY",
    "DEPTH_COLORS",
    "DIVERGING",
    "HEIGHT",
    "HIST_COLUMNS",
    "HIST_HEIGHT",
    "HIST_KINDS",
    "HIST_WIDTH",
    "INK",
    "LOG_FLOOR",
    "MAX_STEPS",
    "NEUTRAL",
    "PARTS",
    "PLAIN",
    "SPLITS",
    "TEST",
    "TRAIN",
    "WARNING",
    "WIDE",
    "band_chart",
    "boundary_chart",
    "depth_colors",
    "function_chart",
    "downsample",
    "heatmap",
    "histogram_chart",
    "stacked",
    "layer_lines_chart",
    "layer_share_chart",
    "loss_chart",
    "metric_chart",
    "network",
    "results",
    "variant_colors",
    "vega_spec",
]
