"""Chapter 11 on the real worker: the result backend's own record, and who shares the work."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.support.learners import shown
from tests.support.refusals import assert_refused


def test_the_result_backend_keeps_one_expiring_record_per_task(learner, stack):
    outcome = learner.press("lesson11.result", {"x": 20, "y": 22})
    assert outcome["type"] == "sent" and outcome["mode"] == "direct"
    task_id = outcome["task_id"]
    values = shown(outcome)
    stored = values[f"GET celery-task-meta-{task_id}"]
    assert stored["status"] == "SUCCESS" and stored["result"]["sum"] == 42
    assert stored["task_id"] == task_id and stored["date_done"]
    ttl = int(values[f"TTL celery-task-meta-{task_id}"].split()[0])
    assert 23 * 3600 < ttl <= 24 * 3600
    # Reading the result did not remove it.
    assert stack.redis().exists(f"celery-task-meta-{task_id}")


def test_every_worker_on_the_broker_answers_with_its_queues(learner, stack):
    outcome = learner.press("lesson11.workers", {})
    assert outcome["type"] == "sent"
    (worker,) = shown(outcome)["workers that answered, and the queues they read"]
    assert worker["worker"].startswith("lab@") and worker["pid"] == stack.worker().popen.pid
    assert worker["queues"] == ["celery_lab"] and worker["concurrency"] == 16
    port = urlsplit(stack.url).port
    assert worker["broker"] == f"redis://127.0.0.1:{port}"
    assert "1 worker answered" in outcome["explain"]


@pytest.mark.parametrize(
    ("name", "params", "says"),
    [
        pytest.param("lesson11.result", {"x": 1001, "y": 1}, "from -1000 to 1000", id="big-x"),
        pytest.param("lesson11.result", {"x": 1, "y": "1e9"}, "whole number", id="float-y"),
        pytest.param("lesson11.result", {"x": 1}, "is missing", id="no-y"),
        pytest.param("lesson11.workers", {"host": "evil"}, "Unknown parameter", id="host"),
        pytest.param("lesson11.workers", "x" * 10, "JSON object", id="a-string"),
    ],
)
def test_bad_input_is_refused(learner, name, params, says):
    assert_refused(learner, name, params, says)
