"""Small samples of the browser benchmarks that take too long for the suite in full.

Each runs the benchmark's own code on a short schedule, so a benchmark that no longer works
with the app (a renamed button, a changed message) fails here rather than on its next run.
"""

from __future__ import annotations

import pytest

from bench import classroom, soak

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("spawn")]  # servers, browsers


def test_soak_sample_visits_train_reset_reload_and_close_without_tracebacks():
    result = soak.run(minutes=0.35, max_open=2, ttl_s=3, visit_s=12, settle_s=4)
    t = result.tally
    assert t.opened >= 2 and t.loads > t.opened  # the second tab loaded a second setup
    assert t.trained == t.loads  # every page load's counter moved, through Reset and Play
    assert t.errors == []
    assert len(t.datasets) >= 3 and len(t.activations) >= 3
    assert result.peak > result.baseline > 0  # the peak counts the visits; the baseline not
    assert soak.report(result, 0.35)[-1] == f"soak_rss_growth_mb: {result.growth:.0f}"


def test_classroom_sample_queues_past_the_cap_and_the_queue_moves_up():
    room = classroom.run_room("thread", students=3, cap=2)
    first, second, third = room.students
    assert [s.first_move_s is not None for s in room.students] == [True, True, False]
    assert third.queue_note is not None and "you are next" in third.queue_note
    assert room.queued_steps == [0] and min(room.playing_steps) > 0
    assert room.queue_start_s is not None and room.queue_start_was_head
    assert first.closed and second.pause_s is not None and third.pause_s is not None
    assert max(room.pauses) < 5.0  # Pause took hold; its latency is the benchmark's to judge
