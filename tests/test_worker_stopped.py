"""Nothing is faked: with no worker running, a task waits in the queue until one starts."""

from __future__ import annotations

import time

from tests.support.learners import Learner
from tests.support.stack import poll
from web.live.workers import queue_depth


def test_a_sent_task_waits_in_the_queue_and_runs_once_a_worker_starts(stack_without_worker):
    stack = stack_without_worker
    learner = Learner(stack.base_url)
    try:
        session = learner.session()
        task_id = session.start("lesson5.delay", seconds=1)
        # The message really is in Redis, waiting: no worker has taken it.
        poll(lambda: queue_depth(stack.redis()) == 1, 10, message="the task to be queued")

        worker_started = time.time()
        stack.start_worker(wait=False)
        events = session.events(task_id, until=("succeeded",), timeout=60)
        states = [m["state"] for m in events]
        assert "received" in states and "started" in states
        received = next(m for m in events if m.get("state") == "received")
        assert received["timestamp"] >= worker_started
        assert queue_depth(stack.redis()) == 0
    finally:
        learner.close()
