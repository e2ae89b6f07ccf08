"""The websocket schema (web/live/protocol.py): every builder's shape and the one parser."""

from __future__ import annotations

import json

import pytest

from tests.support.events import event, route
from web.live import protocol
from web.live.protocol import ACTIONS, PROJECTOR_ACTIONS, ProtocolError

LIMIT = 4096


# -- the one parser, for both sockets ---------------------------------------------------------
@pytest.mark.parametrize("actions", [ACTIONS, PROJECTOR_ACTIONS], ids=["learner", "projector"])
@pytest.mark.parametrize(
    ("raw", "code"),
    [
        pytest.param("not json", "bad_json", id="not-json"),
        pytest.param(b"\xff\xfe{}", "bad_json", id="not-utf8"),
        pytest.param("[1, 2]", "bad_json", id="array"),
        pytest.param('"ping"', "bad_json", id="string"),
        pytest.param("null", "bad_json", id="null"),
        pytest.param("[" * 4000, "bad_json", id="too-deep-list"),
        pytest.param('{"":' * 1000, "bad_json", id="too-deep-object"),
        pytest.param('{"action": "explode"}', "unknown_action", id="unknown-action"),
        pytest.param('{"no": "action"}', "unknown_action", id="no-action"),
        pytest.param('{"action": ["ping"]}', "unknown_action", id="action-list"),
        pytest.param('{"action": 1}', "unknown_action", id="action-number"),
        pytest.param('{"action": null}', "unknown_action", id="action-null"),
        pytest.param(json.dumps({"action": "ping", "pad": "x" * LIMIT}), "too_large", id="too-big"),
        pytest.param(b'{"action": "ping"}' + b" " * LIMIT, "too_large", id="too-big-bytes"),
    ],
)
def test_junk_frames_get_a_code_and_a_sentence(raw, code, actions):
    with pytest.raises(ProtocolError) as refused:
        protocol.parse_action(raw, LIMIT, actions)
    assert refused.value.code == code
    assert str(refused.value)  # a sentence for a person
    frame = protocol.error(refused.value.code, str(refused.value))
    assert frame == {"type": "error", "error": code, "message": str(refused.value)}


def test_each_socket_takes_only_its_own_actions():
    assert protocol.parse_action('{"action": "sync", "task_ids": []}', LIMIT)["action"] == "sync"
    with pytest.raises(ProtocolError, match="ping, snapshot") as refused:
        protocol.parse_action('{"action": "sync"}', LIMIT, PROJECTOR_ACTIONS)
    assert refused.value.code == "unknown_action"
    assert protocol.parse_action(b'{"action": "snapshot"}', LIMIT, PROJECTOR_ACTIONS) == {
        "action": "snapshot"
    }
    with pytest.raises(ProtocolError, match="run, sync, ping"):
        protocol.parse_action('{"action": "snapshot"}', LIMIT)


def test_a_message_at_the_limit_is_read():
    raw = json.dumps({"action": "ping", "pad": ""})
    raw = raw.replace('""', '"' + "x" * (LIMIT - len(raw)) + '"')
    assert len(raw) == LIMIT
    assert protocol.parse_action(raw, LIMIT)["action"] == "ping"


# -- the learners' messages -----------------------------------------------------------------
def test_a_task_message_lifts_the_envelope_and_keeps_the_fields():
    message = protocol.task_message(event("task-progress", current=2, total=5), route())
    assert message["type"] == "task" and message["state"] == "progress"
    assert message["experiment"] == "lesson5.delay" and message["source"] == "worker"
    assert message["fields"] == {"current": 2, "total": 5, "hostname": "lab@host", "pid": 4242}


def test_a_sent_event_comes_from_the_web_and_a_retry_from_the_worker():
    assert protocol.task_message(event("task-sent"), route())["source"] == "web"
    assert protocol.task_message(event("task-sent", retries=1), route())["source"] == "worker"


def test_pong():
    assert protocol.pong() == {"type": "pong"}


# -- the projector's messages ---------------------------------------------------------------
def test_hello_carries_the_snapshot():
    snapshot = {"class": {"code": "ABC123"}, "members": ["Ana"], "counters": {"sent": 1}}
    assert protocol.projector_hello(snapshot) == {"type": "hello", **snapshot}


def test_class_tasks_and_counters():
    entry = {"task_id": "t-1", "who": "Ana", "state": "sent"}
    assert protocol.class_tasks([entry], {"sent": 1}) == {
        "type": "class-tasks",
        "events": [entry],
        "counters": {"sent": 1},
    }
    assert protocol.counters({"sent": 2}) == {"type": "counters", "counters": {"sent": 2}}


def test_workers_carries_the_panel_only_when_it_changed():
    assert protocol.workers([1.5, 3]) == {"type": "workers", "depth": [1.5, 3]}
    assert protocol.workers(None, None) == {"type": "workers", "depth": None, "panel": None}
    panel = {"at": 1.0, "workers": []}
    assert protocol.workers([1.5, 0], panel)["panel"] == panel
    assert protocol.workers_error("Redis did not answer") == {
        "type": "workers",
        "error": "Redis did not answer",
    }


def test_tally_members_class_and_control():
    question = {"id": "q1", "tally": {"a": 2}}
    assert protocol.tally(question) == {"type": "tally", "question": question}
    assert protocol.members(["Ana", "ben"]) == {"type": "members", "members": ["Ana", "ben"]}
    assert protocol.class_changed({"code": "ABC123"}) == {
        "type": "class",
        "class": {"code": "ABC123"},
    }
    assert protocol.control("paused") == {"type": "control", "message": "paused"}


def test_a_control_message_is_cut_to_what_a_screen_shows():
    assert len(protocol.control("x" * 1000)["message"]) == protocol.CONTROL_MESSAGE_CHARS
    assert protocol.control(None)["message"] == "None"


def test_a_classroom_notice_to_a_learner():
    assert protocol.classroom_notice(
        "lesson", "ABC123", "lesson-5", "5. Retries", "/lessons/lesson-5"
    ) == {
        "type": "classroom",
        "what": "lesson",
        "code": "ABC123",
        "lesson": "lesson-5",
        "title": "5. Retries",
        "url": "/lessons/lesson-5",
    }
    closed = protocol.classroom_notice("closed", "ABC123", None, None, None)
    assert closed["what"] == "closed" and closed["url"] is None


def test_every_message_encodes_even_with_fields_json_cannot_hold():
    message = protocol.task_message(event("task-failed", exception=ValueError("x")), route())
    assert json.loads(protocol.dumps(message))["fields"]["exception"] == "ValueError('x')"
