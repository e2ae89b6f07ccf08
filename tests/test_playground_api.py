"""The playground's API refuses bad input with a message a learner understands, and starts
nothing; where the sandbox cannot work it says why, and every other page keeps working."""

from __future__ import annotations

import pytest

from playground import store
from tests.support.learners import learner_of

TASKS = "from celery import shared_task\n"
BIG = "x" * (32 * 1024 + 1)


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ([], "bad_body", "JSON object"),
        ({"files": {"tasks.py": TASKS}, "view": "", "extra": 1}, "unknown_field", "'extra'"),
        ({"files": "tasks.py", "view": ""}, "invalid_files", "files must be an object"),
        ({"files": {}, "view": ""}, "invalid_files", "files must be an object"),
        ({"files": {"app.py": ""}, "view": ""}, "missing_tasks", "tasks.py"),
        ({"files": {"tasks.py": TASKS, "notes.txt": ""}, "view": ""}, "unknown_file", "notes"),
        ({"files": {"../tasks.py": TASKS}, "view": ""}, "bad_file_name", "is a path"),
        ({"files": {"app/tasks.py": TASKS}, "view": ""}, "bad_file_name", "is a path"),
        ({"files": {"C:\\tasks.py": TASKS}, "view": ""}, "bad_file_name", "is a path"),
        ({"files": {".tasks.py": TASKS}, "view": ""}, "bad_file_name", "is a path"),
        ({"files": {"tasks.py": 42}, "view": ""}, "invalid_field", "tasks.py must be text"),
        ({"files": {"tasks.py": TASKS}}, "missing_view", "view code"),
        ({"files": {"tasks.py": TASKS}, "view": ["x"]}, "invalid_field", "view code must be"),
        ({"files": {"tasks.py": "\ud800"}, "view": ""}, "not_utf8", "not valid UTF-8"),
        ({"files": {"tasks.py": BIG}, "view": ""}, "too_large", "32 KB"),
        ({"files": {"tasks.py": TASKS}, "view": "", "exercise": "../x"}, "invalid_exercise", ""),
        ({"files": {"tasks.py": TASKS}, "view": "", "exercise": 3}, "invalid_exercise", ""),
    ],
)
def test_bad_run_requests_are_refused_and_start_nothing(client, app, body, code, says):
    before = app.extensions["redis"].llen("playground")
    response = client.post("/api/playground/runs", json=body)
    assert response.status_code == 400, response.json
    assert response.json["error"] == code
    assert says in response.json["message"]
    assert app.extensions["redis"].llen("playground") == before
    assert app.extensions["redis"].get(store.current_key(learner_of(client))) is None


@pytest.mark.parametrize(
    "raw", [b"not json", b'{"files": {"tasks.py": "\xff"}, "view": ""}', b"\xfe\xff"]
)
def test_a_body_that_is_not_utf8_json_is_refused(client, raw):
    response = client.post(
        "/api/playground/runs", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json["error"] == "bad_json"


def test_a_body_past_the_site_limit_is_refused_in_json(client):
    response = client.post("/api/playground/runs", json={"files": {"tasks.py": "x" * 70_000}})
    assert response.status_code == 413
    assert response.json["error"] == "request_entity_too_large"


def test_a_foreign_origin_cannot_start_a_run(client):
    response = client.post(
        "/api/playground/runs",
        json={"files": {"tasks.py": TASKS}, "view": ""},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize("run_id", ["nope", "0" * 36, "..", "x" * 300])
def test_a_run_that_is_not_yours_is_not_found(client, app, run_id):
    response = client.get(f"/api/playground/runs/{run_id}")
    assert response.status_code == 404
    assert response.json == {"error": "unknown_run", "message": "You have no run with that id."}


def test_another_learners_run_is_not_yours(app, client):
    run_id = "12345678-1234-1234-1234-123456789abc"
    store.save(app.extensions["redis"], "someone-else", {"run_id": run_id, "state": "queued"})
    response = client.get(f"/api/playground/runs/{run_id}")
    assert response.status_code == 404
    assert response.json["error"] == "unknown_run"


def test_the_playground_says_what_it_allows(client):
    info = client.get("/api/playground").json
    assert info["available"] is True
    assert info["files"] == ["tasks.py", "celery_app.py", "app.py"]
    assert info["limits"]["wall_seconds"] == 30


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"CELERY_LAB_PLAYGROUND": "off"}, "turned off"),
        ({"CELERY_LAB_PLAYGROUND_LAUNCHER": "nowhere:Launcher"}, "cannot be loaded"),
        ({"PATH": "/nonexistent"}, "bubblewrap (bwrap) is not installed"),
    ],
)
def test_where_the_sandbox_cannot_work_the_api_says_why_and_pages_still_work(
    stack, monkeypatch, env, says
):
    from web import create_app

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = create_app({"TESTING": True})
    try:
        client = app.test_client()
        response = client.post("/api/playground/runs", json={"files": {"tasks.py": ""}})
        assert response.status_code == 503
        assert response.json["error"] == "playground_unavailable"
        assert says in response.json["message"]
        assert client.get("/api/playground").json["available"] is False
        assert client.get("/").status_code == 200
        assert client.get("/lessons/what-is-a-task").status_code == 200
    finally:
        app.extensions["hub"].stop()
