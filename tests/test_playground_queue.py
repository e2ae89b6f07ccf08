"""At most N runs at once (N = 2 here), the rest queued with their position; Run again stops
the learner's previous run, queued or running; one run at a time per learner."""

from __future__ import annotations

import json

import pytest

from tests.support.classroom_people import Instructor, join
from tests.support.learners import Session
from tests.support.playground_stack import Coder, no_run_left, site_fixture
from tests.support.stack import poll

SLEEP = "import time\ntime.sleep(3)\nprint('slept')\n"


site = site_fixture(CELERY_LAB_PLAYGROUND_WALL_SECONDS=10)


@pytest.fixture
def coders(site):
    made = []

    def make() -> Coder:
        made.append(Coder(site.base_url))
        return made[-1]

    yield make
    for who in made:
        who.close()
    no_run_left()


def state_of(who: Coder, run_id: str) -> str:
    return who.summary(run_id)["state"]


def test_runs_past_the_cap_wait_in_the_queue_and_run_again_stops_the_previous(coders):
    a, b, c, d = coders(), coders(), coders(), coders()
    first_a, first_b = a.press_run(SLEEP), b.press_run(SLEEP)
    for who, run_id in ((a, first_a), (b, first_b)):
        poll(lambda w=who, r=run_id: state_of(w, r) == "running", 20, message="runs up")

    # Both slots are busy: the next runs queue, each told its place, live and on GET.
    status, queued_c = c.learner.post(
        "/api/playground/runs", {"files": {"tasks.py": ""}, "view": SLEEP}
    )
    assert status == 202 and queued_c["position"] == 1
    run_c = queued_c["run_id"]
    first_d = d.press_run(SLEEP)
    assert d.summary(first_d)["position"] == 2
    live = d.session.until(lambda m: m.get("type") == "run" and m.get("position") == 2)
    assert live[-1] == {**live[-1], "run_id": first_d, "kind": "state", "state": "queued"}

    # Run again while queued: the queued run is stopped at once and never starts.
    second_d = d.press_run(SLEEP)
    dropped = d.summary(first_d)
    assert (dropped["state"], dropped["reason"]) == ("stopped", "replaced")
    assert d.summary(second_d)["position"] == 2  # the dropped run no longer counts

    # Run again while running: the running run stops promptly (its view sleeps 3 s).
    second_a = a.press_run("print('again')\n")
    ended = a.wait_ended(first_a, timeout=5)
    assert (ended["state"], ended["reason"]) == ("stopped", "replaced")
    assert "pressed Run again" in ended["message"]

    # A freed slot goes to the next in line, who is told it is starting.
    c.session.until(
        lambda m: (
            m.get("run_id") == run_c
            and m.get("kind") == "state"
            and m["state"] in ("starting", "running")
        ),
        timeout=20,
    )
    runs = [(a, second_a), (b, first_b), (c, run_c), (d, second_d)]
    for who, run_id in runs:
        who.wait_ended(run_id, timeout=40)
    summaries = [who.summary(run_id) for who, run_id in runs]
    assert [s["state"] for s in summaries] == ["finished"] * 4
    assert d.summary(first_d)["started_at"] is None

    # Never more than two sandboxes at once: the runs' lifetimes overlap at most pairwise.
    spans = [(s["started_at"], s["ended_at"]) for s in summaries]
    spans.append((a.summary(first_a)["started_at"], a.summary(first_a)["ended_at"]))
    for start, _ in spans:
        assert sum(1 for s, e in spans if s <= start < e) <= 2


def test_the_wall_clock_stops_a_run_that_never_ends(coders):
    summary = coders().finished("import time\ntime.sleep(60)\n")
    assert (summary["state"], summary["reason"]) == ("stopped", "wall_clock")
    assert "longer than 10 s" in summary["message"]


def test_a_class_projector_counts_runs_and_never_sees_their_code(site, coders):
    instructor = Instructor(site.base_url, site.instructor_token)
    code = instructor.open_class()
    projector = Session(instructor.projector(code))
    pupil = coders()
    join(pupil.learner, code, "ada")
    secret = "print('my secret solution 0451')\n"
    pupil.wait_ended(pupil.press_run(secret))

    def counted(m: dict) -> bool:
        counters = m.get("counters") or {}
        return counters.get("runs_started") == 1 and counters.get("runs_finished") == 1

    seen = projector.until(counted, timeout=20)
    assert all("0451" not in json.dumps(m) for m in seen)
    instructor.close()
