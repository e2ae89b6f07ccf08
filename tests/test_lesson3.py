"""Lesson 3: no decorator means no .delay; a bound task sees self.request; retries back off."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest

import config
from tests.support.learners import Session, learner_id, shown
from tests.support.refusals import assert_refused_sending_nothing
from web import keys

# A retry story runs for up to ~11 s of backoff, on a machine other test runs share.
WAIT = 45


def learner_tasks(stack, learner) -> int:
    """How many tasks this learner has sent (a route names each one)."""
    who = learner_id(stack, learner, "lesson3.decorated", {"x": 1, "y": 1})
    return stack.redis().llen(keys.learner_tasks(who))


def test_delay_on_a_plain_function_raises_the_real_attribute_error_and_sends_nothing(
    learner, stack
):
    before = learner_tasks(stack, learner)
    body = learner.press("lesson3.undecorated", {"x": 2, "y": 3})
    assert body["type"] == "sent" and body["mode"] == "direct"
    assert "task_id" not in body
    show = shown(body)
    assert show["plain_add(2, 3) returned"] == 5
    assert show["plain_add.delay(2, 3) raised"] == (
        "AttributeError: 'function' object has no attribute 'delay'"
    )
    assert "no task card appeared" in body["explain"]
    assert learner_tasks(stack, learner) == before + 1  # only the helper's own task


def test_the_decorated_twin_runs_here_when_called_and_in_the_worker_when_delayed(learner, stack):
    session = learner.session()
    reply = session.run("lesson3.decorated", x=40, y=2)
    assert reply["type"] == "sent" and reply["task_id"]
    show = shown(reply)
    direct_label = next(label for label in show if "called directly" in label)
    assert show[direct_label] == 42
    assert int(direct_label.rsplit(" ", 1)[-1]) in stack.web_pids()
    made = show["What the decorator made of the function"]
    assert "name: sandbox_tasks.decorators.decorated_add" in made
    assert "\n  celery.app.task.Task" in made and "'delay'): True" in made
    assert "did not make it run in the background" in reply["explain"]
    done = session.final(reply["task_id"], timeout=WAIT)
    assert done["state"] == "succeeded" and done["fields"]["result"] == "42"
    assert done["fields"]["pid"] not in stack.web_pids()


def test_a_bound_task_returns_its_own_request_from_the_worker(learner, stack):
    session = learner.session()  # the same learner: the task's events stream here too
    body = learner.press("lesson3.request", {})
    assert body["type"] == "sent" and body["mode"] == "direct"
    show = shown(body)
    request = show["self.request in the worker (the task's return value)"]
    assert request["task"] == "sandbox_tasks.decorators.show_request"
    assert request["hostname"].startswith("lab@")
    assert request["retries"] == 0 and request["called_directly"] is False
    assert request["delivery_info"]["routing_key"] == config.QUEUE
    assert request["root_id"] == request["id"] and request["args"] == []
    route = json.loads(stack.redis().get(keys.route(request["id"])))
    assert route["experiment"] == "lesson3.request"
    direct = show["self.request when called directly, here in the web process"]
    assert "called_directly=True" in direct and "every other field is None" in direct
    done = session.final(request["id"], timeout=WAIT)
    assert done["state"] == "succeeded"
    assert done["fields"]["hostname"] == request["hostname"]


def retry_story(session: Session, failures: int, max_retries: int) -> dict:
    """Run the flaky task; return its retries' countdowns, errors, runs and final event."""
    reply = session.run("lesson3.retry", failures=failures, max_retries=max_retries)
    assert reply["type"] == "sent", reply
    events = session.events(reply["task_id"], timeout=WAIT)
    resent = {e["fields"]["retries"]: e for e in events if e["state"] == "sent"}
    return {
        "reply": reply,
        # The worker re-sends the task to retry it: retries + 1, and an ETA `countdown` ahead.
        "countdowns": [resent[n]["fields"]["countdown"] for n in sorted(resent) if n > 0],
        "resent_by": {resent[n]["source"] for n in resent if n > 0},
        "errors": [e["fields"]["exception"] for e in events if e["state"] == "retry"],
        "starts": sorted(e["timestamp"] for e in events if e["state"] == "started"),
        "final": session.final(reply["task_id"]),
    }


def assert_waits(story: dict, expected: list[int]) -> None:
    assert [round(c) for c in story["countdowns"]] == expected
    assert all(abs(c - w) < 0.5 for c, w in zip(story["countdowns"], expected, strict=True))
    gaps = [b - a for a, b in pairwise(story["starts"])]
    # Each run starts no sooner than its countdown after the one before (the point of backoff).
    assert all(gap >= wait - 0.1 for gap, wait in zip(gaps, expected, strict=True))


def test_two_failures_with_three_retries_allowed_wait_1_then_2_seconds_then_succeed(learner):
    story = retry_story(learner.session(), failures=2, max_retries=3)
    assert_waits(story, [1, 2])
    assert story["resent_by"] == {"worker"}
    assert [e.count("ServiceUnavailable('attempt") for e in story["errors"]] == [1, 1]
    assert "attempt 1:" in story["errors"][0] and "attempt 2:" in story["errors"][1]
    assert story["final"]["state"] == "succeeded"
    # The third run succeeded, under the same task id: self.request.retries counted to 2.
    assert story["final"]["fields"]["result"] == repr(
        {"task_id": story["reply"]["task_id"], "attempt": 3}
    )


def test_three_failures_with_two_retries_allowed_end_in_the_services_own_error(learner):
    story = retry_story(learner.session(), failures=3, max_retries=2)
    assert_waits(story, [1, 2])
    assert len(story["errors"]) == 2 and len(story["starts"]) == 3
    assert story["final"]["state"] == "failed"
    assert story["final"]["fields"]["exception"] == (
        "ServiceUnavailable('attempt 3: the service is down')"
    )


@pytest.mark.parametrize(
    ("failures", "max_retries", "waits", "outcome"),
    [
        pytest.param(0, 0, [], "succeeded", id="never-fails"),
        pytest.param(1, 0, [], "failed", id="no-retries-allowed"),
        pytest.param(5, 4, [1, 2, 4, 4], "failed", id="backoff-max-caps-the-wait"),
    ],
)
def test_the_retry_limits_and_the_backoff_cap(learner, failures, max_retries, waits, outcome):
    story = retry_story(learner.session(), failures=failures, max_retries=max_retries)
    assert_waits(story, waits)
    assert len(story["errors"]) == len(waits)
    assert story["final"]["state"] == outcome


def test_the_outcome_describes_the_policy_the_task_really_has(learner):
    body = learner.press("lesson3.retry", {"failures": 1, "max_retries": 4})
    assert body["type"] == "sent"
    policy = shown(body)["Its retry policy"]
    assert policy == {
        "autoretry_for": ["ServiceUnavailable"],
        "retry_backoff": 1,
        "retry_backoff_max": 4,
        "retry_jitter": False,
        "max_retries": 4,
    }
    assert "waiting 1 s, 2 s, 4 s, 4 s before each retry" in body["explain"]


BAD_INPUT = [
    pytest.param("lesson3.retry", {"failures": -1, "max_retries": 3}, "from 0 to 5", id="neg"),
    pytest.param("lesson3.retry", {"failures": 6, "max_retries": 3}, "from 0 to 5", id="many"),
    pytest.param("lesson3.retry", {"failures": 2, "max_retries": 5}, "from 0 to 4", id="max"),
    pytest.param("lesson3.retry", {"failures": 2, "max_retries": -1}, "from 0 to 4", id="neg-max"),
    pytest.param("lesson3.retry", {"failures": "two", "max_retries": 3}, "whole number", id="word"),
    pytest.param("lesson3.retry", {"failures": 1.5, "max_retries": 3}, "whole number", id="frac"),
    pytest.param("lesson3.retry", {"failures": True, "max_retries": 3}, "whole number", id="bool"),
    pytest.param("lesson3.retry", {"failures": 2}, "missing", id="missing"),
    pytest.param("lesson3.retry", [2, 3], "JSON object", id="array"),
    pytest.param("lesson3.undecorated", {"x": 1001, "y": 3}, "from -1000 to 1000", id="big-x"),
    pytest.param("lesson3.decorated", {"x": 2, "y": "3; import os"}, "whole number", id="code"),
    pytest.param("lesson3.request", {"id": "x"}, "Unknown parameter", id="request-param"),
]


@pytest.mark.parametrize(("experiment", "body", "says"), BAD_INPUT)
def test_bad_input_is_refused_on_its_transport_and_sends_nothing(
    learner, stack, experiment, body, says
):
    assert_refused_sending_nothing(stack, learner, experiment, body, says)
