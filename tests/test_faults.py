"""Faults the site survives: real processes killed, restarted and cut off while learners watch.

Each test starts its own Redis, workers and web servers (``tests.support.stack.Stack``), because it
kills or restarts them; the session's shared stack is never touched.
"""

from __future__ import annotations

import json
import re
import signal

import psutil
import pytest
from playwright.sync_api import Page, expect

from config import QUEUE
from tests.support.learner_page import reply_of
from tests.support.learners import Learner, events_of
from tests.support.stack import Stack, poll

LESSON5 = "/lessons/delay-vs-direct-call"


@pytest.fixture(scope="session")
def base_url():
    # Each page here goes to a stack of its own; the session's shared site is not needed.
    return None


def restart_redis(stack: Stack) -> None:
    """Stop redis-server (it writes its append-only file) and start it on the same port."""
    old = stack.redis_process
    old.stop()
    stack.processes.remove(old)
    stack.start_redis()


def web_subscriptions(stack: Stack, web) -> list[str]:
    """Redis client ids of the web process's pub/sub connections (its event stream)."""
    family = [psutil.Process(web.popen.pid), *psutil.Process(web.popen.pid).children(True)]
    ports = {
        c.laddr.port
        for p in family
        for c in p.net_connections("tcp")
        if c.raddr and c.raddr.port == stack.redis_port
    }
    return [
        c["id"]
        for c in stack.redis().client_list()
        if int(c["addr"].rsplit(":", 1)[1]) in ports and (int(c["psub"]) or int(c["sub"]))
    ]


def backend_state(stack: Stack, task_id: str) -> str | None:
    """The task's state in the result backend (it says STARTED while the task runs)."""
    meta = stack.redis().get(f"celery-task-meta-{task_id}")
    return json.loads(meta)["status"] if meta else None


def card(page: Page, task_id: str):
    return page.locator(f'.task[data-task-id="{task_id}"]')


def open_lesson(page: Page, base: str) -> None:
    page.goto(base + LESSON5)
    expect(page.locator("#conn")).to_have_text("live")
    # Set on this page load only: still there later means the page was never reloaded.
    page.evaluate("window.__sameLoad = true")
    reveal_delay_panel(page)


def delay_panel(page: Page):
    # The lesson's own panel, not a copy inside a question's "Prove it".
    return page.locator('section.experiment[data-experiment="lesson5.delay"]:not(.prove-panel *)')


def reveal_delay_panel(page: Page) -> None:
    """Open the lesson up to the .delay() button, as a learner who skips each prediction."""
    panel = delay_panel(page)
    for _ in range(10):
        if panel.is_visible():
            return
        question = page.locator(".quiz-question:has(.show-anyway:enabled:visible)").first
        question = page.locator("#" + question.get_attribute("id"))
        question.locator(".show-anyway").click()
        expect(question.locator(".verdict-body")).to_be_visible()
    expect(panel).to_be_visible()


def press_delay(page: Page, seconds: int) -> str:
    panel = delay_panel(page)
    panel.locator("input[name=seconds]").fill(str(seconds))
    return reply_of(panel, lambda: panel.get_by_role("button").click())["task_id"]


def still_the_same_page(page: Page) -> bool:
    return page.evaluate("window.__sameLoad === true")


# -- a worker killed mid-task ---------------------------------------------------------------


def test_a_task_whose_worker_is_sigkilled_is_redelivered_and_the_learner_sees_it(own_stack):
    # kombu puts an unacknowledged message back on the queue only once it is older than the
    # visibility timeout, when a worker starts and then every restore interval: short ones
    # here, so the test takes seconds rather than the production two minutes.
    stack = own_stack(CELERY_LAB_VISIBILITY_TIMEOUT=4, CELERY_LAB_RESTORE_INTERVAL=1)
    first = stack.start_worker("first", concurrency=4)
    _, base = stack.start_web()
    learner = Learner(base)
    try:
        ws = learner.session()
        task_id = ws.start("lesson5.delay", seconds=2)
        ws.until(lambda m: m.get("task_id") == task_id and m["state"] == "progress")
        delivered = next(e for e in events_of(ws.seen, task_id) if e["state"] == "received")
        assert delivered["fields"]["hostname"].startswith("first@")

        first.signal(signal.SIGKILL)
        first.popen.wait(10)
        # Never acknowledged (acks_late): the message is still in Redis, not lost with the worker.
        assert any(task_id in raw for raw in stack.redis().hvals("unacked"))
        killed = len(ws.seen)

        stack.start_worker("second", concurrency=4)
        ws.events(task_id, timeout=45)
        after = events_of(ws.seen[killed:], task_id)
        # The learner sees the task received and started again, by the other worker.
        assert [e["state"] for e in after if e["state"] != "progress"] == [
            "received",
            "started",
            "succeeded",
        ]
        assert {e["fields"]["hostname"].split("@")[0] for e in after} == {"second"}
        # Redelivered by the visibility timeout, measured from the first delivery.
        assert after[0]["timestamp"] - delivered["timestamp"] >= 4 - 0.5
        snapshot = ws.sync(task_id)
        assert snapshot["tasks"][0]["state"] == "succeeded"
        assert snapshot["tasks"][0]["result"]["slept"] == 2
        assert stack.redis().hlen("unacked") == 0
    finally:
        learner.close()


# -- Redis restarted --------------------------------------------------------------------------


@pytest.mark.browser
def test_a_redis_restart_with_tasks_queued_and_running_recovers_the_open_page(
    own_stack, page: Page
):
    stack = own_stack()
    stack.start_worker(concurrency=2)
    _, base = stack.start_web()
    open_lesson(page, base)
    status = page.request.post(base + "/api/progress/read", data={"lesson": "delay-vs-direct-call"})
    assert status.ok

    sent = [press_delay(page, 3) for _ in range(4)]
    # Two run (the worker has two threads); two wait in the queue.
    poll(lambda: stack.redis().llen(QUEUE) == 2, 15, message="two tasks to wait in the queue")
    queued = [json.loads(raw)["headers"]["id"] for raw in stack.redis().lrange(QUEUE, 0, -1)]
    running = [t for t in sent if t not in queued]
    for task_id in running:
        expect(card(page, task_id)).to_have_attribute("data-state", re.compile("started|progress"))

    restart_redis(stack)

    # The queued tasks were kept (append-only file) and run; the running ones end, too:
    # nothing is left at "started" on the page.
    for task_id in queued:
        expect(card(page, task_id)).to_have_attribute("data-state", "succeeded", timeout=60_000)
    for task_id in running:
        expect(card(page, task_id)).to_have_attribute(
            "data-state", re.compile("succeeded|failed"), timeout=60_000
        )
    # The stream itself is back: a new task's progress arrives as events, live.
    fresh = press_delay(page, 1)
    expect(card(page, fresh)).to_have_attribute("data-state", "succeeded", timeout=30_000)
    expect(page.get_by_role("log")).to_contain_text(f"{fresh[:8]}  progress")
    expect(card(page, fresh).locator(".explain")).not_to_contain_text("result backend")
    assert still_the_same_page(page)
    progress = page.request.get(base + "/api/progress").json()
    assert any(row["slug"] == "delay-vs-direct-call" and row["read"] for row in progress["lessons"])


# -- the event stream cut off ------------------------------------------------------------------


@pytest.mark.browser
def test_a_task_that_ends_while_the_event_stream_is_cut_still_shows_its_final_state(
    own_stack, page: Page
):
    stack = own_stack()
    stack.start_worker()
    web, base = stack.start_web()
    open_lesson(page, base)
    task_id = press_delay(page, 2)
    expect(card(page, task_id)).to_have_attribute("data-state", re.compile("started|progress"))

    # Cut the web's event subscription and refuse it a new one until the task has ended, so
    # task-succeeded is certainly lost: broadcast events are never stored.
    admin = stack.redis()
    admin.acl_setuser("default", enabled=True, commands=["-psubscribe", "-subscribe"])
    try:
        for client_id in web_subscriptions(stack, web):
            admin.client_kill_filter(_id=client_id)
        poll(lambda: backend_state(stack, task_id) == "SUCCESS", 15, message="the task to end")
        assert web_subscriptions(stack, web) == []
        expect(card(page, task_id)).not_to_have_attribute("data-state", "succeeded")
    finally:
        admin.acl_setuser("default", enabled=True, commands=["+@all"])

    # The page asks the result backend about tasks that went quiet, and shows the truth.
    expect(card(page, task_id)).to_have_attribute("data-state", "succeeded", timeout=20_000)
    expect(card(page, task_id).locator(".explain")).to_contain_text("result backend")
    # ...and the stream resumes: the next task streams its events live again.
    poll(lambda: web_subscriptions(stack, web), 15, message="the web to subscribe again")
    fresh = press_delay(page, 1)
    expect(card(page, fresh)).to_have_attribute("data-state", "succeeded", timeout=20_000)
    expect(card(page, fresh).locator(".explain")).not_to_contain_text("result backend")
    assert still_the_same_page(page)


# -- the web process restarted -----------------------------------------------------------------


@pytest.mark.browser
def test_after_a_web_restart_the_page_reconnects_by_itself_and_shows_current_states(
    own_stack, page: Page
):
    stack = own_stack()
    stack.start_worker()
    web, base = stack.start_web()
    port = int(base.rsplit(":", 1)[1])
    open_lesson(page, base)
    task_id = press_delay(page, 2)
    expect(card(page, task_id)).to_have_attribute("data-state", re.compile("started|progress"))

    web.stop()
    stack.processes.remove(web)
    expect(page.locator("#conn")).to_have_text("reconnecting…")
    # The task ends while no web process is there to pass its events on.
    poll(lambda: backend_state(stack, task_id) == "SUCCESS", 15, message="the task to end")
    stack.start_web(port=port)

    expect(page.locator("#conn")).to_have_text("live", timeout=20_000)
    expect(card(page, task_id)).to_have_attribute("data-state", "succeeded", timeout=20_000)
    assert still_the_same_page(page)


# -- two web processes, two workers ------------------------------------------------------------


def test_with_two_webs_and_two_workers_every_event_reaches_the_learner_who_sent_it(own_stack):
    stack = own_stack()
    stack.start_worker("left", concurrency=2)
    stack.start_worker("right", concurrency=2)
    _, web_a = stack.start_web()
    _, web_b = stack.start_web()
    alice, bob = Learner(web_a), Learner(web_a)
    try:
        # Alice presses buttons on web A but also has a page open on web B; Bob watches both.
        alice_a = alice.session()
        alice.base_url = web_b
        alice_b = alice.session()
        bob_a = bob.session()
        bob.base_url = web_b
        bob_b = bob.session()
        sent = [alice_a.start("lesson5.delay", seconds=1) for _ in range(6)]

        for ws in (alice_a, alice_b):
            for task_id in sent:
                ws.events(task_id, until=("succeeded",), timeout=45)
            for task_id in sent:
                states = {e["state"] for e in events_of(ws.seen, task_id)}
                assert {"sent", "received", "started", "succeeded"} <= states, (task_id, states)
            assert ws.task_ids() == set(sent)
        # Both workers took a share: the events came from two processes on their way back.
        hosts = {
            m["fields"]["hostname"].split("@")[0]
            for m in alice_b.seen
            if m.get("type") == "task" and m["state"] == "started"
        }
        assert hosts == {"left", "right"}

        # Bob never receives any of Alice's events, on either process.
        for ws in (bob_a, bob_b):
            ws.ping()
            assert ws.task_ids() == set()
    finally:
        alice.close()
        bob.close()
