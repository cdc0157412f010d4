"""One chart of the Playground, redrawn live on its own: the page `chart_cost.py` measures.

`chart_cost.py` serves this file with `streamlit run` and opens `/?chart=NAME`. The reference
network trains, and a fragment redraws the metric tiles (whose Step counter the benchmark
reads) plus the one chart named, at the Playground's refresh rate. "tiles only" is the
baseline every other chart's cost is measured against.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st  # noqa: E402

from bench._app import REFERENCE_QUERY  # noqa: E402
from playground import charts  # noqa: E402
from playground.config import from_query  # noqa: E402
from playground.runner import Snapshot  # noqa: E402
from ui import panels, session  # noqa: E402

REFRESH_S = 0.5


def _map(s: Snapshot) -> panels.Show:
    chart = charts.boundary_chart(s.boundary, s.info.points, s.task, s.info.class_names)
    return _chart(panels.spec(chart, "boundary", renderer="svg", width="content"))


def _lines(column: str) -> Callable[[Snapshot], panels.Show]:
    def build(s: Snapshot) -> panels.Show:
        chart = charts.layer_lines_chart(s.layers, column, column, percent=True)
        return _chart(panels.spec(chart, column, height=280))

    return build


def _share(s: Snapshot) -> panels.Show:
    now = s.latest.layers.saturated_fraction
    chart = charts.layer_share_chart(now, s.cfg.dead_threshold, "now", s.info.layer_labels)
    return _chart(panels.spec(chart, "share"))


def _chart(spec: panels.Spec) -> panels.Show:
    return lambda: spec.show(st)


PIECES: dict[str, Callable[[Snapshot], panels.Show]] = {
    "tiles only": lambda s: lambda: None,
    "decision map": _map,
    "loss curve": lambda s: _chart(
        panels.spec(charts.loss_chart(s.probes, s.cfg.log_loss), "loss", height=280)
    ),
    "accuracy curve": lambda s: _chart(
        panels.spec(charts.metric_chart(s.probes, s.task), "metric", height=280)
    ),
    "curves (stacked)": lambda s: _chart(panels.curves_spec(s, height=140)),
    "histograms": panels.histograms,
    "saturation per layer": _lines("saturated_fraction"),
    "saturation now (bars)": _share,
    "gradient norms": panels.gradients,
}


def main() -> None:
    name = st.query_params.get("chart", "tiles only")
    cfg, _ = from_query(dict(parse_qsl(REFERENCE_QUERY)))
    trainer = session.sync(cfg)
    if not trainer.playing:
        trainer.play()

    @st.fragment(run_every=REFRESH_S)
    def tick() -> None:
        snap = trainer.snapshot()
        for show in (panels.metrics(snap), PIECES[name](snap)):  # computed, then sent at once
            show()

    tick()


if __name__ == "__main__":  # streamlit runs it as __main__; chart_cost.py imports PIECES
    main()
