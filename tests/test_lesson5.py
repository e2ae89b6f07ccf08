"""Lesson 5's experiments against the real worker: what each returns, and what it refuses.

The stream itself (lifecycle order, countdown timing, who sees which events) is covered in
tests/test_stream.py; these tests cover what each button tells the learner.
"""

from __future__ import annotations

import time

import pytest

from tests.support.learners import Learner, shown
from tests.support.refusals import assert_refused_sending_nothing
from tests.support.stack import poll
from web.lessons.experiments.lesson5 import GET_GRACE_SECONDS
from web.live.workers import queue_depth


def test_a_direct_call_says_the_web_server_ran_it_and_shows_what_it_returned(learner):
    outcome = learner.press("lesson5.direct", {"seconds": 1})
    assert outcome["type"] == "sent" and outcome["mode"] == "direct" and "task_id" not in outcome
    assert shown(outcome)["slow_task(1) returned"] == outcome["result"]
    assert "the web server itself" in outcome["explain"]


def test_delay_answers_with_the_async_result_it_got_back(learner):
    outcome = learner.press("lesson5.delay", {"seconds": 1})
    assert outcome["type"] == "sent" and outcome["mode"] == "task"
    values = shown(outcome)
    assert values["slow_task.delay(1) returned"] == f"<AsyncResult: {outcome['task_id']}>"
    # Asked of the real backend at once: not started yet, or a worker already has it.
    assert values["result.state, asked at once"] in ("PENDING", "STARTED")
    assert values["result.state, asked at once"] in outcome["explain"]
    assert outcome["elapsed_ms"] < 1000


def test_delay_then_get_runs_on_the_worker_and_holds_the_request_until_it_is_done(learner, stack):
    session = learner.session()
    started = time.perf_counter()
    outcome = learner.press("lesson5.delay_get", {"seconds": 2})
    waited = time.perf_counter() - started
    assert outcome["type"] == "sent" and outcome["mode"] == "direct"
    assert waited >= 2.0 and outcome["elapsed_ms"] >= 2000
    worker_pid = stack.worker().popen.pid
    assert outcome["result"]["pid"] == worker_pid and outcome["result"]["slept"] == 2
    assert f"pid {worker_pid}" in outcome["explain"]
    # The same task's events streamed to the page while the request was waiting.
    events = session.events(outcome["task_id"])
    assert [e["state"] for e in events][-1] == "succeeded"
    assert {"sent", "received", "started", "progress"} <= {e["state"] for e in events}


def test_a_countdown_shows_the_call_it_made(learner):
    outcome = learner.press("lesson5.countdown", {"seconds": 1, "countdown": 2})
    assert outcome["type"] == "sent" and outcome["task_id"]
    assert shown(outcome)["what the button called"] == "slow_task.apply_async((1,), countdown=2)"
    assert "2 s ahead" in outcome["explain"]


BAD_INPUT = [
    pytest.param("lesson5.direct", {"seconds": 11}, "from 1 to 10", id="direct-too-long"),
    pytest.param("lesson5.direct", {"seconds": "3s"}, "whole number", id="direct-text"),
    pytest.param("lesson5.delay", {"seconds": 31}, "from 1 to 30", id="delay-too-long"),
    pytest.param("lesson5.delay_get", {"seconds": 0}, "from 1 to 10", id="get-zero"),
    pytest.param("lesson5.delay_get", {"seconds": 11}, "from 1 to 10", id="get-too-long"),
    pytest.param(
        "lesson5.delay_get", {"seconds": 1, "timeout": 0}, "Unknown parameter", id="get-own-timeout"
    ),
    pytest.param("lesson5.countdown", {"seconds": 1}, "Countdown is missing", id="no-countdown"),
    pytest.param(
        "lesson5.countdown",
        {"seconds": 1, "countdown": -5},
        "from 1 to 30",
        id="negative-countdown",
    ),
    pytest.param(
        "lesson5.countdown", {"seconds": 1, "countdown": 10**9}, "from 1 to 30", id="huge-countdown"
    ),
    pytest.param(
        "lesson5.countdown", {"seconds": 1, "countdown": None}, "whole number", id="null-countdown"
    ),
]


@pytest.mark.parametrize(("name", "params", "says"), BAD_INPUT)
def test_bad_input_is_refused_on_its_transport_and_sends_nothing(
    stack, learner, name, params, says
):
    assert_refused_sending_nothing(stack, learner, name, params, says)


def test_get_without_a_worker_times_out_and_leaves_the_task_queued(stack_without_worker):
    stack = stack_without_worker
    learner = Learner(stack.base_url)
    try:
        started = time.perf_counter()
        outcome = learner.press("lesson5.delay_get", {"seconds": 1})
        waited = time.perf_counter() - started
        limit = 1 + GET_GRACE_SECONDS
        assert outcome["type"] == "sent" and outcome["timed_out"] is True
        assert waited >= limit
        assert f".get(timeout={limit}) gave up" in outcome["explain"]
        assert "TimeoutError" in outcome["explain"]
        # Giving up waiting cancels nothing: the message is still in Redis for a worker.
        assert queue_depth(stack.redis()) == 1
        stack.start_worker(wait=False)
        meta = f"celery-task-meta-{outcome['task_id']}"
        poll(
            lambda: '"SUCCESS"' in (stack.redis().get(meta) or ""),
            30,
            message="the queued task to run once a worker starts",
        )
    finally:
        learner.close()


def test_pending_means_unknown_id_proved_against_the_real_worker_and_backend(learner, stack):
    session = learner.session()
    outcome = learner.press("lesson5.unknown_id", {"seconds": 1})
    assert outcome["type"] == "sent" and outcome["mode"] == "direct"
    # The real task ran on the worker, so the backend has a record: SUCCESS.
    assert outcome["result"]["real"] == "SUCCESS"
    assert [e["state"] for e in session.events(outcome["task_id"])][-1] == "succeeded"
    # An id never sent and a one-character typo of the real id: no record, so PENDING.
    assert outcome["result"]["never_sent"] == "PENDING"
    assert outcome["result"]["typo"] == "PENDING"
    labels = list(shown(outcome))
    assert outcome["task_id"] in labels[0] and outcome["task_id"] not in labels[2]
    assert "no record of this id" in outcome["explain"]
