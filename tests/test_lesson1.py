"""Lesson 1: add(2, 3) runs in the web process, add.delay(2, 3) in the worker, add is a task."""

from __future__ import annotations

import socket

import pytest

from tests.support.learners import learner_id, shown
from web import keys

LIFECYCLE = ("sent", "received", "started", "succeeded")


@pytest.mark.parametrize(("x", "y"), [(2, 3), (-1000, 1000), (999, -7)])
def test_a_direct_call_adds_in_the_web_server_process(learner, stack, x, y):
    body = learner.press("lesson1.direct", {"x": x, "y": y})
    assert body["type"] == "sent" and body["mode"] == "direct"
    assert "task_id" not in body  # nothing was sent
    result = body["result"]
    assert result["sum"] == x + y
    assert result["pid"] in stack.web_pids()
    assert result["pid"] != stack.worker().popen.pid
    assert shown(body)["The web process that answered this request"].startswith(
        f"pid {result['pid']} on "
    )
    assert "ordinary function call" in body["explain"]
    assert "the same process that is answering your click" in body["explain"]


def test_delay_answers_with_an_async_result_and_the_worker_does_the_adding(learner, stack):
    session = learner.session()
    reply = session.run("lesson1.delay", x=2, y=3)
    assert reply["type"] == "sent" and reply["mode"] == "task"
    task_id = reply["task_id"]
    show = shown(reply)
    assert show[".delay() returned"] == f"<AsyncResult: {task_id}>"
    sender = int(show["Sent by the web process"].split()[1])
    assert sender in stack.web_pids()

    events = session.lifecycle(task_id, LIFECYCLE)
    done = events["succeeded"]
    assert done["task_name"] == "sandbox_tasks.basics.add"
    assert done["fields"]["pid"] == stack.worker().popen.pid != sender
    assert done["fields"]["hostname"].startswith("lab@")

    # The result backend holds what the worker returned: the sum, and the worker's own pid.
    snapshot = session.sync(task_id)
    assert snapshot["tasks"][0]["result"] == {
        "sum": 5,
        "pid": stack.worker().popen.pid,
        "hostname": socket.gethostname(),
    }


def test_the_decorator_returned_a_registered_task_object(learner):
    body = learner.press("lesson1.inspect", {})
    assert body["type"] == "sent" and body["mode"] == "direct"
    transcript = shown(body)["Asking the task object about itself (in the web process)"]
    assert ">>> add\n<@task: sandbox_tasks.basics.add of web at 0x" in transcript
    assert ">>> add.name\n'sandbox_tasks.basics.add'" in transcript
    assert ">>> add.run\n<function add at 0x" in transcript
    assert "<bound method Task.delay of <@task: sandbox_tasks.basics.add" in transcript
    assert "<bound method Task.apply_async of <@task: sandbox_tasks.basics.add" in transcript
    assert ">>> isinstance(add, celery.Task)\nTrue" in transcript
    assert ">>> add.name in add.app.tasks\nTrue" in transcript
    assert "<class 'sandbox_tasks.basics.add'>" in transcript
    assert "FlaskTask'>\n<class 'celery.app.task.Task'>" in transcript
    assert "registered that instance" in body["explain"]


BAD_NUMBERS = [
    pytest.param({"x": 1001, "y": 3}, "x must be from -1000 to 1000", id="x-too-big"),
    pytest.param({"x": 2, "y": -1001}, "y must be from -1000 to 1000", id="y-too-small"),
    pytest.param({"x": "two", "y": 3}, "x must be a whole number", id="x-not-a-number"),
    pytest.param({"x": 2.5, "y": 3}, "x must be a whole number", id="x-fraction"),
    pytest.param({"x": True, "y": 3}, "x must be a whole number", id="x-boolean"),
    pytest.param({"x": [2], "y": 3}, "x must be a whole number", id="x-list"),
    pytest.param({"x": 2}, "y is missing", id="y-missing"),
    pytest.param({"x": 2, "y": 3, "z": 4}, "Unknown parameter 'z'", id="extra-parameter"),
    pytest.param([2, 3], "JSON object", id="array-body"),
]


@pytest.mark.parametrize("experiment", ["lesson1.direct", "lesson1.delay"])
@pytest.mark.parametrize(("body", "says"), BAD_NUMBERS)
def test_bad_numbers_get_a_400_that_says_why_and_nothing_is_sent(
    stack, learner, experiment, body, says
):
    who = learner_id(stack, learner, "lesson1.delay", {"x": 1, "y": 1})
    before = stack.redis().llen(keys.learner_tasks(who))
    reply = learner.press(experiment, body)
    assert reply["type"] == "error"
    assert says in reply["message"]
    assert stack.redis().llen(keys.learner_tasks(who)) == before
    assert learner.press(experiment, {"x": 2, "y": 3})["type"] == "sent"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        pytest.param({"x": 2}, "takes: nothing", id="a-parameter"),
        pytest.param("add", "JSON object", id="string-body"),
    ],
)
def test_inspecting_takes_no_parameters(learner, body, says):
    reply = learner.press("lesson1.inspect", body)
    assert reply["type"] == "error" and says in reply["message"]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        pytest.param({"x": 5000, "y": 3}, "x must be from -1000 to 1000", id="out-of-range"),
        pytest.param({"x": "2; import os", "y": 3}, "whole number", id="code-in-a-field"),
        pytest.param([2, 3], "JSON object", id="params-not-an-object"),
    ],
)
def test_bad_numbers_over_the_websocket_get_an_error_and_the_socket_stays_up(learner, params, says):
    session = learner.session()
    reply = session.run_with("lesson1.delay", params, ref=None)
    assert reply["type"] == "error" and says in reply["message"]
    assert session.run("lesson1.delay", x=2, y=3)["type"] == "sent"
