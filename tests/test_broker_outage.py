"""Redis goes away for a few seconds while a task runs: the site comes back by itself.

Redis here is "outside" (the test starts it, as a user's own Redis would be), and the gap is a
real one: the worker's reconnect path (kombu's restore of unacknowledged messages) only runs
when Redis refuses connections for a while, which a restart with no gap never shows.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.support.learners import Learner
from tests.support.stack import poll

pytestmark = pytest.mark.timeout(180)

OUTAGE_SECONDS = 3


def test_a_task_running_through_a_redis_outage_finishes_and_the_site_recovers(own_stack):
    stack = own_stack()
    worker = stack.start_worker(concurrency=4)
    stack.web, base = stack.start_web()
    learner = Learner(base)
    session = learner.session()
    try:
        task_id = session.start("lesson5.delay", seconds=6)
        session.lifecycle(task_id, ["started"], timeout=15)

        stack.redis_process.stop()
        time.sleep(OUTAGE_SECONDS)  # the outage itself, not a wait for something to happen
        stack.start_redis()

        # The worker is still there, and the task finished (it was not lost).
        poll(
            lambda: (
                "Connected to redis" in worker.log().split("Connection to broker lost")[-1]
                or not worker.alive()
            ),
            60,
            message="the worker to reconnect",
        )
        assert worker.alive(), worker.log()[-3000:]
        db = stack.redis()

        def state() -> str | None:
            raw = db.get(f"celery-task-meta-{task_id}")  # the result backend's record
            return json.loads(raw)["status"] if raw else None

        poll(lambda: state() == "SUCCESS", 60, interval=0.2, message="the task to finish")
        db.close()
        # And the site works again: a new task goes round the whole path.
        newcomer = Learner(base)
        fresh = newcomer.session()
        again = fresh.start("lesson1.delay", x=2, y=3)
        assert fresh.final(again, timeout=60)["state"] == "succeeded"
        newcomer.close()
    finally:
        learner.close()
