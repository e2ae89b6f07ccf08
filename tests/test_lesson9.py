"""Chapter 9 on the real worker: a task's log lines reach its learner; inspect finds the task."""

from __future__ import annotations

import pytest

from tests.support.classroom_people import Instructor, join
from tests.support.learners import Learner, receive_until, shown
from tests.support.refusals import assert_refused_sending_nothing


def _logs(session, task_id: str) -> list[dict]:
    session.events(task_id)  # read until the task has finished
    return [m for m in session.seen if m.get("task_id") == task_id and m.get("state") == "log"]


def test_the_tasks_info_lines_stream_to_the_page_with_its_name_and_id(learner):
    session = learner.session()
    outcome = learner.press("lesson9.logs", {"items": 2, "outcome": "ok"})
    assert outcome["type"] == "sent"
    task_id = outcome["task_id"]
    lines = _logs(session, task_id)
    assert [m["fields"]["level"] for m in lines] == ["INFO", "INFO"]
    first, last = (m["fields"] for m in lines)
    assert first["message"].startswith("Packing order ") and first["message"].endswith("2 items")
    assert last["message"].endswith(" shipped")
    # The worker's own task log format: level/process, then name[id]: message.
    assert (
        f"INFO/MainProcess] sandbox_tasks.logs.process_order[{task_id}]: Packing" in (first["line"])
    )
    assert lines[0]["task_name"] == "sandbox_tasks.logs.process_order"
    # --loglevel INFO: the debug line per item never left the worker.
    assert not any("picked" in m["fields"]["message"] for m in lines)


def test_a_warning_and_an_error_with_its_traceback_are_logged_too(learner):
    session = learner.session()
    slow = learner.press("lesson9.logs", {"items": 1, "outcome": "slow courier"})
    refused = learner.press("lesson9.logs", {"items": 1, "outcome": "refused"})
    levels = [m["fields"]["level"] for m in _logs(session, slow["task_id"])]
    assert levels == ["INFO", "WARNING", "INFO"]
    failing = _logs(session, refused["task_id"])
    assert [m["fields"]["level"] for m in failing] == ["INFO", "ERROR"]
    assert "Traceback (most recent call last)" in failing[-1]["fields"]["line"]
    assert "\x1b[" not in failing[-1]["fields"]["line"], "no terminal colour codes"
    assert session.final(refused["task_id"])["state"] == "failed"


def test_another_learner_never_sees_my_log_lines(stack, learner):
    other = Learner(stack.base_url)
    try:
        theirs = other.session()
        mine = learner.session()
        outcome = learner.press("lesson9.logs", {"items": 1, "outcome": "ok"})
        assert _logs(mine, outcome["task_id"])
        theirs.ping()
        assert outcome["task_id"] not in theirs.task_ids()
    finally:
        other.close()


def test_inspect_finds_the_task_running_and_shows_only_its_own(learner, stack):
    outcome = learner.press("lesson9.inspect", {"items": 5})
    assert outcome["type"] == "sent" and outcome["mode"] == "direct"
    values = shown(outcome)
    active = values["inspect().active(): your task, as a worker reports it"]
    assert active["id"] == outcome["task_id"]
    assert active["name"] == "sandbox_tasks.logs.process_order"
    assert active["worker_pid"] == stack.worker().popen.pid
    assert active["worker"].startswith("lab@")
    totals = values["inspect().stats()['total']: tasks run since the worker started"]
    assert set(totals) == {active["worker"]}
    assert isinstance(values["messages waiting in the queue (LLEN in Redis)"], int)


BAD_INPUT = [
    pytest.param("lesson9.logs", {"items": 6, "outcome": "ok"}, "from 1 to 5", id="many-items"),
    pytest.param("lesson9.logs", {"items": 0, "outcome": "ok"}, "from 1 to 5", id="no-items"),
    pytest.param("lesson9.logs", {"items": 1, "outcome": "DEBUG"}, "one of", id="bad-outcome"),
    pytest.param("lesson9.logs", {"items": 1}, "is missing", id="no-outcome"),
    pytest.param("lesson9.logs", {"items": 1, "outcome": "ok", "level": 10}, "Unknown", id="level"),
    pytest.param("lesson9.inspect", {"items": True}, "whole number", id="inspect-bool"),
    pytest.param("lesson9.inspect", {"items": 1, "worker": "*"}, "Unknown", id="inspect-who"),
]


@pytest.mark.parametrize(("name", "params", "says"), BAD_INPUT)
def test_bad_input_is_refused_and_sends_nothing(stack, learner, name, params, says):
    assert_refused_sending_nothing(stack, learner, name, params, says)


def test_in_a_class_the_projector_counts_the_task_but_not_its_log_lines(stack):
    teacher = Instructor(stack.base_url, stack.instructor_token)
    ana = Learner(stack.base_url)
    try:
        code = teacher.open_class()
        join(ana, code, "Ana")
        projector = teacher.projector(code)
        mine = ana.session()
        task_id = mine.start("lesson9.logs", items=1, outcome="ok")
        assert _logs(mine, task_id), "the learner still gets the log lines"
        seen = receive_until(
            projector,
            lambda m: (
                m["type"] == "class-tasks"
                and any(e["task_id"] == task_id and e["state"] == "succeeded" for e in m["events"])
            ),
        )
        states = {e["state"] for m in seen if m["type"] == "class-tasks" for e in m["events"]}
        assert "succeeded" in states and "log" not in states
    finally:
        ana.close()
        teacher.close()
