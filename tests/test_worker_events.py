"""A task's own events (lesson 5's progress) go out in the worker's batches of task events.

Real Redis and worker (the session's stack); the events are read off Redis pub/sub, where
Celery's receivers and the site's hub read them.
"""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

from tests.support.stack import poll
from worker.consumer import task_events


def subscribed(stack):
    pubsub = stack.redis().pubsub()
    pubsub.psubscribe("/0.celeryev/*")
    assert pubsub.get_message(timeout=5)["type"] == "psubscribe"
    return pubsub


def read_events(pubsub, into: list) -> None:
    """(channel, event) for each event in each message that has arrived so far."""
    while (message := pubsub.get_message(timeout=0.1)) is not None:
        if message["type"] != "pmessage":
            continue
        body = json.loads(base64.b64decode(json.loads(message["data"])["body"]))
        for event in body if isinstance(body, list) else [body]:
            into.append((message["channel"].rsplit("/", 1)[-1], event))


def test_progress_joins_the_workers_batches_after_its_tasks_started_event(stack, learner):
    pubsub = subscribed(stack)
    task_id = learner.press("lesson5.delay", {"seconds": 1})["task_id"]
    seen: list = []

    def succeeded() -> bool:
        read_events(pubsub, seen)
        return any(e["type"] == "task-succeeded" and e.get("uuid") == task_id for _, e in seen)

    poll(succeeded, 20, message="the slow task's task-succeeded")
    pubsub.close()
    mine = [(channel, e["type"]) for channel, e in seen if e.get("uuid") == task_id]
    progress = [channel for channel, kind in mine if kind == "task-progress"]
    # Two reports a second (sandbox_tasks/timing.py), each in a batch, none on its own.
    assert len(progress) == 2 and set(progress) == {"task.multi"}, mine
    kinds = [kind for _, kind in mine]
    assert (
        kinds.index("task-started") < kinds.index("task-progress") < kinds.index("task-succeeded")
    )


def test_only_the_workers_own_tasks_borrow_its_dispatcher(app):
    """Another worker's name, no dispatcher yet (reconnecting), or no task events: Celery's way."""
    celery = app.extensions["celery"]
    with celery.connection_for_write() as conn:
        own = celery.events.Dispatcher(conn, hostname="lab@here", buffer_group=["task"])
        consumer = SimpleNamespace(hostname="lab@here", event_dispatcher=own)
        assert task_events(consumer, "lab@here") is own
        assert task_events(consumer, "lab@elsewhere") is None
        assert task_events(consumer, None) is None
        consumer.event_dispatcher = None
        assert task_events(consumer, "lab@here") is None
        consumer.event_dispatcher = celery.events.Dispatcher(
            conn, hostname="lab@here", groups=["worker"]
        )
        assert task_events(consumer, "lab@here") is None
        consumer.event_dispatcher.close()
        own.close()
