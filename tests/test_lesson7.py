"""Lesson 7: what JSON carries to the worker, what it cannot carry, and why pickle is refused."""

from __future__ import annotations

import json

import pytest

from tests.support.learners import by_state
from tests.support.refusals import assert_refused
from tests.support.stack import poll
from web.lessons.experiments.lesson7 import KINDS, sample

# kind -> (type the worker's task received, its repr there)
CARRIED = {
    "int": ("int", "42"),
    "str": ("str", "'héllo'"),
    "list": ("list", "[1, 2, 3]"),
    "tuple": ("list", "[1, 'two']"),
    "dict": ("dict", "{'name': 'Ada', '1815': 'born'}"),
    "datetime": (
        "datetime",
        "datetime.datetime(2024, 11, 24, 20, 30, tzinfo=datetime.timezone.utc)",
    ),
    "bytes": ("bytes", "b'\\x89PNG'"),
    "Decimal": ("Decimal", "Decimal('19.99')"),
}
# kind -> the type name in kombu's EncodeError
REFUSED = {
    "set": "set",
    "custom object": "Point",
    "open file": "TextIOWrapper",
    "lambda": "function",
}


def test_the_menu_covers_every_value_once():
    assert set(KINDS) == set(CARRIED) | set(REFUSED)


@pytest.mark.parametrize("kind", CARRIED)
def test_a_value_json_can_carry_reaches_the_worker_as_this_type(learner, kind):
    received_type, received_repr = CARRIED[kind]
    session = learner.session()
    reply = learner.press("lesson7.value", {"kind": kind})
    assert reply["type"] == "sent" and reply["queued"] is True
    assert reply["show"][1]["label"] == "its args, as JSON on the wire"
    json.loads(reply["show"][1]["value"])  # really JSON text
    events = by_state(session.events(reply["task_id"]))
    assert events["succeeded"]["fields"]["hostname"].startswith("lab@")
    # What the worker's task itself reported: in the reply (read from the result backend),
    # in its task-succeeded event, and in the result backend through the site's API.
    report = f"{received_type}: {received_repr}"
    assert reply["received"] == report
    assert reply["show"][2] == {
        "label": "what the worker's task received",
        "value": report,
        "format": "code",
    }
    assert f"{received_type}: " in events["succeeded"]["fields"]["result"]
    stored = learner.get_json(f"/api/tasks/{reply['task_id']}")
    assert stored == (200, {"task_id": reply["task_id"], "state": "succeeded", "result": report})


@pytest.mark.parametrize("kind", REFUSED)
def test_a_value_json_cannot_carry_fails_in_the_web_process_and_nothing_is_queued(learner, kind):
    session = learner.session()
    reply = learner.press("lesson7.value", {"kind": kind})
    assert reply["type"] == "sent" and reply["queued"] is False
    assert "task_id" not in reply
    raised = reply["show"][1]
    assert raised["label"] == "describe_argument.delay(value) raised"
    assert raised["value"] == (
        f"kombu.exceptions.EncodeError: Object of type {REFUSED[kind]} is not JSON serializable"
    )
    assert reply["explain"].startswith("Nothing was queued.")
    # A value that can travel, sent next, is the first and only task this learner hears about.
    follow = learner.press("lesson7.value", {"kind": "int"})
    assert "succeeded" in by_state(session.events(follow["task_id"]))
    assert session.task_ids() == {follow["task_id"]}


def test_the_open_file_is_closed_again_after_the_attempt():
    with sample("open file") as handle:
        assert not handle.closed
    assert handle.closed


def test_a_pickled_message_is_refused_by_the_worker_and_nothing_runs(learner, stack):
    session = learner.session()
    reply = session.run("lesson7.pickle")
    assert reply["type"] == "sent"
    task_id = reply["task_id"]
    assert reply["show"][1]["value"].startswith("b'\\x80")  # pickle bytes, not JSON text
    events = by_state(session.events(task_id, until=("rejected", "succeeded", "failed")))
    refused = events["rejected"]
    assert refused["source"] == "worker" and refused["fields"]["hostname"].startswith("lab@")
    assert refused["fields"]["content_type"] == "application/x-python-serialize"
    assert refused["fields"]["exception"] == (
        "ContentDisallowed: Refusing to deserialize untrusted content of type pickle "
        "(application/x-python-serialize)"
    )
    assert set(events) <= {"sent", "rejected"}
    poll(
        lambda: (
            f"refused application/x-python-serialize message for task {task_id}"
            in stack.worker().log()
        ),
        30,
        message="the worker's refusal in its log",
    )
    assert "Refusing to deserialize untrusted content of type pickle" in stack.worker().log()
    # The task never ran: the worker never logged it as received, and no result exists.
    assert f"describe_argument[{task_id}] received" not in stack.worker().log()
    status, stored = learner.get_json(f"/api/tasks/{task_id}")
    assert (status, stored["state"]) == (200, "sent")  # PENDING: nothing was stored


BAD_INPUT = [
    ("lesson7.value", {"kind": "frozenset"}, "kind", "Value must be one of"),
    ("lesson7.value", {"kind": "__import__('os')"}, "kind", "Value must be one of"),
    ("lesson7.value", {"kind": 42}, "kind", "Value must be one of"),
    ("lesson7.value", {"kind": {"py/object": "Point"}}, "kind", "Value must be one of"),
    ("lesson7.value", {}, "kind", "Value is missing."),
    ("lesson7.value", {"kind": "int", "serializer": "pickle"}, "serializer", "Unknown parameter"),
    ("lesson7.pickle", {"value": "gASV"}, "value", "this experiment takes: nothing"),
]


@pytest.mark.parametrize("experiment, params, field, message", BAD_INPUT)
def test_bad_input_is_refused_on_its_transport_with_a_readable_message(
    learner, experiment, params, field, message
):
    assert_refused(learner, experiment, params, message, field)
