"""The instructor's controls act on the real worker, on a stack of this module's own.

Pausing and resizing a worker would upset every other test, so this module starts its own
Redis, web server and worker (tests/support/stack.py) and watches them the way the projector does:
through the projector socket's queue-depth samples, the worker panel and the class counters.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.support.classroom_people import Instructor, crowd, fetch, join
from tests.support.learners import Learner
from tests.support.stack import Stack, poll


@pytest.fixture(scope="module")
def own():
    """Redis and a web server; the worker comes later (the first test needs none)."""
    s = Stack()
    s.start_redis()
    s.web, s.base_url = s.start_web(threads=128)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def worker(own):
    return own.start_worker(name="pool", concurrency=4)


@pytest.fixture
def teacher(own):
    who = Instructor(own.base_url, own.instructor_token)
    yield who
    who.close()


@pytest.fixture
def code(teacher):
    return teacher.open_class()


class Screen:
    """What the projector socket has shown so far: depth samples, the panel, the counters."""

    def __init__(self, teacher: Instructor, code: str):
        self.ws = teacher.projector(code)
        hello = teacher.snapshot  # the socket's first message
        self.depths: list[int] = [d for _, d in hello["workers"]["depth"]]
        self.panel: dict | None = hello["workers"]["panel"]
        self.counters: dict = hello["counters"]

    def until(self, predicate, timeout: float = 30, what: str = "the projector"):
        def step():
            self.ws.settimeout(timeout)
            msg = json.loads(self.ws.recv())
            if msg["type"] == "workers":
                if msg.get("depth"):
                    self.depths.append(msg["depth"][1])
                if msg.get("panel"):
                    self.panel = msg["panel"]
            elif msg["type"] in ("counters", "class-tasks"):
                self.counters = msg["counters"]
            return predicate(self)

        return poll(step, timeout, interval=0, message=what)

    @property
    def worker(self) -> dict | None:
        workers = (self.panel or {}).get("workers") or []
        return workers[0] if workers else None


def control(teacher, code: str, action: str, body: dict | None = None) -> dict:
    status, reply = teacher.post(f"/api/classroom/{code}/{action}", body or {})
    assert status == 200, reply
    return reply


def test_with_no_worker_a_control_says_so_at_once(own, teacher, code):
    started = time.monotonic()
    status, reply = teacher.post(f"/api/classroom/{code}/pause", {})
    assert status == 503 and "No worker answered" in reply["message"]
    assert time.monotonic() - started < 5


def test_pause_lets_the_backlog_grow_in_the_queue_and_resume_drains_it(own, worker, teacher, code):
    screen = Screen(teacher, code)
    assert "no longer consuming" in control(teacher, code, "pause")["workers"][0]["message"]
    screen.until(lambda s: s.worker and s.worker["consuming"] is False, what="a paused worker")
    control(teacher, code, "burst", {"count": 12, "seconds": 1})
    # Every task waits in Redis, none inside the worker: the backlog is honest.
    screen.until(
        lambda s: s.depths[-1:] == [12] and s.counters.get("waiting") == 12,
        what="12 tasks waiting in the queue",
    )
    screen.until(
        lambda s: s.worker["active"] == 0 and s.worker["reserved"] == 0 and s.depths[-1] == 12,
        what="the paused worker to hold nothing",
    )
    resumed_at = len(screen.depths)
    control(teacher, code, "resume")
    screen.until(
        lambda s: s.depths[-1] == 0 and s.counters.get("succeeded") == 12,
        timeout=60,
        what="the queue to drain",
    )
    draining = screen.depths[resumed_at:]
    assert draining[0] >= 4 and draining == sorted(draining, reverse=True), draining


def test_the_pool_grows_and_shrinks_on_the_real_worker(own, worker, teacher, code):
    screen = Screen(teacher, code)
    reply = control(teacher, code, "pool", {"size": 2})
    assert "4 -> 2" in reply["workers"][0]["message"]
    screen.until(lambda s: s.worker and s.worker["concurrency"] == 2, what="a pool of 2")
    control(teacher, code, "burst", {"count": 8, "seconds": 4})
    screen.until(
        lambda s: s.counters.get("running") == 2 and s.counters.get("waiting") == 6,
        what="2 running and 6 waiting",
    )
    assert control(teacher, code, "pool", {"size": 2})["workers"][0]["message"] == "already 2"
    control(teacher, code, "pool", {"size": 8})
    screen.until(
        lambda s: s.counters.get("running") == 8 and s.counters.get("waiting") == 0,
        what="all 8 running after growing",
    )
    screen.until(
        lambda s: s.worker["concurrency"] == 8 and s.worker["pool"] == "threads",
        what="the worker to say 8 threads",
    )
    control(teacher, code, "pool", {"size": 4})
    screen.until(lambda s: s.worker["concurrency"] == 4, what="a pool of 4 again")


def test_purge_empties_the_queue_and_the_class_sees_the_tasks_purged(own, worker, teacher, code):
    screen = Screen(teacher, code)
    control(teacher, code, "pause")
    screen.until(lambda s: s.worker and s.worker["consuming"] is False, what="a paused worker")
    control(teacher, code, "burst", {"count": 5, "seconds": 1})
    screen.until(lambda s: s.depths[-1:] == [5], what="5 waiting")
    assert control(teacher, code, "purge", {"confirm": True})["purged"] == 5
    screen.until(
        lambda s: (
            s.depths[-1] == 0 and s.counters.get("purged") == 5 and s.counters.get("waiting") == 0
        ),
        what="an empty queue",
    )
    control(teacher, code, "resume")


def test_thirty_learners_press_at_once_and_the_projector_counts_every_task(
    own, worker, teacher, code
):
    seen = crowd(own.base_url, teacher, code, 30)
    assert seen["errors"] == []
    assert seen["counters"]["sent"] == 30 and seen["counters"]["succeeded"] == 30


def test_the_class_survives_a_restart_of_the_web_process(own, worker, teacher, code):
    ana = Learner(own.base_url)
    try:
        join(ana, code, "Ana")
        control(teacher, code, "lesson", {"lesson": "delay-vs-direct-call"})
        control(teacher, code, "reveal", {"question": "lesson5-direct-wait"})
        control(teacher, code, "burst", {"count": 2, "seconds": 1})
        poll(
            lambda: state(teacher, code)["counters"]["succeeded"] == 2,
            30,
            message="the burst to finish",
        )
        before = state(teacher, code)
        port = int(own.base_url.rsplit(":", 1)[1])
        own.web.stop()
        own.web, _ = own.start_web(threads=128, port=port)
        after = state(teacher, code)  # same cookie: still the instructor after the restart
        for part in ("class", "members", "counters", "events"):
            assert after[part] == before[part], part
        assert [q for q in after["questions"] if q["revealed"]] == [
            q for q in before["questions"] if q["revealed"]
        ]
        assert json.loads(fetch(ana, "/api/classroom/me")[1])["nickname"] == "Ana"
    finally:
        ana.close()


def state(teacher, code: str) -> dict:
    status, body = teacher.get(f"/api/classroom/{code}")
    assert status == 200, body
    return json.loads(body)


def test_with_redis_down_a_control_says_so_instead_of_hanging(own, worker, teacher, code):
    own.redis_process.stop()
    started = time.monotonic()
    status, reply = teacher.post(f"/api/classroom/{code}/pause", {})
    assert status == 503 and "Redis" in reply["message"], reply
    assert time.monotonic() - started < 10
