"""The exercise checks judge hand-made run summaries: what really ran, never the code.

Each summary is shaped like ``playground.outcome.Summary.as_dict()``; the real runs are in
tests/test_playground_exercises.py.
"""

from __future__ import annotations

import random

import pytest

from playground.exercises import CHECKS, Trial, expected_shipping

BANNER = "-------------- learner@playground v5.7.0\n[tasks]\n  . tasks.{name}\n"


def task(name: str, state: str, result=None, exception=None, retries=0, kwargs="{}", at=100.0):
    events = [
        {
            "state": "sent",
            "timestamp": at - 1,
            "fields": {"name": f"tasks.{name}", "kwargs": kwargs},
        }
    ]
    events += [{"state": "retry", "timestamp": at - 0.5, "fields": {}}] * retries
    fields = {"result": result} if state == "succeeded" else {"exception": exception}
    events.append({"state": state, "timestamp": at, "fields": fields})
    out = {"task_id": "t1", "name": f"tasks.{name}", "state": state, "events": events}
    if state == "succeeded":
        out["result"] = result
    elif state == "failed":
        out["exception"] = exception
    return out


def run(name: str, *tasks, traceback=None, reason="done", registered=True, **extra) -> dict:
    return {
        "state": "finished" if reason == "done" else "failed",
        "reason": reason,
        "message": "",
        "banner": BANNER.format(name=name),
        "registered_tasks": [f"tasks.{name}"] if registered else [],
        "output": {"worker": [], "view": []},
        "view": {"exit": 1 if traceback else 0, "traceback": traceback},
        "tasks": list(tasks),
        **extra,
    }


def judge(check: str, inputs: dict, summary: dict, returned_at=None) -> dict:
    return CHECKS[check].judge(inputs, {**summary, "view_returned_at": returned_at})


ADD = {"x": 120, "y": 450}


def test_add_passes_only_with_this_runs_sum_from_the_worker():
    assert judge("add_on_worker", ADD, run("add", task("add", "succeeded", "570"))).passed
    wrong = judge("add_on_worker", ADD, run("add", task("add", "succeeded", "5")))
    assert not wrong.passed and "returned 5, not 120 + 450 = 570" in wrong.message


def test_add_called_directly_ran_in_the_view():
    verdict = judge("add_on_worker", ADD, run("add"))
    assert not verdict.passed
    assert "ran inside the view's own process" in verdict.message


def test_add_without_decorator_is_missing_from_the_worker():
    verdict = judge("add_on_worker", ADD, run("add", registered=False))
    assert "[tasks] list has no add" in verdict.message


def test_a_worker_that_never_started_says_why():
    summary = run("add", reason="worker_error")
    summary["banner"] = "Traceback...\nImportError: cannot import name 'x' (circular import)"
    verdict = judge("modules_without_circle", {"name": "Ada"}, summary)
    assert not verdict.passed and "import each other in a circle" in verdict.message


def test_the_greeting_must_be_this_runs():
    inputs = {"greeting": "Hej #1234", "name": "Ada"}
    good = run("greet", task("greet", "succeeded", "'Hej #1234, Ada!'"))
    assert judge("greeting_from_config", inputs, good).passed
    literal = run("greet", task("greet", "succeeded", "'Hello, Ada!'"))
    assert (
        "does not carry this run's GREETING"
        in judge("greeting_from_config", inputs, literal).message
    )
    no_context = run(
        "greet",
        task(
            "greet", "failed", exception="RuntimeError('Working outside of application context.')"
        ),
    )
    assert (
        "outside any Flask app context" in judge("greeting_from_config", inputs, no_context).message
    )


@pytest.mark.parametrize(
    ("summary", "passed", "says"),
    [
        (run("fetch", task("fetch", "succeeded", "'answer for t1'", retries=2)), True, "retried"),
        (
            run("fetch", task("fetch", "failed", exception="ConnectionError('busy')")),
            False,
            "no retry happened",
        ),
        (
            run("fetch", task("fetch", "failed", exception="ConnectionError('busy')", retries=1)),
            False,
            "retried 1 time(s) and then gave up",
        ),
        (
            run("fetch", task("fetch", "succeeded", "'answer for t1'", retries=1)),
            False,
            "retried only 1",
        ),
    ],
)
def test_retries_need_a_retry_then_success(summary, passed, says):
    verdict = judge("retry_with_backoff", {"fail_times": 2, "token": "t1"}, summary)
    assert verdict.passed is passed and says in verdict.message


def test_keyword_arguments_must_be_in_the_message():
    inputs = {"item": "kite", "quantity": 3}
    good = task(
        "order",
        "succeeded",
        "'3 x kite, gift-wrapped'",
        kwargs="{'quantity': 3, 'gift_wrap': True}",
    )
    assert judge("keyword_arguments", inputs, run("order", good)).passed
    positional = task("order", "succeeded", "'3 x kite, gift-wrapped'", kwargs="{}")
    verdict = judge("keyword_arguments", inputs, run("order", positional))
    assert not verdict.passed and "did not carry quantity, gift_wrap" in verdict.message


def test_the_view_must_return_before_the_task_ends():
    summary = run("build_report", task("build_report", "succeeded", "'report r1 is ready'", at=110))
    inputs = {"ref": "r1"}
    assert judge("view_returns_first", inputs, summary, returned_at=107.2).passed
    waited = judge("view_returns_first", inputs, summary, returned_at=110.3)
    assert not waited.passed and "The view waited for the task" in waited.message


def test_json_arguments_must_arrive_whole():
    inputs = {"name": "Ada", "ids": [9, 3, 7], "days": 42}
    assert expected_shipping(inputs) == "Ada, a customer for 42 days: shipping [3, 7, 9]"
    good = run("ship", task("ship", "succeeded", repr(expected_shipping(inputs))))
    assert judge("json_arguments", inputs, good).passed
    refused = run(
        "ship",
        traceback="Traceback...\nkombu.exceptions.EncodeError: Object of "
        "type set is not JSON serializable",
    )
    verdict = judge("json_arguments", inputs, refused)
    assert not verdict.passed and "JSON serializer refused" in verdict.message


def pool_banner(pool: str) -> str:
    return BANNER.format(name="crunch") + f"- ** ---------- .> concurrency: 2 ({pool})\n"


SOFT_LIMIT_LOG = (
    "[2026-12-01 21:00:01,000: ERROR/MainProcess] Soft time limit (1s) exceeded for "
    "tasks.crunch[t1]"
)


@pytest.mark.parametrize(
    ("result", "pool", "log", "passed", "says"),
    [
        ("'cut short: job-123'", "prefork", [SOFT_LIMIT_LOG], True, "The prefork pool signalled"),
        (
            "'ran to the end: job-123'",
            "thread",
            [],
            False,
            "The task ran all 3 s: the threads pool does not enforce soft time limits",
        ),
        # Another run's job, or the marker returned with no limit fired: not this run's outcome.
        ("'cut short: job-999'", "prefork", [SOFT_LIMIT_LOG], False, "not the cut-short answer"),
        ("'cut short: job-123'", "thread", [], False, "never logged that its soft time limit"),
    ],
)
def test_the_soft_limit_must_fire_inside_the_worker(result, pool, log, passed, says):
    summary = run("crunch", task("crunch", "succeeded", result), banner=pool_banner(pool))
    summary["output"]["worker"] = log
    verdict = judge("soft_time_limit_fires", {"job": "job-123"}, summary)
    assert verdict.passed is passed and says in verdict.message, verdict


def test_an_uncaught_soft_limit_that_fired_still_shows_it():
    failed = task("crunch", "failed", exception="SoftTimeLimitExceeded()")
    summary = run("crunch", failed, banner=pool_banner("prefork"))
    summary["output"]["worker"] = [SOFT_LIMIT_LOG]
    verdict = judge("soft_time_limit_fires", {"job": "job-123"}, summary)
    assert verdict.passed and "did not catch it" in verdict.message
    # Raised by the task itself, with no limit fired: a failure like any other.
    summary["output"]["worker"] = []
    verdict = judge("soft_time_limit_fires", {"job": "job-123"}, summary)
    assert not verdict.passed and "failed there" in verdict.message


def test_a_run_stopped_at_a_limit_says_so():
    summary = run("add", reason="wall_clock", message="The run took longer than 8 s.")
    verdict = judge("add_on_worker", ADD, summary)
    assert not verdict.passed and "stopped at a limit" in verdict.message


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_inputs_are_drawn_afresh_and_junk_never_passes(check):
    rng = random.Random(1)
    draws = [CHECKS[check].draw(rng) for _ in range(5)]
    assert len({repr(d) for d in draws}) > 1, "every run must get fresh inputs"
    trial = Trial("x", check, rng)
    for junk in ({}, {"tasks": [{"name": None}]}, {"tasks": "no", "banner": 3}):
        assert trial.judge(junk)["passed"] is False


def test_trial_notes_when_the_view_returned():
    trial = Trial("05-return-before-task", "view_returns_first", random.Random(2))
    seen = []
    watched = trial.watch(lambda report: seen.append(report) or None)
    watched({"k": "out", "stream": "view", "text": "hi"})
    assert trial.view_returned_at is None
    watched({"k": "view", "exit": 0, "traceback": None})
    assert trial.view_returned_at is not None and len(seen) == 2
