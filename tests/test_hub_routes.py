"""Two web processes' hubs on one Redis: routes found in batches, admission released once.

Real Redis (the session's stack); each ``EventHub`` here stands for one web process.
"""

from __future__ import annotations

import time
import uuid

import pytest

from tests.support.events import event, route
from web import keys
from web.live.hub import EventHub


class CountingRedis:
    """The real Redis client, counting the commands the hub sends through it."""

    def __init__(self, client):
        self.client = client
        self.calls: list[str] = []

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self.client, name)


@pytest.fixture
def hubs(stack):
    made = []

    def make() -> EventHub:
        hub = EventHub(celery=None, redis_client=CountingRedis(stack.redis()), route_ttl=60)
        made.append(hub)
        return hub

    yield make
    for hub in made:
        hub.stop()


def counted(stack, task_id: str, learner: str) -> bool:
    score = stack.redis().zscore(keys.outstanding("learner", learner), task_id)
    return score is not None


def test_a_batch_of_another_process_s_tasks_is_routed_with_one_lookup(hubs):
    sender, other = hubs(), hubs()
    ids = [f"batch-{uuid.uuid4()}" for _ in range(5)]
    for task_id in ids:
        sender.remember_route(task_id, route("ana"))
    batch = [event("task-received", task_id) for task_id in ids]
    other.redis.calls.clear()
    other._prefetch_routes(batch)
    assert other.redis.calls == ["mget"]
    # Every event of the batch now finds its route without asking Redis again.
    assert [other._route_for(task_id)["learner"] for task_id in ids] == ["ana"] * 5
    assert other.redis.calls == ["mget"]
    # A task nobody routed is remembered as nobody's, and not asked for again either.
    other._prefetch_routes([event("task-received", "nobody-s-task")])
    assert other._route_for("nobody-s-task") is None
    assert other.redis.calls == ["mget", "mget"]


def test_only_the_process_that_sent_a_task_releases_its_admission(hubs, stack):
    sender, other = hubs(), hubs()
    task_id, learner = f"release-{uuid.uuid4()}", f"learner-{uuid.uuid4()}"
    sender.remember_route(task_id, route(learner))
    stack.redis().zadd(keys.outstanding("learner", learner), {task_id: time.time() + 60})
    succeeded = event("task-succeeded", task_id)
    other.dispatch(succeeded, route(learner))
    assert counted(stack, task_id, learner), "a process that did not send it leaves it be"
    sender.dispatch(succeeded, route(learner))
    assert not counted(stack, task_id, learner)


def test_a_corrupt_route_in_a_batch_is_logged_and_leaves_the_stream_running(hubs, stack):
    hub = hubs()
    task_id = f"corrupt-{uuid.uuid4()}"
    stack.redis().set(keys.route(task_id), "{not json")
    hub._prefetch_routes([event("task-received", task_id)])  # must not raise
    with pytest.raises(ValueError):
        hub._route_for(task_id)  # the event's own lookup, which _on_event guards


def test_a_batch_of_final_events_frees_every_slot_in_one_round_trip(hubs, stack):
    """The reader hands the hub events in batches (Redis): the batch's releases go together."""
    hub = hubs()
    learner = f"learner-{uuid.uuid4()}"
    ids = [f"batch-release-{uuid.uuid4()}" for _ in range(5)]
    for task_id in ids:
        hub.remember_route(task_id, route(learner))
        stack.redis().zadd(keys.outstanding("learner", learner), {task_id: time.time() + 60})
    hub._batches = True  # as its Redis reader sets it
    hub.redis.calls.clear()
    for task_id in ids:
        hub.dispatch(event("task-succeeded", task_id), route(learner))
    assert all(counted(stack, task_id, learner) for task_id in ids), "freed only after the batch"
    assert hub.redis.calls == []
    hub._release_batch()  # what the reader calls once the batch is processed
    assert hub.redis.calls == ["pipeline"]
    assert not any(counted(stack, task_id, learner) for task_id in ids)
