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
from web import keys

pytestmark = pytest.mark.timeout(180)

FLOODER = "203.0.113.7"
NEIGHBOUR = "198.51.100.2"


def behind_a_proxy(own_stack, per_learner: int, per_address: int, concurrency: int):
    """A site of its own that trusts loopback as its proxy, with these bounds on tasks."""
    stack = own_stack(
        CELERY_LAB_TRUSTED_PROXIES="127.0.0.1",
        CELERY_LAB_MAX_TASKS_PER_ADDRESS=per_address,
        CELERY_LAB_MAX_TASKS_PER_LEARNER=per_learner,
    )
    stack.start_worker(concurrency=concurrency)
    stack.web, stack.base_url = stack.start_web()
    return stack


@pytest.fixture
def proxied_stack(own_stack):
    return behind_a_proxy(own_stack, per_learner=5, per_address=20, concurrency=8)


def session_from(base: str, address: str, cookie: str = "") -> Session:
    """A socket from ``address`` (with ``cookie``, or none: a new learner), past its hello."""
    header = [f"X-Forwarded-For: {address}"] + ([f"Cookie: {cookie}"] if cookie else [])
    ws = websocket.create_connection(
        base.replace("http", "ws") + "/ws", timeout=30, header=header, origin=base
    )
    session = Session(ws)
    session.until(lambda m: m["type"] == "hello")
    return session


def cookieless_press(base: str, address: str, seconds: int) -> dict:
    """One press on a socket with no cookie at all (so a new learner every time), from
    ``address``, as a page sends it; return the runner's reply."""
    session = session_from(base, address)
    try:
        return session.run_with("lesson5.delay", {"seconds": seconds})
    finally:
        session.ws.close(timeout=1)
        session.ws.shutdown()


def direct_call_from(base: str, address: str, cookie: str = "") -> tuple[int, dict, str | None]:
    """POST lesson 5's ``.delay().get()`` (a direct call that sends a task) from ``address``;
    return the status, the JSON body and the Retry-After header."""
    request = urllib.request.Request(
        base + "/api/experiments/lesson5.delay_get",
        data=json.dumps({"seconds": 1}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Forwarded-For": address}
        | ({"Cookie": cookie} if cookie else {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), None
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read()), exc.headers.get("Retry-After")


def test_a_cookieless_flood_is_bounded_and_a_neighbour_is_still_served(proxied_stack):
    base = proxied_stack.base_url
    answers: list[dict] = []

    def flood():
        for _ in range(60):
            answers.append(cookieless_press(base, FLOODER, 5))

    threads = [threading.Thread(target=flood) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    sent = [a for a in answers if a["type"] == "sent"]
    refused = [a for a in answers if a["type"] != "sent"]
    assert len(answers) == 300
    # The address's bound held, whatever cookies the requests carried (none).
    assert len(sent) <= 20
    assert refused and all(a["error"] == "network_too_many_tasks" for a in refused)
    body = refused[0]
    assert "try again in" in body["message"]
    assert body["retry_after"] is not None and int(body["retry_after"]) >= 1

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


def test_the_learner_bound_and_the_address_bound_each_answer_with_their_own_code(own_stack):
    """Too many of this browser's tasks and too many of this network's, on both transports."""
    stack = behind_a_proxy(own_stack, per_learner=2, per_address=3, concurrency=4)
    base = stack.base_url
    learner = Learner(base)
    session = session_from(base, FLOODER, learner.cookie)
    learner.sockets.append(session.ws)
    try:
        # Twenty-second tasks: all still running while the test presses on.
        replies = [session.run_with("lesson5.delay", {"seconds": 20}) for _ in range(3)]
        assert [r["type"] for r in replies] == ["sent", "sent", "error"], replies
        mine = replies[-1]
        assert mine["error"] == "too_many_tasks", mine
        assert mine["message"].startswith("2 tasks from this browser are still waiting")
        assert int(mine["retry_after"]) >= 1
        status, body, retry_after = direct_call_from(base, FLOODER, learner.cookie)
        assert (status, body["error"]) == (429, "too_many_tasks"), body
        assert retry_after == str(body["retry_after"])

        # Another learner on the same network takes the address's third place, and then
        # nobody there may send more, on the socket or over HTTP.
        assert cookieless_press(base, FLOODER, 20)["type"] == "sent"
        theirs = cookieless_press(base, FLOODER, 20)
        assert theirs["error"] == "network_too_many_tasks", theirs
        assert theirs["message"].startswith("3 tasks from your network are still waiting")
        assert int(theirs["retry_after"]) >= 1
        status, body, retry_after = direct_call_from(base, FLOODER)
        assert (status, body["error"]) == (429, "network_too_many_tasks"), body
        assert retry_after == str(body["retry_after"])

        # Another network is not held by either bound.
        assert cookieless_press(base, NEIGHBOUR, 1)["type"] == "sent"
    finally:
        learner.close()


def test_x_forwarded_for_is_ignored_unless_it_comes_from_a_trusted_proxy(own_stack):
    """Without the setting, a client cannot dodge its bound by inventing addresses."""
    stack = own_stack(CELERY_LAB_MAX_TASKS_PER_ADDRESS=3)
    stack.start_worker(concurrency=2)
    stack.web, base = stack.start_web()
    answers = [cookieless_press(base, f"10.0.0.{i}", 10) for i in range(8)]
    assert [a["type"] for a in answers].count("sent") == 3


def test_a_full_queue_says_the_lab_is_busy_and_when_to_try_again(own_stack):
    stack = own_stack(CELERY_LAB_MAX_QUEUED_TASKS=5)
    stack.web, base = stack.start_web()  # no worker: every task waits in the queue
    answers = [cookieless_press(base, "-", 2) for _ in range(8)]
    assert [a["type"] for a in answers] == ["sent"] * 5 + ["error"] * 3
    body = answers[-1]
    assert body["error"] == "busy"
    assert body["message"].startswith("The lab is busy right now: try again in")
    assert int(body["retry_after"]) >= 1
    assert stack.redis().llen("celery_lab") == 5
    # Admission writes the route of an admitted task only (web/safety/admission.py): the
    # refused presses left nothing behind to route.
    assert len(stack.redis().keys(keys.route("*"))) == 5


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

        def one_learner(who: Learner) -> list[str]:
            # Each learner's three presses on their socket, which then closes: a socket holds a
            # web thread, and 300 at once would be more than the 256 threads.
            replies = [who.press(name, params) for name, params in presses]
            who.close()
            return [r["type"] if r["type"] == "sent" else r["error"] for r in replies]

        with ThreadPoolExecutor(16) as pool:
            outcomes = [o for replies in pool.map(one_learner, learners) for o in replies]
        assert outcomes.count("sent") == 900, {o: outcomes.count(o) for o in set(outcomes)}
    finally:
        for who in learners:
            who.close()


def test_a_learners_canvases_are_bounded_like_their_tasks_and_a_refused_one_sends_nothing(
    proxied_stack,
):
    """Each chain holds one of the learner's slots (5 here) until its last step has ended."""
    stack = proxied_stack
    learner = Learner(stack.base_url)
    try:
        session = learner.session()
        chain = {"steps": 4, "durations": "2-2-2-2", "fail": "none"}
        held = [session.run_with("lesson8.chain", chain, ref=f"c{i}") for i in range(5)]
        assert [reply["type"] for reply in held] == ["sent"] * 5, held
        me = json.loads(stack.redis().get(keys.route(held[0]["task_id"])))["learner"]
        routed = stack.redis().llen(keys.learner_tasks(me))
        refused = session.run_with("lesson8.chain", chain, ref="over")
        assert refused["type"] == "error" and refused["error"] == "too_many_tasks", refused
        assert refused["retry_after"] >= 1 and "still waiting or running" in refused["message"]
        assert stack.redis().llen(keys.learner_tasks(me)) == routed, (
            "the refused chain sent nothing"
        )
        # A chain's last step ending frees its slot: the learner may build the next one.
        session.final(held[0]["task_id"], timeout=60)
        assert session.run_with("lesson8.chain", chain, ref="next")["type"] == "sent"
    finally:
        learner.close()
