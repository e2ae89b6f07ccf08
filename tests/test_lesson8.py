"""Lesson 8's canvases on the real worker: every task's events reach the learner who built it."""

from __future__ import annotations

import base64
import json

import pytest

import config
from tests.support.learners import by_state, events_of, shown
from tests.support.redis_monitor import RedisMonitor
from tests.support.refusals import assert_refused_sending_nothing
from tests.support.stack import poll


def _run(learner, shape: str, **params) -> tuple[dict, object]:
    session = learner.session()
    body = {"steps": 3, "durations": "1-1-1-1", "fail": "none", **params}
    outcome = learner.press(f"lesson8.{shape}", body)
    assert outcome["type"] == "sent", outcome
    return outcome, session


def _finals(session, nodes: list[dict]) -> dict[str, dict]:
    """Each node's task's events by state, once every node has a final event."""
    done = {}
    for node in nodes:
        done[node["key"]] = by_state(session.events(node["task_id"]))
    return done


def test_a_chain_runs_one_step_after_another_passing_each_result_on(learner):
    outcome, session = _run(learner, "chain", durations="1-2-3-4")
    nodes = outcome["canvas"]["nodes"]
    assert [n["key"] for n in nodes] == ["s1", "s2", "s3"]
    assert outcome["canvas"]["edges"] == [["s1", "s2"], ["s2", "s3"]]
    assert outcome["task_id"] == nodes[-1]["task_id"]
    assert "step.s(0, 1, 1)" in shown(outcome)["the canvas the server built"]
    events = _finals(session, nodes)
    # Each step adds its number to the one before: 0+1, then 1+2, then 3+3.
    assert [events[k]["succeeded"]["fields"]["result"] for k in ("s1", "s2", "s3")] == [
        "1",
        "3",
        "6",
    ]
    # One after another: a step is sent only once the previous one has done its work (its
    # last progress report), though a hair before that one's own task-succeeded event.
    for before, after in (("s1", "s2"), ("s2", "s3")):
        assert events[after]["sent"]["timestamp"] >= events[before]["progress"]["timestamp"]
    # Every task told the page which pool thread ran it (the timeline's lanes).
    for key in ("s1", "s2", "s3"):
        assert events[key]["progress"]["fields"]["thread"].startswith("pool-")


def test_a_group_runs_its_steps_side_by_side_on_different_threads(learner):
    outcome, session = _run(learner, "group", durations="2-2-2-2")
    nodes = outcome["canvas"]["nodes"]
    assert outcome["canvas"]["edges"] == []
    events = _finals(session, nodes)
    assert sorted(e["succeeded"]["fields"]["result"] for e in events.values()) == ["1", "2", "3"]
    starts = [e["started"]["timestamp"] for e in events.values()]
    ends = [e["succeeded"]["timestamp"] for e in events.values()]
    assert max(starts) < min(ends), "every step started before any had finished"
    threads = {e["progress"]["fields"]["thread"] for e in events.values()}
    assert len(threads) == 3


def test_a_chord_sends_its_body_the_list_of_header_results(learner):
    outcome, session = _run(learner, "chord", steps=2)
    nodes = outcome["canvas"]["nodes"]
    assert [n["role"] for n in nodes] == ["step", "step", "body"]
    assert outcome["canvas"]["edges"] == [["s1", "body"], ["s2", "body"]]
    events = _finals(session, nodes)
    assert events["body"]["succeeded"]["fields"]["result"] == "3"
    # The body is sent only once the last header task has done its work.
    last_header = max(events[k]["progress"]["timestamp"] for k in ("s1", "s2"))
    assert events["body"]["sent"]["timestamp"] >= last_header


def test_a_failing_chain_step_stops_the_chain_and_fails_the_rest_in_the_backend(learner):
    outcome, session = _run(learner, "chain", fail="step 2")
    nodes = outcome["canvas"]["nodes"]
    failed = session.final(nodes[1]["task_id"])
    assert failed["state"] == "failed"
    assert "step 2 failed on purpose" in failed["fields"]["exception"]
    assert by_state(session.events(nodes[0]["task_id"]))["succeeded"]
    snapshot = session.sync(nodes[2]["task_id"])
    (third,) = snapshot["tasks"]
    # Never sent, never run, yet its result says failed: Celery marks the rest of the chain.
    assert third["state"] == "failed" and "step 2 failed on purpose" in third["error"]
    assert not events_of(session.seen, nodes[2]["task_id"])
    assert "never sent" in outcome["explain"]


def test_a_failing_header_task_gives_the_chord_body_a_chord_error(learner):
    outcome, session = _run(learner, "chord", fail="step 1")
    nodes = outcome["canvas"]["nodes"]
    for node in nodes[:-1]:
        session.final(node["task_id"])
    body = nodes[-1]["task_id"]

    def body_failed() -> bool:
        (entry,) = session.sync(body)["tasks"]
        return entry["state"] == "failed" and "ChordError" in entry["error"]

    poll(body_failed, 15, interval=0.2, message="the chord body's ChordError in the backend")
    assert not events_of(session.seen, body), "the body never ran, so it sent no events"


BAD_INPUT = [
    pytest.param("lesson8.chain", {"steps": 5}, "from 2 to 4", id="too-many-steps"),
    pytest.param("lesson8.group", {"steps": 1}, "from 2 to 4", id="one-step"),
    pytest.param("lesson8.chord", {"steps": "3; rm"}, "whole number", id="steps-text"),
    pytest.param("lesson8.chain", {"durations": "9-9-9-9"}, "must be one of", id="durations"),
    pytest.param("lesson8.chain", {"fail": "step 9"}, "must be one of", id="fail-unknown"),
    pytest.param("lesson8.group", {"steps": 2, "fail": "step 3"}, "no step 3", id="fail-beyond"),
    pytest.param("lesson8.chord", {"task": "os.system"}, "Unknown parameter", id="extra-field"),
]


@pytest.mark.parametrize(("name", "changes", "says"), BAD_INPUT)
def test_bad_input_is_refused_and_sends_nothing(stack, learner, name, changes, says):
    params = {"steps": 3, "durations": "1-1-1-1", "fail": "none", **changes}
    assert_refused_sending_nothing(stack, learner, name, params, says)


def test_a_group_goes_to_redis_in_one_pipeline_each_message_with_its_task_sent(stack, learner):
    """A group's messages and their ``task-sent`` events are one transaction: all or nothing.

    Nothing else runs in Redis between them (MONITOR sees them one after the other), so the
    worker, which can only take a message once it is there, reports none of the group's tasks
    before every ``task-sent`` is out, and the learner hears "sent" first for each.
    """
    with RedisMonitor(stack.url) as monitor:
        outcome, session = _run(learner, "group", durations="1-1-1-1")
        ids = [node["task_id"] for node in outcome["canvas"]["nodes"]]
        _finals(session, outcome["canvas"]["nodes"])

        def the_groups_writes():
            commands = [cmd for lua, cmd in monitor.lines() if not lua]
            first = next(
                (i for i, cmd in enumerate(commands) if what_it_writes(cmd, ids)[0] == "message"),
                None,
            )
            # One transaction: MULTI, each message and its event, EXEC.
            writes = [] if first is None else commands[first - 1 : first + 2 * len(ids) + 1]
            return writes if len(writes) == 2 * len(ids) + 2 else None

        writes = poll(the_groups_writes, 10, message="the group's writes")
    assert writes[0] == "MULTI" and writes[-1] == "EXEC", writes
    written = [what_it_writes(cmd, ids) for cmd in writes[1:-1]]
    # Celery's order within the batch: each message, then its task-sent.
    expected = [(kind, task_id) for _, task_id in written[::2] for kind in ("message", "task-sent")]
    assert written == expected, writes
    assert sorted(task_id for _, task_id in written[::2]) == sorted(ids)
    for task_id in ids:
        assert events_of(session.seen, task_id)[0]["state"] == "sent"


def what_it_writes(command: str, ids: list[str]) -> tuple[str | None, str | None]:
    """A MONITOR line's write: ("message", task id) into the queue, (event type, task id)."""
    verb, key, payload = (command.split(" ", 2) + ["", ""])[:3]
    if verb == "LPUSH" and key == config.QUEUE:
        return "message", next((task_id for task_id in ids if task_id in payload), None)
    if verb == "PUBLISH" and key.startswith("/0.celeryev/"):
        message = json.loads(payload)
        if isinstance(message, dict):  # kombu's envelope (else, say what it was)
            event = json.loads(base64.b64decode(message["body"]))
            if isinstance(event, list):  # the worker's events, sent in a batch of its own
                return "+".join(e["type"] for e in event), None
            return event["type"], event.get("uuid")
    return verb, None
