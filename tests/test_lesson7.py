"""Lesson 7: what JSON carries to the worker, what it cannot carry, and why pickle is refused."""

from __future__ import annotations

import json

import pytest

from tests.conftest import receive_until
from tests.stack import poll
from web.experiments.lesson7 import KINDS, sample

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


class Page:
    """One learner's websocket that keeps every message: a fast task's events can arrive
    before the reply to the button press, and must not be thrown away with it."""

    def __init__(self, ws):
        self.ws = ws
        self.seen: list[dict] = []

    def run(self, experiment: str, **params) -> dict:
        message = {"action": "run", "experiment": experiment, "params": params, "ref": "t"}
        self.ws.send(json.dumps(message))
        self.seen += receive_until(self.ws, lambda m: m["type"] in ("sent", "error"))
        return self.seen[-1]

    def events(self, task_id: str, final: tuple[str, ...]) -> dict[str, dict]:
        """Every event of ``task_id`` until one in ``final``, by state."""

        def mine(m: dict) -> bool:
            return m["type"] == "task" and m["task_id"] == task_id

        if not any(mine(m) and m["state"] in final for m in self.seen):
            self.seen += receive_until(self.ws, lambda m: mine(m) and m["state"] in final)
        return {m["state"]: m for m in self.seen if mine(m)}

    def task_ids(self) -> set[str]:
        return {m["task_id"] for m in self.seen if m["type"] == "task"}


def worker_log(stack) -> str:
    return next(p for p in stack.processes if p.name.startswith("worker-")).log()


def task_state(learner, task_id: str) -> dict:
    with learner.opener.open(f"{learner.base_url}/api/tasks/{task_id}", timeout=30) as response:
        return json.loads(response.read())


def test_the_menu_covers_every_value_once():
    assert set(KINDS) == set(CARRIED) | set(REFUSED)


@pytest.mark.parametrize("kind", CARRIED)
def test_a_value_json_can_carry_reaches_the_worker_as_this_type(learner, kind):
    received_type, received_repr = CARRIED[kind]
    page = Page(learner.socket())
    reply = page.run("lesson7.value", kind=kind)
    assert reply["type"] == "sent" and reply["queued"] is True
    assert reply["show"][1]["label"] == "its args, as JSON on the wire"
    json.loads(reply["show"][1]["value"])  # really JSON text
    events = page.events(reply["task_id"], ("succeeded", "failed"))
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
    stored = task_state(learner, reply["task_id"])
    assert stored == {"task_id": reply["task_id"], "state": "succeeded", "result": report}


@pytest.mark.parametrize("kind", REFUSED)
def test_a_value_json_cannot_carry_fails_in_the_web_process_and_nothing_is_queued(learner, kind):
    page = Page(learner.socket())
    reply = page.run("lesson7.value", kind=kind)
    assert reply["type"] == "sent" and reply["queued"] is False
    assert "task_id" not in reply
    raised = reply["show"][1]
    assert raised["label"] == "describe_argument.delay(value) raised"
    assert raised["value"] == (
        f"kombu.exceptions.EncodeError: Object of type {REFUSED[kind]} is not JSON serializable"
    )
    assert reply["explain"].startswith("Nothing was queued.")
    # A value that can travel, sent next, is the first and only task this learner hears about.
    follow = page.run("lesson7.value", kind="int")
    assert "succeeded" in page.events(follow["task_id"], ("succeeded", "failed"))
    assert page.task_ids() == {follow["task_id"]}


def test_the_open_file_is_closed_again_after_the_attempt():
    with sample("open file") as handle:
        assert not handle.closed
    assert handle.closed


def test_a_pickled_message_is_refused_by_the_worker_and_nothing_runs(learner, stack):
    page = Page(learner.socket())
    reply = page.run("lesson7.pickle")
    assert reply["type"] == "sent"
    task_id = reply["task_id"]
    assert reply["show"][1]["value"].startswith("b'\\x80")  # pickle bytes, not JSON text
    events = page.events(task_id, ("rejected", "succeeded", "failed"))
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
            in worker_log(stack)
        ),
        30,
        message="the worker's refusal in its log",
    )
    assert "Refusing to deserialize untrusted content of type pickle" in worker_log(stack)
    # The task never ran: the worker never logged it as received, and no result exists.
    assert f"describe_argument[{task_id}] received" not in worker_log(stack)
    assert task_state(learner, task_id)["state"] == "sent"  # PENDING: nothing was stored


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
def test_bad_input_is_refused_over_http_with_a_readable_message(
    learner, experiment, params, field, message
):
    status, body = learner.post(f"/api/experiments/{experiment}", params)
    assert status == 400
    assert body["error"] == "invalid_params" and body["field"] == field
    assert message in body["message"]


@pytest.mark.parametrize("experiment, params, field, message", BAD_INPUT)
def test_bad_input_over_the_websocket_gets_an_error_and_the_socket_stays_open(
    learner, experiment, params, field, message
):
    page = Page(learner.socket())
    reply = page.run(experiment, **params)
    assert reply["type"] == "error" and reply["field"] == field
    assert message in reply["message"]
    page.ws.send(json.dumps({"action": "ping"}))
    assert receive_until(page.ws, lambda m: m["type"] == "pong")
