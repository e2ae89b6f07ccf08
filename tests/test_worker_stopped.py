"""Nothing is faked: with no worker running, a task waits in the queue until one starts."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from tests.conftest import Learner, receive_until
from tests.stack import Stack, poll
from web.workers import queue_depth


@pytest.fixture
def stack_without_worker():
    stack = Stack()
    stack.start_redis()
    stack.web, stack.base_url = stack.start_web()
    yield stack
    stack.stop()
    shutil.rmtree(stack.dir, ignore_errors=True)


def test_a_sent_task_waits_in_the_queue_and_runs_once_a_worker_starts(stack_without_worker):
    stack = stack_without_worker
    learner = Learner(stack.base_url)
    try:
        ws = learner.socket()
        ws.send(
            json.dumps({"action": "run", "experiment": "lesson5.delay", "params": {"seconds": 1}})
        )
        task_id = receive_until(ws, lambda m: m["type"] == "sent")[-1]["task_id"]
        # The message really is in Redis, waiting: no worker has taken it.
        poll(lambda: queue_depth(stack.redis()) == 1, 10, message="the task to be queued")

        worker_started = time.time()
        stack.start_worker(wait=False)
        events = receive_until(
            ws, lambda m: m.get("task_id") == task_id and m.get("state") == "succeeded", timeout=60
        )
        states = [m["state"] for m in events if m.get("type") == "task"]
        assert "received" in states and "started" in states
        received = next(m for m in events if m.get("state") == "received")
        assert received["timestamp"] >= worker_started
        assert queue_depth(stack.redis()) == 0
    finally:
        learner.close()
