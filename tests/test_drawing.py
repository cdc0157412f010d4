"""Drawn data: clicks add and erase points, a drawing trains on the plane, and it travels in
a link up to its limit (with a notice beyond it, and for points a link got wrong)."""

import numpy as np
import pytest
from apptools import open_page, tile

from playground import drawing
from playground.config import RunConfig, from_query, to_query
from playground.data import make_dataset
from playground.upload import prepare, read_table


def _xor(n: int = 40, seed: int = 0) -> drawing.Drawing:
    rng = np.random.default_rng(seed)
    out: drawing.Drawing = ()
    for x, y in rng.uniform(-5, 5, (n, 2)):
        out = drawing.add(out, x, y, float(x * y > 0))
    return out


def test_clicks_add_clipped_points_and_erase_the_nearest_within_reach():
    d = drawing.add((), 1.234, 9.0, 1)
    assert d == ((1.23, 6.0, 1.0),)  # rounded, and clipped to the plane
    d = drawing.add(d, -2, -2, 0)
    assert drawing.erase(d, -1.8, -2.1) == ((1.23, 6.0, 1.0),)
    assert drawing.erase(d, 0, 0) == d  # nothing within reach: nothing erased
    assert drawing.add(d, float("nan"), 0, 1) == d


def test_a_drawing_needs_enough_points_of_both_colours():
    assert drawing.problems(_xor(5), "binary") == ["draw at least 10 points (there are 5)"]
    one_colour = tuple((x, y, 0.0) for x, y, _ in _xor(12))
    assert "both colours" in drawing.problems(one_colour, "binary")[0]
    assert drawing.problems(one_colour, "regression") == []
    problems = RunConfig(dataset="drawn").problems()
    assert problems == [("dataset", "your drawing: draw at least 10 points (there are 0)")]


def test_a_drawing_trains_on_its_plane_with_the_points_as_drawn():
    d = _xor(60)
    cfg = RunConfig(dataset="drawn", upload=drawing.as_upload(d, "binary"), features="x1,x2,x1_x2")
    data = make_dataset(cfg.data_config())
    assert len(data.y_train) + len(data.y_test) == 60 and data.n_features == 3
    raw = data.plane.train * data.plane.scale + data.plane.centre
    assert {tuple(np.round(p, 2)) for p in raw} <= {(x, y) for x, y, _ in d}
    assert data.class_names == ["orange", "blue"]


def test_a_drawing_round_trips_its_link_and_its_csv():
    d = _xor(30)
    text = drawing.encode(d, "binary")
    assert drawing.decode(text) == (d, "binary", [])
    values = tuple((x, y, round(v, 1)) for (x, y, _), v in zip(d, np.linspace(-1, 1, 30)))
    assert drawing.decode(drawing.encode(values, "regression"))[:2] == (values, "regression")
    assert drawing.encode(_xor(drawing.MAX_LINK_POINTS + 1), "binary") is None
    up = prepare(read_table(drawing.to_csv(d, "binary").encode()), "label")
    np.testing.assert_allclose(up.x, [(x, y) for x, y, _ in d])
    assert up.y.tolist() == [int(c) for *_, c in d]


def test_points_a_link_got_wrong_are_left_out_with_a_notice():
    points, task, notices = drawing.decode("b1,2,1;9,9,1;x,y,z;3,3,0.5;-1,-1,0")
    assert points == ((1.0, 2.0, 1.0), (-1.0, -1.0, 0.0)) and task == "binary"
    assert notices == ["points: 3 point(s) could not be read and were left out."]
    assert drawing.decode("zzz")[2][0].startswith("points: 'zzz' is not a drawing")


def test_the_page_opens_a_drawing_from_its_link_and_writes_it_back():
    d = _xor(24, seed=2)
    query = {**to_query(RunConfig(dataset="drawn")), "points": drawing.encode(d, "binary")}
    at = open_page(**query)
    assert not at.exception and not at.warning and not at.error
    assert any("24 points:" in c.value and "Ready to train." in c.value for c in at.caption)
    at.button(key="step").click().run()
    assert tile(at, "Step") == "1"
    written = at.query_params["points"]
    assert (written[0] if isinstance(written, list) else written) == drawing.encode(d, "binary")


def test_a_link_with_an_empty_drawing_opens_the_plane_and_says_what_it_needs(fresh_session):
    cfg, notices = from_query({"dataset": "drawn"})
    assert cfg.dataset == "drawn" and notices == []
    at = open_page(dataset="drawn", points="b1,1,1;2,2,0")
    assert not at.exception
    assert "Draw your data" in [h.value for h in at.subheader]
    assert not at.error  # a drawing on its way is not an error
    assert any("draw at least 10 points" in c.value and "are 2" in c.value for c in at.caption)
    play = at.button(key="play_waiting")
    assert play.disabled and "draw at least 10 points" in play.help


@pytest.mark.parametrize("n", [drawing.MAX_LINK_POINTS + 5])
def test_a_drawing_too_large_for_a_link_is_said_where_the_link_is_shown(n):
    at = open_page()
    at.selectbox(key="cfg_dataset").set_value("drawn").run()
    values = at.session_state["settings"]
    values["upload"] = drawing.as_upload(_xor(n), "binary")
    at.run()
    assert not at.exception and "points" not in at.query_params
    assert any("too many points for a link" in w.value for w in at.warning)
