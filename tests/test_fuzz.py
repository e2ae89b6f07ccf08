"""Junk at every door: Hypothesis throws wrong types, huge values, deep nesting, invalid UTF-8
and unknown fields at every HTTP endpoint and websocket action of a real site.

Every reply must be a clear 4xx (JSON with a message on /api/) or an ``error`` message on the
socket, and afterwards the server, its socket pool and the worker must still be healthy.
The site is a stack of its own, with an instructor token, so the instructor's endpoints are
fuzzed past their sign-in check too.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import urllib.parse

import pytest
import websocket
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.support.learners import Session, receive_until
from tests.support.stack import Stack, poll
from web import create_app
from web.lessons.experiments import EXPERIMENTS, ExperimentError

TOKEN = "fuzz-instructor-token"
FUZZ = settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def site():
    stack = Stack()
    stack.env["CELERY_LAB_INSTRUCTOR_TOKEN"] = TOKEN
    stack.start_redis()
    stack.start_worker(concurrency=4)
    stack.web, stack.base_url = stack.start_web()
    yield stack
    stack.stop()
    shutil.rmtree(stack.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def routes(site):
    """(rule, method) for every HTTP route the app has, read from its own URL map."""
    saved = os.environ.get("REDIS_URL")
    os.environ["REDIS_URL"] = site.url
    try:
        app = create_app({"TESTING": True})
    finally:
        if saved is None:
            os.environ.pop("REDIS_URL")
        else:
            os.environ["REDIS_URL"] = saved
    found = sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if not rule.websocket
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )
    assert len(found) > 10
    return found


# -- junk ------------------------------------------------------------------------------------

# Text a client can actually send (no lone surrogates), with the odd digit-like character.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=10**18, max_value=10**400),
    st.integers(max_value=-(10**18)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["²", "٣", "1" * 5000, "-0", " 7 ", "0x10", "1e3", "३"]),
)
JSON = st.recursive(
    st.none() | st.booleans() | NUMBERS | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)


def nested(depth: int, kind: str) -> str:
    return "[" * depth + "]" * depth if kind == "list" else '{"a":' * depth + "1" + "}" * depth


DEEP = st.builds(nested, st.integers(50, 30_000), st.sampled_from(["list", "dict"]))


def dumps(value) -> bytes:
    # NaN and Infinity are not JSON; some clients send them anyway.
    return json.dumps(value, allow_nan=True).encode()


BODIES = st.one_of(
    JSON.map(dumps),
    st.binary(max_size=300),  # mostly invalid UTF-8
    DEEP.map(str.encode),
    st.integers(1_000, 80_000).map(lambda n: dumps({"x": "a" * n})),
    st.just(b""),
)
SEGMENTS = st.one_of(TEXT.filter(bool).map(str.encode), st.binary(min_size=1, max_size=40))


def object_for(experiment) -> st.SearchStrategy:
    """A JSON object that names the experiment's parameters (and others) with junk values."""
    names = [p.name for p in experiment.params]
    return st.dictionaries(st.sampled_from(names) | TEXT, JSON, max_size=4) if names else JSON


def is_valid(experiment, params) -> bool:
    """True if the experiment would accept ``params`` (then it is not junk: it would run)."""
    try:
        experiment.clean(params)
    except (ExperimentError, ValueError, TypeError, RecursionError):
        # Not only ExperimentError: if the validator itself breaks, the server must show us how.
        return False
    return True


# -- HTTP ------------------------------------------------------------------------------------


def request(site, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    host, port = site.base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def path_for(rule: str, segments: list[bytes]) -> str:
    parts = iter(segments)
    return re.sub(r"<[^>]+>", lambda _: urllib.parse.quote_from_bytes(next(parts), safe=""), rule)


def assert_clear(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    assert status < 500, f"{method} {path} -> {status}: {body[:300]!r}"
    if status >= 400 and path.startswith("/api/"):
        assert content_type.startswith("application/json"), (path, status, body[:200])
        assert json.loads(body)["message"], (path, status, body[:200])


@FUZZ
@given(data=st.data())
def throw_junk_at_http(site, routes, data):
    rule, method = data.draw(st.sampled_from(routes), label="route")
    segments = data.draw(st.lists(SEGMENTS, min_size=rule.count("<"), max_size=rule.count("<")))
    query = data.draw(st.lists(st.tuples(SEGMENTS, SEGMENTS), max_size=3))
    path = path_for(rule, segments)
    if query:
        path += "?" + "&".join(
            f"{urllib.parse.quote_from_bytes(k)}={urllib.parse.quote_from_bytes(v)}"
            for k, v in query
        )
    headers = {"Content-Type": data.draw(st.sampled_from(["application/json", "text/plain"]))}
    if data.draw(st.booleans(), label="as instructor"):
        headers["Authorization"] = f"Bearer {TOKEN}"
    body = data.draw(BODIES) if method == "POST" else b""
    assert_clear(method, path, *request(site, method, path, body, headers))


@FUZZ
@given(data=st.data())
def throw_junk_at_experiments(site, data):
    # The direct calls, whose transport is HTTP; the others are fuzzed over the socket below.
    direct = sorted(n for n, e in EXPERIMENTS.items() if e.transport == "http")
    name = data.draw(st.sampled_from(direct), label="experiment")
    params = data.draw(object_for(EXPERIMENTS[name]), label="params")
    assume(not is_valid(EXPERIMENTS[name], params))
    path = f"/api/experiments/{name}"
    status, content_type, reply = request(
        site, "POST", path, dumps(params), {"Content-Type": "application/json"}
    )
    assert_clear("POST", path, status, content_type, reply)
    assert 400 <= status < 500, (name, params, status, reply[:200])


NASTY = [
    pytest.param(nested(10_000, "dict").encode(), id="nested-deeper-than-python-recurses"),
    pytest.param(nested(20_000, "list").encode(), id="nested-lists"),
    pytest.param(dumps({"x": "a" * 70_000}), id="over-the-size-limit"),
    pytest.param(b'{"x": "\xff\xfe", "y": 3}', id="invalid-utf-8"),
    pytest.param(b'{"x": NaN, "y": Infinity}', id="nan-and-infinity"),
    pytest.param(dumps({"x": "\u00b2", "y": 3}), id="a-digit-int-cannot-read"),
    pytest.param(dumps({"x": "1" * 5000, "y": 3}), id="five-thousand-digits"),
    pytest.param(dumps({"x": 10**400, "y": 3}), id="huge-number"),
    pytest.param(dumps({"x": 2, "y": 3, "__class__": {}}), id="unknown-field"),
]


@pytest.mark.parametrize("body", NASTY)
def test_the_nastiest_bodies_get_a_clear_4xx_from_every_json_endpoint(site, routes, body):
    for rule, method in routes:
        if method != "POST" or "<" in rule:
            continue
        status, content_type, reply = request(
            site,
            "POST",
            rule,
            body,
            {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        )
        assert_clear("POST", rule, status, content_type, reply)
    path = "/api/experiments/lesson1.direct"
    status, content_type, reply = request(site, "POST", path, body)
    assert_clear("POST", path, status, content_type, reply)
    assert 400 <= status < 500, reply


# -- websocket -------------------------------------------------------------------------------

ACTIONS = st.sampled_from(["run", "sync", "ping"]) | JSON


@st.composite
def frames(draw):
    kind = draw(st.sampled_from(["action", "run", "text", "binary", "deep"]))
    if kind == "text":
        return draw(st.text(st.characters(exclude_categories=("Cs",)), max_size=300))
    if kind == "binary":
        return draw(st.binary(max_size=300))
    if kind == "deep":
        return nested(draw(st.integers(50, 2_000)), draw(st.sampled_from(["list", "dict"])))
    message = draw(st.dictionaries(TEXT, JSON, max_size=3))
    if kind == "run":
        name = draw(st.sampled_from(sorted(EXPERIMENTS)) | JSON)
        experiment = EXPERIMENTS.get(name) if isinstance(name, str) else None
        params = draw(object_for(experiment) if experiment else JSON)
        assume(experiment is None or not is_valid(experiment, params))
        message.update(action="run", experiment=name, params=params, ref=draw(JSON))
    else:
        message["action"] = draw(ACTIONS)
        message["task_ids"] = draw(st.lists(TEXT, max_size=5) | JSON)
    return json.dumps(message, allow_nan=True)


def socket(site) -> websocket.WebSocket:
    # No cookie: every socket is a new learner, so the rate limit never hides a reply.
    ws = websocket.create_connection(
        site.base_url.replace("http", "ws") + "/ws", timeout=30, origin=site.base_url
    )
    assert json.loads(ws.recv())["type"] == "hello"
    return ws


@FUZZ
@given(frame=frames())
@example(frame=nested(2_000, "list"))
@example(frame=b"\xff\xfe{\x80")
@example(frame=json.dumps({"action": "run", "experiment": "lesson1.delay", "params": {"x": "²"}}))
def throw_junk_at_the_socket(site, frame):
    ws = socket(site)
    try:
        if isinstance(frame, bytes):
            ws.send_binary(frame)
        else:
            ws.send(frame)
        reply = receive_until(ws, lambda m: m.get("type") != "task")[-1]
        if reply["type"] not in ("pong", "snapshot"):  # ping and sync may well be valid
            assert reply["type"] == "error" and reply["message"], (frame[:200], reply)
        ws.send(json.dumps({"action": "ping"}))
        assert receive_until(ws, lambda m: m.get("type") == "pong")
    finally:
        ws.close()


# -- the tests -------------------------------------------------------------------------------


def health(site) -> dict:
    status, _, body = request(site, "GET", "/api/health")
    assert status == 200, body
    return json.loads(body)


def assert_still_healthy(site, sockets_before: int) -> None:
    """The web answers, its socket pool drains back, and the worker still runs a task."""
    poll(lambda: health(site)["sockets"] <= sockets_before, 20, message="sockets to close")
    assert site.web.alive()
    assert "Traceback" not in site.web.log(), site.web.log()[-3000:]
    session = Session(socket(site))
    try:
        task_id = session.start("lesson1.delay", x=2, y=3)
        assert session.final(task_id)["state"] == "succeeded"
    finally:
        session.ws.close()


def test_junk_to_any_http_endpoint_gets_a_clear_4xx_and_the_site_stays_healthy(site, routes):
    before = health(site)["sockets"]
    throw_junk_at_http(site, routes)
    assert_still_healthy(site, before)


def test_junk_parameters_for_every_experiment_get_a_400_that_says_why(site):
    before = health(site)["sockets"]
    throw_junk_at_experiments(site)
    assert_still_healthy(site, before)


def test_junk_websocket_frames_get_an_error_message_and_the_socket_stays_open(site):
    before = health(site)["sockets"]
    throw_junk_at_the_socket(site)
    assert_still_healthy(site, before)
