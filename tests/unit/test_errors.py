"""One error type, one JSON-body reader, one handler: JSON for programs, a page for people."""

from __future__ import annotations

import json

import pytest
from flask import Flask, abort
from redis.exceptions import ConnectionError as RedisConnectionError

from web import errors
from web.errors import LabError, read_json


def add_routes(app):
    @app.post("/api/echo")
    def echo():
        return {"got": read_json(example='{"a": 1}')}

    @app.post("/api/optional")
    def optional():
        return {"got": read_json(object, empty={})}

    @app.route("/api/refuse")
    @app.route("/page/refuse")
    def refuse():
        raise LabError("The lab is busy right now.", "busy", 503, retry_after=7, field="x")

    @app.route("/api/redis")
    @app.route("/page/redis")
    def redis_down():
        raise RedisConnectionError("Connection refused")

    @app.route("/api/forbidden")
    @app.route("/page/forbidden")
    def forbidden():
        abort(403, description="Requests from another site are refused.")

    @app.route("/api/deep")
    def deep():
        raise RecursionError("maximum recursion depth exceeded")

    return app


@pytest.fixture
def client():
    """A bare Flask app with only the handler: what programs get (JSON), in milliseconds."""
    app = Flask(__name__)
    errors.init_app(app)
    return add_routes(app).test_client()


@pytest.fixture
def site(monkeypatch):
    """The site's own app (its templates), asked only with GETs: no Redis is ever needed."""
    from web import create_app

    # A port nothing listens on: the handler must never need Redis to answer.
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    app = create_app({"TESTING": True, "SECRET_KEY": "unit", "INSTRUCTOR_TOKEN": "unit"})
    yield add_routes(app).test_client()
    app.extensions["hub"].stop()


def nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        pytest.param(b"a=1", "bad_json", "not valid JSON", id="form-encoded"),
        pytest.param(b"", "bad_json", "not valid JSON", id="empty"),
        pytest.param(b'{"a": "\xff"}', "bad_json", "not UTF-8 JSON", id="not-utf-8"),
        pytest.param(nested(100_000), "bad_json", "nested too deeply", id="too-deep"),
        pytest.param(b"[1, 2]", "bad_body", 'Send a JSON object, like {"a": 1}.', id="array"),
        pytest.param(b"null", "bad_body", "Send a JSON object", id="null"),
    ],
)
def test_the_reader_refuses_a_bad_body_with_one_shape(client, body, code, says):
    response = client.post("/api/echo", data=body)
    assert response.status_code == 400
    assert response.json["error"] == code and says in response.json["message"]
    assert set(response.json) == {"error", "message"}


def test_the_reader_takes_json_whatever_the_content_type_and_empty_when_allowed(client):
    assert client.post("/api/echo", data=b'{"a": 1}').json == {"got": {"a": 1}}
    assert client.post("/api/optional", data=b"").json == {"got": {}}
    assert client.post("/api/optional", data=b"[1]").json == {"got": [1]}


def test_a_lab_error_for_a_program_is_json_with_retry_after(client):
    response = client.get("/api/refuse")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    assert response.json == {
        "error": "busy",
        "message": "The lab is busy right now.",
        "field": "x",
        "retry_after": 7,
    }


def test_a_lab_error_for_a_person_is_a_page_that_says_it(site):
    response = site.get("/page/refuse", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert "The lab is busy right now." in response.text
    assert response.headers["Retry-After"] == "7"


@pytest.mark.parametrize(
    ("headers", "json_wanted"),
    [
        ({}, False),
        ({"Accept": "*/*"}, False),
        ({"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, False),
        ({"Accept": "application/json"}, True),
        ({"Upgrade": "websocket", "Connection": "Upgrade"}, True),
    ],
)
def test_outside_the_api_the_answer_follows_what_was_asked(site, headers, json_wanted):
    response = site.get("/page/refuse", headers=headers)
    assert (response.mimetype == "application/json") is json_wanted


def test_redis_down_is_one_503_that_names_redis(client):
    response = client.get("/api/redis")
    assert response.status_code == 503
    assert response.json["error"] == "redis_down" and "Redis" in response.json["message"]


def test_redis_down_for_a_person_is_a_page(site):
    page = site.get("/page/redis")
    assert page.status_code == 503 and "Redis did not answer" in page.text


def test_http_errors_keep_their_json_shape_on_the_api_and_their_page_elsewhere(client):
    response = client.get("/api/forbidden")
    assert response.status_code == 403
    assert response.json == {
        "error": "forbidden",
        "message": "Requests from another site are refused.",
    }
    assert client.get("/api/nothing-here").json["error"] == "not_found"
    assert client.post("/api/refuse").json["error"] == "method_not_allowed"


def test_http_errors_for_a_person_keep_their_pages(site):
    page = site.get("/page/forbidden")
    assert page.status_code == 403 and page.mimetype == "text/html"
    missing = site.get("/no/such/page")
    assert missing.status_code == 404 and "the course map" in missing.text  # not_found.html


def test_a_recursion_error_anywhere_is_a_400_not_a_500(client):
    response = client.get("/api/deep")
    assert response.status_code == 400 and response.json["error"] == "bad_json"


def test_loads_is_the_same_reader_for_text_from_elsewhere():
    assert errors.loads('{"action": "ping"}') == {"action": "ping"}
    for junk in ("{", b"\xff", nested(100_000)):
        with pytest.raises(LabError) as refused:
            errors.loads(junk)
        assert refused.value.code == "bad_json" and refused.value.status == 400


def test_a_lab_error_is_one_dict_shape():
    error = LabError("Slow down.", "rate_limited", 429, retry_after=1, field=None)
    assert error.as_dict() == {"error": "rate_limited", "message": "Slow down.", "retry_after": 1}
    assert str(error) == "Slow down."
    assert json.loads(error.as_dict()["message"].join('""')) == "Slow down."
