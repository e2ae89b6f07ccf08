"""Chapter 10's broken setups, run for real: each shows the error a developer would meet."""

from __future__ import annotations

import ast

import pytest

from tests.support.learners import by_state, shown
from tests.support.refusals import assert_refused_sending_nothing


def test_a_task_the_worker_never_imported_fails_as_not_registered(learner):
    session = learner.session()
    outcome = learner.press("lesson10.unimported", {})
    assert outcome["type"] == "sent"
    failed = session.final(outcome["task_id"])
    assert failed["fields"]["exception"] == "NotRegistered('sandbox_tasks.forgotten.send_welcome')"
    states = set(by_state(session.events(outcome["task_id"])))
    assert not states & {"received", "started"}, "the worker had no code to run"
    log = shown(outcome)["what the worker writes to its log (Celery's own message)"]
    assert log.startswith(
        "Received unregistered task of type 'sandbox_tasks.forgotten.send_welcome'"
    )
    assert "Did you remember to import the module containing this task?" in log


def test_without_a_result_backend_get_raises_while_the_task_still_runs(learner):
    session = learner.session()
    outcome = learner.press("lesson10.no_backend", {})
    assert outcome["type"] == "sent" and outcome["mode"] == "direct"
    values = shown(outcome)
    assert values["app.conf.result_backend"] == "None"
    assert values["result.backend"] == "celery.backends.base.DisabledBackend"
    assert values["result.get(timeout=5) raised"] == (
        "builtins.NotImplementedError: No result backend is configured.\n"
        "Please see the documentation for more information."
    )
    done = session.final(outcome["task_id"])
    assert done["state"] == "succeeded" and "'sum': 5" in done["fields"]["result"]


def test_ignore_result_get_returns_none_at_once_and_a_fresh_one_waits_in_vain(learner, stack):
    session = learner.session()
    outcome = learner.press("lesson10.ignore_result", {})
    assert outcome["type"] == "sent"
    values = shown(outcome)
    first = values["r = quiet_add.delay(2, 3); r.get(timeout=2)"]
    assert first.startswith("returned None after ")
    assert float(first.split(" after ")[1].split()[0]) < 200  # ms: it did not wait
    second = values["AsyncResult(r.id).get(timeout=2), as another request would"]
    assert "celery.exceptions.TimeoutError" in second
    assert float(second.split("after ")[1].split()[0]) >= 2.0
    assert values["AsyncResult(r.id).state, after that"] == "PENDING"
    assert session.final(outcome["task_id"])["state"] == "succeeded"
    assert stack.redis().get(f"celery-task-meta-{outcome['task_id']}") is None


def test_an_app_that_never_read_its_settings_tries_rabbitmq_on_localhost(learner):
    outcome = learner.press("lesson10.unconfigured", {})
    assert outcome["type"] == "sent" and "task_id" not in outcome
    values = shown(outcome)
    assert values["app.conf.broker_url"] == "None"
    assert values["the broker it will use instead"] == "amqp://guest:**@localhost:5672//"
    (connecting,) = [v for k, v in values.items() if k.startswith("connecting to it")]
    assert connecting == "kombu.exceptions.OperationalError: [Errno 111] Connection refused"
    printed = values["what a worker with this app prints, again and again"]
    assert printed.startswith(
        "consumer: Cannot connect to amqp://guest:**@localhost:5672//: [Errno 111] Connection "
        "refused."
    )
    assert "Trying again in 2.00 seconds... (1/100)" in printed


def test_get_inside_a_task_raises_runtime_error_on_the_worker(learner):
    session = learner.session()
    outcome = learner.press("lesson10.get_in_task", {})
    assert outcome["type"] == "sent"
    failed = session.final(outcome["task_id"])
    assert failed["state"] == "failed"
    assert failed["fields"]["exception"].startswith(
        "RuntimeError('Never call result.get() within a task!"
    )
    # The inner task was sent first, from the worker, and ran fine; its events reached us too.
    inner = session.final(outcome["inner_task_id"])
    assert inner["state"] == "succeeded" and "'sum': 5" in inner["fields"]["result"]


def test_a_queue_no_worker_consumes_leaves_the_task_pending_and_nothing_behind(learner, stack):
    outcome = learner.press("lesson10.unconsumed", {})
    assert outcome["type"] == "sent"
    values = shown(outcome)
    queue = values["what the button called"].split("queue=")[1].strip("')")
    assert values["result.state after 1 s"] == "PENDING"
    assert values[f"messages waiting in {queue!r} (LLEN)"] == 1
    consumed = values["queues each worker consumes (inspect active_queues)"]
    assert consumed and all(queue not in names for names in consumed.values())
    assert all("celery_lab" in names for names in consumed.values())
    # The button took its message away again: no key of that queue is left in Redis.
    assert not list(stack.redis().scan_iter(f"*{queue}*"))


def test_the_threads_pool_enforces_neither_time_limit(learner):
    session = learner.session()
    outcome = learner.press("lesson10.time_limits", {"seconds": 3})
    assert outcome["type"] == "sent"
    events = by_state(session.events(outcome["task_id"]))
    done = events["succeeded"]
    result = ast.literal_eval(done["fields"]["result"])  # events carry the result's repr
    assert result["interrupted"] is False and result["after"] >= 3.0
    # Past the hard limit too, and the worker's own runtime says so.
    assert done["fields"]["runtime"] >= 3.0


BAD_INPUT = [
    pytest.param("lesson10.time_limits", {"seconds": 2}, "from 3 to 6", id="too-short"),
    pytest.param("lesson10.time_limits", {"seconds": 600}, "from 3 to 6", id="too-long"),
    pytest.param("lesson10.time_limits", {}, "is missing", id="missing"),
    pytest.param("lesson10.unimported", {"name": "os.system"}, "Unknown parameter", id="name"),
    pytest.param("lesson10.no_backend", {"backend": "redis://"}, "Unknown parameter", id="url"),
    pytest.param("lesson10.unconfigured", {"broker": "amqp://x"}, "Unknown parameter", id="broker"),
    pytest.param("lesson10.get_in_task", [1, 2], "JSON object", id="not-an-object"),
    pytest.param("lesson10.unconsumed", {"queue": "celery_lab"}, "Unknown parameter", id="queue"),
    pytest.param("lesson10.ignore_result", {"timeout": 0}, "Unknown parameter", id="timeout"),
]


@pytest.mark.parametrize(("name", "params", "says"), BAD_INPUT)
def test_bad_input_is_refused_and_sends_nothing(stack, learner, name, params, says):
    assert_refused_sending_nothing(stack, learner, name, params, says)
