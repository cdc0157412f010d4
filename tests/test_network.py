"""The network view: units, links, weights and states match the model and the probes, for a
hand-built network whose dead and saturated units are known."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import torch
from apptools import open_page

from playground import charts
from playground.config import RunConfig
from playground.network import (
    DEAD,
    DEAD_FROM_START,
    DIED,
    LIVE,
    MAX_UNITS,
    SATURATED,
    view,
)
from playground.train import Run

CFG = RunConfig(dataset="circle", activation="relu", depth=2, width=4, lr=0.01, probe_every=1)


@pytest.fixture()
def run() -> Run:
    """Unit 1 of layer 1 dead from step 0 (bias -100), then unit 3 of layer 2 killed at step 1."""
    r = Run(CFG)
    state = r.state_dict()
    state["linears.0.bias"][0] = -100.0
    r.resume(state, 0)
    with torch.no_grad():
        r.model.linears[1].weight[2] = 0.0
        r.model.linears[1].bias[2] = -1.0
    r.step(1, probe_at_end=True)
    return r


def test_states_and_times_of_death_match_the_hand_built_network(run):
    net = view(run)
    assert net.layers[0].state == [DEAD_FROM_START, LIVE, LIVE, LIVE]
    assert net.layers[1].state[2] == DIED
    assert net.layers[0].died_at.tolist()[0] == 0 and net.layers[1].died_at.tolist()[2] == 1
    assert (net.layers[1].died_at[[0, 1, 3]] == -1).all()
    assert net.step == 1 and net.inputs == ["X₁", "X₂"] and net.outputs == ["P(inner disc)"]


def test_each_units_tooltip_says_its_state_in_words_and_when_it_died(run):
    units, _, _ = charts.network.frames(view(run))
    hidden = units[units["col"].between(1, 2)].set_index(["col", "unit"])["status"]
    assert hidden[(1, 1)] == "dead from step 0" and hidden[(1, 2)] == "live"
    assert hidden[(2, 3)] == "died in training (dead since step 1)"
    tips = [t["field"] for t in _hit_layer(charts.network.network_chart(view(run)))["tooltip"]]
    assert "status" in tips and "died" not in tips  # a live unit's tooltip: no "null"


def test_the_chosen_unit_is_not_outlined_in_the_colour_of_death(run):
    hits = _hit_layer(charts.network.network_chart(view(run)))
    assert hits["stroke"]["value"] == charts.network.SELECTED != charts.base.WARNING


def _hit_layer(chart) -> dict:
    """The diagram's top layer's encoding: the one the pointer finds."""
    layers = chart.to_dict()["layer"]
    return next(v["encoding"] for v in layers if "strokeOpacity" in v.get("encoding", {}))


def test_links_are_the_models_weights_and_maps_its_units_outputs(run):
    net = view(run)
    units, links, _ = charts.network.frames(net)
    w = run.model.linears[0].weight.detach().numpy()
    first = links[(links["col"] == 0)].reset_index(drop=True)
    np.testing.assert_allclose(first["weight"], [w[j, i] for j in range(4) for i in range(2)])
    head = links[links["col"] == 2]["weight"].to_numpy()
    np.testing.assert_allclose(head, run.model.head.weight.detach().numpy()[0], rtol=1e-6)
    plane, maps = run.data.plane, net.layers[0].maps
    both = np.concatenate([plane.train, plane.test])
    lo, hi = both.min(0) - 0.5, both.max(0) + 0.5
    corner = torch.tensor([[lo[0], lo[1]], [hi[0], hi[1]]], dtype=torch.float32)
    by_hand = torch.relu(run.model.linears[0](corner)).detach().numpy()
    np.testing.assert_allclose(maps[:, 0, 0], by_hand[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(maps[:, -1, -1], by_hand[1], rtol=1e-5, atol=1e-6)
    assert (maps[0] == 0).all()  # the dead unit outputs 0 everywhere on the plane
    marks = units.set_index(["col", "unit"])["mark"]
    assert marks[(1, 1)] == "⊘" and marks[(2, 3)] == "✕" and marks[(1, 2)] == ""


def test_sigmoid_units_pinned_flat_are_saturated_or_dead_and_a_wide_layer_is_summarised():
    r = Run(RunConfig(dataset="xor", activation="sigmoid", depth=1, width=20, probe_every=1))
    with torch.no_grad():
        r.model.linears[0].weight[5:7] = 0.0
        r.model.linears[0].bias[5] = 8.0  # sigmoid'(8) = 3.4e-4 for every input: saturated
        r.model.linears[0].bias[6] = 20.0  # sigmoid(20) rounds to 1 in float32: slope exactly 0
    r.resume(r.state_dict(), 0)
    net = view(r)
    assert [i for i, s in enumerate(net.layers[0].state) if s == SATURATED] == [5]
    assert [i for i, s in enumerate(net.layers[0].state) if s in DEAD] == [6]
    units, _, notes = charts.network.frames(net)
    assert (units["col"] == 1).sum() == MAX_UNITS and net.layers[0].maps.shape[0] == MAX_UNITS
    assert "+8 more" in notes["text"].tolist()


def test_data_without_a_plane_gets_the_diagram_without_maps():
    r = Run(RunConfig(dataset="iris", depth=1, width=6))
    net = view(r)
    assert net.layers[0].maps is None and len(net.inputs) == 4 and len(net.outputs) == 3
    spec = charts.vega_spec(charts.network.network_chart(net))
    assert spec["title"] == "The network, unit by unit"


def test_the_playground_marks_the_units_its_probes_count_dead():
    link = {"dataset": "spiral", "activation": "relu", "depth": "4", "width": "8", "lr": "1.0",
            "init": "large", "probe_every": "1"}  # fmt: skip
    at = open_page(**link)
    for _ in range(3):
        at.button(key="step").click().run()
    (chart,) = [c for c in at.get("vega_lite_chart") if "The network, unit by unit" in c.proto.spec]
    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
    units = next(f for f in frames if "mark" in f.columns)
    marked = units[units["mark"].isin(["✕", "⊘"])].groupby("col").size()
    same = Run(RunConfig(**{k: type(getattr(RunConfig(), k))(v) for k, v in link.items()}))
    same.step(3, probe_at_end=True)  # the same run in this process: the probes' own count
    counted = same.latest.layers.dead
    assert counted.sum() > 0
    assert [int(marked.get(col, 0)) for col in range(1, 5)] == counted.astype(int).tolist()
    assert any(f"Dead now: {int(counted.sum())} of 32" in c.value for c in at.caption)


def test_a_chosen_units_histogram_counts_its_inputs_over_the_probe_set(run):
    net = view(run)
    edges, counts = net.layers[0].hist_pre[1]
    z = run.model.linears[0](run.x_probe)[:, 1].detach().numpy()
    assert counts.sum() == len(z) and edges[0] == pytest.approx(z.min(), abs=1e-6)
    assert edges[-1] == pytest.approx(z.max(), abs=1e-6)
    dead_edges, _ = net.layers[0].hist_pre[0]
    assert dead_edges[-1] < 0  # the unit dead from step 0 receives only negative sums


def test_upright_on_a_phone_the_layers_run_down_and_units_keep_their_size():
    r = Run(RunConfig(dataset="xor", activation="relu", depth=3, width=20))
    net = view(r)
    chart = charts.network.network_chart(net, upright=True)
    spec = chart.to_dict()
    hits = _hit_layer(chart)
    assert hits["x"]["field"] == "y" and hits["y"]["field"] == "col"  # units across, layers down
    units = spec["datasets"][spec["layer"][-1]["data"]["name"]]
    per_layer = pd.DataFrame(units).groupby("col").size()
    assert per_layer.max() == charts.network.UPRIGHT_UNITS  # 20 wide: 9 drawn, the rest summed
    assert chart.width <= 340  # a 390 px phone with its margins
    px_per_unit = chart.width / charts.network.UPRIGHT_UNITS
    assert px_per_unit >= 24 and charts.network.UNIT_PX >= 24  # a finger's target
    notes = pd.DataFrame(spec["datasets"][spec["layer"][5]["data"]["name"]])
    heads = notes[notes["text"].str.contains("·")]
    assert (heads["col"] % 1).round(2).eq(0.53).all()  # each heading just above its row
    assert spec["config"]["legend"]["orient"] == "bottom"
