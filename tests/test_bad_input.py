"""Bad input gets a clear error, sends nothing, and leaves the site working."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
import websocket

from tests.support.learners import learner_id
from web import keys

BAD_BODIES = [
    pytest.param(b'{"seconds": -1}', "from 1 to 10", id="negative"),
    pytest.param(b'{"seconds": 0}', "from 1 to 10", id="zero"),
    pytest.param(b'{"seconds": 1000000000}', "from 1 to 10", id="huge"),
    pytest.param(b'{"seconds": "abc"}', "whole number", id="not-a-number"),
    pytest.param(b'{"seconds": 2.5}', "whole number", id="fraction"),
    pytest.param(b'{"seconds": true}', "whole number", id="boolean"),
    pytest.param(b"{}", "missing", id="missing"),
    pytest.param(b"[3]", "JSON object", id="array-body"),
    pytest.param(b'"3"', "JSON object", id="string-body"),
    pytest.param(b"seconds=3", "not valid JSON", id="not-json"),
    pytest.param(b'{"seconds": 3, "code": "import os"}', "Unknown parameter", id="extra-field"),
]


@pytest.mark.parametrize(("body", "says"), BAD_BODIES)
def test_a_bad_body_is_a_400_that_says_why_and_sends_nothing(stack, learner, body, says):
    who = learner_id(stack, learner, "lesson5.delay", {"seconds": 1})
    before = stack.redis().llen(keys.learner_tasks(who))
    # A body is read only by the HTTP transport, which serves direct calls.
    status, reply = learner.post("/api/experiments/lesson5.direct", body)
    assert status == 400
    assert says in reply["message"]
    assert stack.redis().llen(keys.learner_tasks(who)) == before
    # ...and the site still works for the same learner.
    assert learner.press("lesson5.direct", {"seconds": 1})["type"] == "sent"


def test_an_unknown_experiment_is_a_404(learner):
    status, reply = learner.post("/api/experiments/os.system", {})
    assert status == 404 and "no experiment" in reply["message"]


BAD_FRAMES = [
    pytest.param("not json", "bad_json", id="not-json"),
    pytest.param("[1, 2]", "bad_json", id="array"),
    pytest.param('{"action": "explode"}', "unknown_action", id="unknown-action"),
    pytest.param('{"no": "action"}', "unknown_action", id="no-action"),
    pytest.param('{"action": "run", "experiment": "nope"}', "unknown_experiment", id="no-such"),
    pytest.param(
        '{"action": "run", "experiment": "lesson5.delay", "params": {"seconds": -1}}',
        "invalid_params",
        id="bad-params",
    ),
    pytest.param(
        '{"action": "run", "experiment": "lesson5.delay", "params": [1]}',
        "bad_body",
        id="params-not-object",
    ),
    pytest.param(
        '{"action": "run", "experiment": "lesson5.direct", "params": {"seconds": 1}}',
        "wrong_transport",
        id="direct-call-over-socket",
    ),
    pytest.param('{"action": "sync", "task_ids": "x"}', "invalid_params", id="bad-sync"),
    pytest.param(json.dumps({"action": "ping", "pad": "x" * 5000}), "too_large", id="too-large"),
]


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES)
def test_a_bad_websocket_message_gets_an_error_and_the_socket_stays_up(learner, frame, code):
    session = learner.session()
    session.send(frame)
    reply = session.until(lambda m: m["type"] == "error")[-1]
    assert reply["error"] == code and reply["message"]
    assert session.ping()


def test_a_frame_far_over_the_limit_closes_the_socket_with_1009_and_the_server_lives(learner):
    ws = learner.socket()
    # Just over the 64 KiB frame limit, and small enough that the server reads all of it
    # before closing (closing with unread bytes would reset the connection instead).
    ws.send("x" * 65_600)
    opcode, data = ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(data[:2], "big") == 1009
    assert learner.session().ping()


def test_a_websocket_from_another_site_is_refused_before_the_upgrade(learner):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        learner.socket(origin="http://evil.example")
    assert refused.value.status_code == 403


def test_a_post_from_another_site_is_refused(stack, learner):
    request = urllib.request.Request(
        stack.base_url + "/api/experiments/lesson5.direct",
        data=b'{"seconds": 1}',
        method="POST",
        headers={"Content-Type": "application/json", "Origin": "http://evil.example"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        learner.opener.open(request)
    assert refused.value.code == 403
    refused.value.close()
