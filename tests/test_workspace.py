"""The "Your turn" endpoints keep a learner's edits, give hints and solutions, and refuse bad
input with a clear message while changing nothing."""

from __future__ import annotations

import pytest

from tests.support.learners import learner_of
from web import keys

TASKS = "from celery import shared_task\n"
GOOD = {"files": {"tasks.py": TASKS}, "view": "print(1)\n"}
BIG = "x" * (32 * 1024 + 1)  # over the playground's 32 KB a file, under the body cap


def test_edits_are_kept_per_learner_and_reset_forgets_them(client, app):
    start = client.get("/api/workspace/01-add-on-worker").json
    assert start["saved"] is None
    assert start["exercise"]["goal"].startswith("Make `add` a Celery task")
    assert "def add" in start["start"]["files"]["tasks.py"]
    assert client.post("/api/workspace/01-add-on-worker", json=GOOD).status_code == 200
    saved = client.get("/api/workspace/01-add-on-worker").json["saved"]
    assert saved["files"] == GOOD["files"] and saved["view"] == GOOD["view"]
    other = app.test_client()
    assert other.get("/api/workspace/01-add-on-worker").json["saved"] is None
    assert client.post("/api/workspace/01-add-on-worker/reset").json["reset"] is True
    assert client.get("/api/workspace/01-add-on-worker").json["saved"] is None


def test_the_free_playground_has_a_workspace_of_its_own(client):
    body = client.get("/api/workspace/playground").json
    assert "exercise" not in body and "@shared_task" in body["start"]["files"]["tasks.py"]
    assert client.post("/api/workspace/playground", json=GOOD).status_code == 200
    assert client.get("/api/workspace/01-add-on-worker").json["saved"] is None
    page = client.get("/playground")
    assert page.status_code == 200 and b'data-scope="playground"' in page.data


def test_hint_and_solution_are_recorded_as_shown(client, app):
    assert "add.delay" in client.post("/api/exercises/01-add-on-worker/hint").json["hint"]
    learner = learner_of(client)
    solution = client.post("/api/exercises/01-add-on-worker/solution").json
    assert "@shared_task" in solution["files"]["tasks.py"]
    shown = app.extensions["redis"].hgetall(keys.learner_exercises(learner))
    assert {"01-add-on-worker:hint", "01-add-on-worker:solution"} <= set(shown)
    progress = client.get("/api/workspace/01-add-on-worker").json["exercise"]["progress"]
    assert progress == {
        "attempts": 0,
        "solved": False,
        "hint_shown": True,
        "solution_shown": True,
        "solution_first": False,
    }


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ("not json", "bad_json", "not UTF-8 JSON"),
        ([], "bad_body", "JSON object"),
        ({**GOOD, "exercise": "01-add-on-worker"}, "bad_body", "JSON object"),
        ({"files": {"tasks.py": TASKS}}, "missing_view", "view code"),
        ({"files": {"../tasks.py": TASKS}, "view": ""}, "bad_file_name", "is a path"),
        ({"files": {"tasks.py": TASKS, "app.py": ""}, "view": ""}, "unknown_file", "no app.py"),
        ({"files": {"tasks.py": 7}, "view": ""}, "invalid_field", "must be text"),
        ({"files": {"tasks.py": "\ud800"}, "view": ""}, "not_utf8", "UTF-8"),
        ({"files": {"tasks.py": BIG}, "view": ""}, "too_large", "KB"),
    ],
)
def test_bad_edits_are_refused_and_keep_nothing(client, body, code, says):
    if isinstance(body, str):
        response = client.post(
            "/api/workspace/01-add-on-worker", data=body, content_type="application/json"
        )
    else:
        response = client.post("/api/workspace/01-add-on-worker", json=body)
    assert response.status_code == 400, response.json
    assert response.json["error"] == code and says in response.json["message"]
    assert client.get("/api/workspace/01-add-on-worker").json["saved"] is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/workspace/no-such-exercise"),
        ("post", "/api/workspace/no-such-exercise"),
        ("post", "/api/workspace/no-such-exercise/reset"),
        ("get", "/api/workspace/" + "a" * 300),
        ("post", "/api/exercises/no-such-exercise/hint"),
        ("post", "/api/exercises/no-such-exercise/solution"),
        ("post", "/api/exercises/playground/solution"),
    ],
)
def test_an_unknown_exercise_is_a_clear_404(client, method, path):
    response = getattr(client, method)(path, json=GOOD if method == "post" else None)
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_a_run_for_an_unknown_exercise_starts_nothing(client, app):
    before = app.extensions["redis"].llen("playground")
    response = client.post("/api/playground/runs", json={**GOOD, "exercise": "99-nothing"})
    assert response.status_code == 400
    assert response.json["error"] == "unknown_exercise"
    assert app.extensions["redis"].llen("playground") == before


def test_edits_from_another_site_are_refused(client):
    response = client.post(
        "/api/workspace/01-add-on-worker", json=GOOD, headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403
    assert client.get("/api/workspace/01-add-on-worker").json["saved"] is None


@pytest.mark.parametrize("code", ["NOPE99", "no%20such", "a" * 200])
def test_class_counts_of_an_unknown_class_are_a_404(client, app, code):
    app.config["INSTRUCTOR_TOKEN"] = "a-token-for-this-test-only"
    signed_in = client.get("/classroom/instructor?token=a-token-for-this-test-only")
    assert signed_in.status_code == 303
    response = client.get(f"/classroom/{code}/exercises.json")
    assert response.status_code == 404
    assert response.json["error"] == "no_class"


def test_class_counts_are_for_the_instructor_only(client):
    assert client.get("/classroom/ABCDEF/exercises.json").status_code == 403
