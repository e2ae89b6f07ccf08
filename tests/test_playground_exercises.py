"""Every exercise, run for real: its starting files fail and say what really happened, its
solution passes, with inputs drawn afresh for each run; the verdict is recorded.

Real sandboxed runs through the API (tests/support/playground_stack.py); the checks themselves are
tested with hand-made summaries in tests/test_exercise_checks.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.classroom_people import Instructor, fetch, join
from tests.support.playground_stack import EXERCISE_ENV, Coder, coder_fixture, site_fixture
from tests.support.stack import poll
from web.your_turn.exercises import load

EXERCISES = {e.id: e for e in load(Path(__file__).parent.parent / "lessons" / "exercises")}
# What the starting files really do, as the verdict must say it.
STARTS_WRONG = {
    "01-add-on-worker": "its [tasks] list has no add",
    "02-greeting-from-config": "outside any Flask app context",
    "03-retry-with-backoff": "no retry happened",
    "04-keyword-arguments": "The view raised before any order task was sent",
    "05-return-before-task": "ran inside the view's own process",
    "06-circular-import": "import each other in a circle",
    "07-json-arguments": "JSON serializer refused an argument",
    "10-soft-time-limit": (
        "The task ran all 3 s: the threads pool does not enforce soft time limits"
    ),
}


site = site_fixture(**EXERCISE_ENV)
# Its slots are not LIMITS' (EXERCISE_ENV), where leftovers are looked for.
coder = coder_fixture(check_leftovers=False)


def run_exercise(coder: Coder, exercise_id: str, code: dict) -> dict:
    status, body = coder.learner.post("/api/playground/runs", {**code, "exercise": exercise_id})
    assert status == 202, body
    ended = coder.wait_ended(body["run_id"], 30)
    # The summary is saved just after the ended message is relayed.
    summary = poll(lambda: coder.summary(body["run_id"]).get("verdict"), 10, message="verdict")
    assert summary == ended["verdict"]
    return ended["verdict"]


def test_every_lesson_has_an_exercise():
    assert sorted({e.lesson for e in EXERCISES.values()}) == [*range(1, 8), 10]
    assert set(STARTS_WRONG) == set(EXERCISES)


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_the_starting_files_fail_and_the_solution_passes(coder, exercise_id):
    exercise = EXERCISES[exercise_id]
    wrong = run_exercise(coder, exercise_id, exercise.start())
    assert not wrong["passed"], wrong
    assert STARTS_WRONG[exercise_id] in wrong["message"], wrong
    right = run_exercise(coder, exercise_id, exercise.solution())
    assert right["passed"], right
    # Fresh inputs each run: a literal copied from one run's verdict cannot pass the next.
    assert right["inputs"] != wrong["inputs"]
    status, progress = coder.learner.get_json(f"/api/workspace/{exercise_id}")
    assert status == 200
    assert progress["exercise"]["progress"]["attempts"] == 2
    assert progress["exercise"]["progress"]["solved"] is True


def test_a_class_counts_who_solved_and_progress_says_the_solution_came_first(site, coder):
    teacher = Instructor(site.base_url, site.instructor_token)
    code = teacher.open_class()
    join(coder.learner, code, "ada")
    assert teacher.post(f"/api/classroom/{code}/lesson", {"lesson": "what-is-a-task"})[0] == 200

    def solved() -> dict:
        status, body = teacher.get(f"/classroom/{code}/exercises.json")
        assert status == 200
        return json.loads(body)

    assert solved()["exercises"] == [
        {"id": "01-add-on-worker", "title": "Let the worker add", "solved": 0}
    ]
    # A learner may not read the counts (instructor only).
    assert fetch(coder.learner, f"/classroom/{code}/exercises.json")[0] == 403
    status, solution = coder.learner.post("/api/exercises/01-add-on-worker/solution", {})
    assert status == 200
    assert run_exercise(coder, "01-add-on-worker", solution)["passed"]
    assert solved()["exercises"][0]["solved"] == 1 and solved()["members"] == 1
    status, page = fetch_text(coder, "/progress")
    assert 'data-solved="1"' in page and 'data-solution-first="1"' in page
    assert "solved after showing the solution" in page
    teacher.close()


def fetch_text(coder: Coder, path: str) -> tuple[int, str]:
    with coder.learner.opener.open(f"{coder.learner.base_url}{path}") as response:
        return response.status, response.read().decode()
