"""Abuse the site survives: a flooding learner, a nosy learner, a pickle pushed onto the queue.

(Foreign origins, oversized frames and malformed bodies are in test_bad_input.py; that the
embedded Redis listens on loopback only is in test_run.py.)
"""

from __future__ import annotations

import json
import os
import time

import pytest
from celery import uuid
from kombu import Connection, Exchange

from config import QUEUE
from tests.support.learners import Learner, receive_until
from tests.support.stack import poll

FLOOD_RATE = 100  # requests a second, from one learner
LIMIT = 20  # web/__init__.py RATE_LIMIT_PER_SECOND


@pytest.fixture
def mallory(stack):
    who = Learner(stack.base_url)
    yield who
    who.close()


@pytest.fixture
def alice(stack):
    who = Learner(stack.base_url)
    yield who
    who.close()


def paced(count: int, rate: float):
    """Yield 0..count-1 at ``rate`` a second: a steady flood, not a burst."""
    start = time.monotonic()
    for i in range(count):
        yield i
        ahead = start + (i + 1) / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)


def run_frame(ref: str) -> str:
    # Raw frames, not Session.run: the flood sends many before reading any reply.
    return json.dumps(
        {"action": "run", "experiment": "lesson1.delay", "params": {"x": 2, "y": 3}, "ref": ref}
    )


def seconds_spanned(started: float, ended: float) -> int:
    """How many rate-limit windows (whole clock seconds) a stretch of time touches."""
    return int(ended) - int(started) + 1


def test_a_learner_flooding_the_socket_is_limited_and_other_learners_are_not(mallory, alice):
    flood, calm = mallory.socket(), alice.socket()
    started = time.time()
    alice_refs = []
    for i in paced(150, FLOOD_RATE):
        flood.send(run_frame(f"m{i}"))
        if i in (50, 100):
            alice_refs.append(f"a{i}")
            calm.send(run_frame(alice_refs[-1]))
    answered: dict[str, dict] = {}

    def all_answered(m):
        if str(m.get("ref", "")).startswith("m"):
            answered[m["ref"]] = m
        return len(answered) == 150

    receive_until(flood, all_answered)
    ended = time.time()

    sent = [m for m in answered.values() if m["type"] == "sent"]
    limited = [m for m in answered.values() if m["type"] != "sent"]
    assert len(sent) + len(limited) == 150
    assert LIMIT <= len(sent) <= LIMIT * seconds_spanned(started, ended)
    # Each refusal says why: too many this second, or (when the worker falls behind, as on a
    # loaded machine) too many of this learner's tasks still waiting or running.
    why = {"rate_limited": "Slow down", "too_many_tasks": "still waiting or running"}
    assert all(m["error"] in why and why[m["error"]] in m["message"] for m in limited), limited
    # Alice pressed twice during the flood: both went through and both tasks finished.
    done: set[str] = set()
    mine: list[dict] = []

    def both_done(m):
        if m.get("ref") in alice_refs:
            mine.append(m)
        if m.get("type") == "task" and m["state"] == "succeeded":
            done.add(m["task_id"])
        return len(mine) == 2 and done >= {m.get("task_id") for m in mine}

    receive_until(calm, both_done)
    assert [m["type"] for m in mine] == ["sent", "sent"]


def test_a_learner_flooding_presses_is_refused_saying_why_and_other_learners_are_not(
    mallory, alice
):
    """Presses one at a time on the learner's socket, as their page sends them, each answered."""
    started = time.time()
    outcomes, alice_outcomes = [], []
    limited_reply = None
    for i in paced(100, FLOOD_RATE):
        reply = mallory.press("lesson1.delay", {"x": 2, "y": 3})
        outcomes.append(reply["type"] if reply["type"] == "sent" else reply["error"])
        if reply.get("error") == "rate_limited":
            limited_reply = reply
        if i % 25 == 0:
            alice_outcomes.append(alice.press("lesson1.delay", {"x": 1, "y": 1})["type"])
    ended = time.time()
    # Refused for the second's rate, and now and then (a worker that falls behind) for the
    # learner's unfinished tasks.
    assert {"sent", "rate_limited"} <= set(outcomes) <= {"sent", "rate_limited", "too_many_tasks"}
    assert LIMIT <= outcomes.count("sent") <= LIMIT * seconds_spanned(started, ended)
    assert "Slow down" in limited_reply["message"] and limited_reply["retry_after"] == 1
    assert alice_outcomes == ["sent"] * 4


def test_a_learner_cannot_follow_another_learners_task(stack, mallory, alice):
    alice_ws, mallory_ws = alice.session(), mallory.session()
    alices = alice_ws.start("lesson1.delay", x=2, y=3)
    mallorys = mallory_ws.start("lesson1.delay", x=2, y=3)

    refused = mallory_ws.sync(alices)
    assert refused["error"] == "not_your_task"
    assert refused["task_ids"] == [alices] and "not sent from this browser" in refused["message"]

    # Asking for one's own task and someone else's: one's own state, the other refused.
    snapshot = mallory_ws.sync(mallorys, alices)
    assert [t["task_id"] for t in snapshot["tasks"]] == [mallorys]
    assert snapshot["refused"] == [alices]

    status, reply = mallory.get_json(f"/api/tasks/{alices}")
    assert status == 404 and "not sent a task" in reply["message"]
    # ...and no event of Alice's task ever reached Mallory's socket.
    alice_ws.events(alices, until=("succeeded",))
    assert alices not in json.dumps(mallory_ws.ping())


class MakesADirectory:
    """Unpickling this calls os.mkdir: proof that the worker ran code from the message."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_a_pickled_message_pushed_onto_the_queue_is_refused_and_nothing_runs(
    stack, alice, tmp_path
):
    proof = tmp_path / "the-worker-unpickled-me"
    task_id = uuid()
    headers = {
        "lang": "py",
        "task": "sandbox_tasks.basics.add",
        "id": task_id,
        "root_id": task_id,
        "parent_id": None,
        "group": None,
        "retries": 0,
        "eta": None,
        "expires": None,
        "timelimit": [None, None],
        "argsrepr": "(…)",
        "kwargsrepr": "{}",
        "origin": "mallory",
    }
    body = ((MakesADirectory(str(proof)), 3), {}, {"callbacks": None, "errbacks": None})
    with Connection(stack.url) as connection:
        connection.Producer().publish(
            body,
            exchange=Exchange(QUEUE, "direct"),
            routing_key=QUEUE,
            serializer="pickle",
            headers=headers,
            delivery_mode=2,
        )
    worker = stack.worker()
    redis = stack.redis()

    def gone() -> bool:
        queued = redis.lrange(QUEUE, 0, -1) + redis.hvals("unacked")
        return all(task_id not in raw for raw in queued)

    poll(gone, 30, message="the worker to take the message off the queue")
    poll(lambda: task_id in worker.log(), 10, message="the worker to log the refusal")
    refusal = worker.log()[worker.log().index(task_id) - 2000 :]
    assert "Refusing to deserialize untrusted content of type pickle" in refusal
    assert not proof.exists()
    assert redis.get(f"celery-task-meta-{task_id}") is None
    assert worker.alive()
    # The worker carries on with honest work.
    session = alice.session()
    after = session.start("lesson1.delay", x=2, y=3)
    session.events(after, until=("succeeded",))
