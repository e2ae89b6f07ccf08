"""Countdown tasks never run twice: the worker holds no more than it can start in time.

The visibility timeout is shortened to 12 s (it is 120 s by default): any message the worker
still held, unacknowledged, after 12 s would be handed out again by kombu and run twice.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from tests.support.learners import Learner
from tests.support.stack import poll

pytestmark = pytest.mark.timeout(180)

TASKS = 16


def test_countdown_tasks_waiting_for_a_busy_pool_are_not_delivered_twice(own_stack):
    stack = own_stack(
        CELERY_LAB_VISIBILITY_TIMEOUT=12,
        CELERY_LAB_RESTORE_INTERVAL=1,
        CELERY_LAB_MAX_TASKS_PER_LEARNER=100,
    )
    worker = stack.start_worker(concurrency=2)
    stack.web, base = stack.start_web()
    learner = Learner(base)
    task_ids = []
    for _ in range(TASKS):
        body = learner.press("lesson5.countdown", {"seconds": 2, "countdown": 2})
        assert body["type"] == "sent", body
        task_ids.append(body["task_id"])
    db = stack.redis()

    def finished() -> bool:
        raws = [db.get(f"celery-task-meta-{t}") for t in task_ids]
        return all(raw and json.loads(raw)["status"] == "SUCCESS" for raw in raws)

    # Two threads, sixteen two-second tasks: about 16 s, past the visibility timeout.
    poll(finished, 120, interval=0.5, message="every countdown task to finish")
    received = Counter(re.findall(r"slow_task\[([0-9a-f-]{36})\] received", worker.log()))
    assert set(received) == set(task_ids)
    twice = {t: n for t, n in received.items() if n > 1}
    assert twice == {}, f"{len(twice)} of {TASKS} tasks were delivered again"
    db.close()
    learner.close()
