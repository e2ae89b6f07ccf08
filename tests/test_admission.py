"""A client that drops its cookie is still one client: its work in the lab is bounded.

The stack trusts X-Forwarded-For from 127.0.0.1 (as behind the deployment guide's proxy), so
each test client can be a different address on loopback.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import websocket

from tests.support.learners import Learner, Session

pytestmark = pytest.mark.timeout(180)

FLOODER = "203.0.113.7"
NEIGHBOUR = "198.51.100.2"


@pytest.fixture
def proxied_stack(own_stack):
    stack = own_stack(
        CELERY_LAB_TRUSTED_PROXIES="127.0.0.1",
        CELERY_LAB_MAX_TASKS_PER_ADDRESS=20,
        CELERY_LAB_MAX_TASKS_PER_LEARNER=5,
    )
    stack.start_worker(concurrency=8)
    stack.web, stack.base_url = stack.start_web()
    return stack


def cookieless_press(base: str, address: str, seconds: int) -> tuple[int, dict, str | None]:
    """One POST with no cookie at all (so a new learner every time), from ``address``."""
    request = urllib.request.Request(
        f"{base}/api/experiments/lesson5.delay",
        data=json.dumps({"seconds": seconds}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Forwarded-For": address},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), None
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read()), exc.headers.get("Retry-After")


def test_a_cookieless_flood_is_bounded_and_a_neighbour_is_still_served(proxied_stack):
    base = proxied_stack.base_url
    answers: list[tuple[int, dict, str | None]] = []

    def flood():
        for _ in range(60):
            answers.append(cookieless_press(base, FLOODER, 5))

    threads = [threading.Thread(target=flood) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    sent = [a for a in answers if a[0] == 200]
    refused = [a for a in answers if a[0] != 200]
    assert len(answers) == 300
    # The address's bound held, whatever cookies the requests carried (none).
    assert len(sent) <= 20
    assert refused and all(status == 429 for status, _, _ in refused)
    status, body, retry_after = refused[0]
    assert body["error"] == "rate_limited" and "try again in" in body["message"]
    assert retry_after is not None and int(retry_after) >= 1

    # Someone else, at another address, presses and is served: their task does not wait
    # behind 300 five-second tasks.
    neighbour = Learner(base)
    try:
        ws = websocket.create_connection(
            base.replace("http", "ws") + "/ws",
            timeout=30,
            header=[f"Cookie: {neighbour.cookie}", f"X-Forwarded-For: {NEIGHBOUR}"],
            origin=base,
        )
        neighbour.sockets.append(ws)
        session = Session(ws)
        session.until(lambda m: m["type"] == "hello")
        task_id = session.start("lesson1.delay", x=2, y=3)
        assert session.final(task_id, timeout=20)["state"] == "succeeded"
    finally:
        neighbour.close()


def test_x_forwarded_for_is_ignored_unless_it_comes_from_a_trusted_proxy(own_stack):
    """Without the setting, a client cannot dodge its bound by inventing addresses."""
    stack = own_stack(CELERY_LAB_MAX_TASKS_PER_ADDRESS=3)
    stack.start_worker(concurrency=2)
    stack.web, base = stack.start_web()
    answers = [cookieless_press(base, f"10.0.0.{i}", 10) for i in range(8)]
    assert [status for status, _, _ in answers].count(200) == 3


def test_a_full_queue_says_the_lab_is_busy_and_when_to_try_again(own_stack):
    stack = own_stack(CELERY_LAB_MAX_QUEUED_TASKS=5)
    stack.web, base = stack.start_web()  # no worker: every task waits in the queue
    answers = [cookieless_press(base, "-", 2) for _ in range(8)]
    assert [status for status, _, _ in answers] == [200] * 5 + [503] * 3
    status, body, retry_after = answers[-1]
    assert body["error"] == "busy"
    assert body["message"].startswith("The lab is busy right now: try again in")
    assert int(retry_after) >= 1
    assert stack.redis().llen("celery_lab") == 5


def test_a_class_of_300_behind_one_address_is_never_refused_doing_the_lesson(own_stack):
    """The default limits, one address for everyone: a slow, a retrying and a fast task each."""
    stack = own_stack()
    stack.start_worker(concurrency=8)
    stack.web, base = stack.start_web(threads=256)
    with ThreadPoolExecutor(16) as pool:
        learners = list(pool.map(lambda _: Learner(base), range(300)))
    presses = [
        ("lesson5.delay", {"seconds": 3}),
        ("lesson3.retry", {"failures": 2, "max_retries": 3}),
        ("lesson1.delay", {"x": 2, "y": 3}),
    ]
    try:
        with ThreadPoolExecutor(16) as pool:
            statuses = list(
                pool.map(
                    lambda job: job[0].post(f"/api/experiments/{job[1][0]}", job[1][1])[0],
                    [(who, press) for press in presses for who in learners],
                )
            )
        assert statuses.count(200) == 900, {s: statuses.count(s) for s in set(statuses)}
    finally:
        for who in learners:
            who.close()
