"""A learner opens lesson 1 in Chromium, commits to each prediction and presses every button."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.learner_page import commit, experiment, open_lesson

pytestmark = pytest.mark.browser

SLUG = "what-is-a-task"


def test_the_lesson_shows_the_real_task_and_hides_the_answer_until_you_commit(
    page: Page, base_url: str
):
    open_lesson(page, base_url, SLUG)
    expect(page.locator("h1")).to_have_text("What a task is")
    expect(page.locator(".source-path").first).to_have_text("sandbox_tasks/basics.py")
    source = page.locator(".highlight").filter(has_text="@shared_task").first
    expect(source).to_contain_text("def add(x: int, y: int) -> dict:")
    expect(experiment(page, "lesson1.direct")).to_be_hidden()
    commit(page, "lesson1-direct-call", "a")
    expect(experiment(page, "lesson1.direct")).to_be_visible()
    expect(experiment(page, "lesson1.delay")).to_be_hidden()


def test_direct_runs_in_the_web_server_delay_in_the_worker_and_add_is_a_task_object(
    page: Page, base_url: str
):
    open_lesson(page, base_url, SLUG)

    commit(page, "lesson1-direct-call", "a")
    direct = experiment(page, "lesson1.direct")
    direct.get_by_role("button").click()
    outcome = direct.locator(".outcome")
    expect(outcome).to_contain_text("add(2, 3) was an ordinary function call")
    expect(outcome).to_contain_text("the same process that is answering your click")
    expect(outcome).to_contain_text('"sum": 5')
    expect(page.locator(".task")).to_have_count(0)  # nothing was sent, so no task card

    commit(page, "lesson1-no-worker", "c")
    delay = experiment(page, "lesson1.delay")
    delay.locator("input[name=x]").fill("40")
    delay.locator("input[name=y]").fill("2")
    delay.get_by_role("button").click()
    outcome = delay.locator(".outcome")
    expect(outcome).to_contain_text("<AsyncResult: ")
    expect(outcome).to_contain_text("Nothing was added here")
    web_pid = re.search(r"pid (\d+) on", outcome.locator(".show-value").inner_text()).group(1)
    card = page.locator(".task").first
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15000)
    for state in ("sent", "received", "started", "succeeded"):
        expect(card.locator(f'.lifecycle [data-state="{state}"]')).to_have_class(re.compile("done"))
    expect(card.locator(".explain")).to_contain_text("'sum': 42")
    worker_pid = re.search(r"'pid': (\d+)", card.locator(".explain").inner_text()).group(1)
    assert worker_pid != web_pid

    commit(page, "lesson1-worker-finds-code", "a")
    inspect = experiment(page, "lesson1.inspect")
    inspect.get_by_role("button").click()
    transcript = inspect.locator(".outcome pre")
    expect(transcript).to_contain_text("<@task: sandbox_tasks.basics.add of web at 0x")
    expect(transcript).to_contain_text("<class 'celery.app.task.Task'>")
    expect(inspect.locator(".outcome")).to_contain_text("registered that instance")


def test_a_number_out_of_range_shows_the_servers_message(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit(page, "lesson1-direct-call", "a")
    direct = experiment(page, "lesson1.direct")
    direct.locator("input[name=x]").fill("5000")
    direct.get_by_role("button").click()
    expect(direct.get_by_role("alert")).to_contain_text("x must be from -1000 to 1000")


def test_a_refusal_that_passes_with_time_holds_the_button_and_counts_down(own_stack, page: Page):
    # No worker and room for one waiting message: the second press finds the lab busy, is told
    # when to try again (Retry-After), and the button waits that long, then works again.
    stack = own_stack(CELERY_LAB_MAX_QUEUED_TASKS=1)
    _, base = stack.start_web()
    open_lesson(page, base, SLUG)
    commit(page, "lesson1-direct-call", "a")
    commit(page, "lesson1-no-worker", "c")
    delay = experiment(page, "lesson1.delay")
    button = delay.get_by_role("button")
    button.click()
    expect(delay.locator(".outcome")).to_contain_text("<AsyncResult: ")
    button.click()
    expect(delay.get_by_role("alert")).to_contain_text("The lab is busy right now: try again in")
    expect(button).to_have_attribute("aria-disabled", "true")
    expect(delay.locator(".retry-wait")).to_have_text(re.compile(r"works again in \d+ s"))
    expect(delay.locator(".retry-wait")).to_have_count(0, timeout=10000)
    expect(button).not_to_have_attribute("aria-disabled", "true")


def test_the_event_log_lists_a_tasks_events_in_the_order_they_happened(page: Page, base_url: str):
    """By each event's own timestamp, except that a task's ``sent`` comes first: Celery
    publishes it just after the task's message, so the worker's ``received`` can be stamped,
    and reach the page, before it."""
    open_lesson(page, base_url, SLUG)
    commit(page, "lesson1-direct-call", "a")
    commit(page, "lesson1-no-worker", "c")
    experiment(page, "lesson1.delay").get_by_role("button").click()
    expect(page.locator(".task").first).to_have_attribute("data-state", "succeeded", timeout=15000)
    states = page.locator("#event-log li").evaluate_all("lis => lis.map(li => li.dataset.state)")
    assert states == ["sent", "received", "started", "succeeded"], states

    # The overtaking itself, handed to the page's own handler for socket messages: the
    # worker's received first, stamped 1 ms before the web stamped its sent; then a line of
    # another task's, stamped earlier than both, which goes before them.
    page.evaluate(
        """async () => {
            const lab = await import(document.querySelector('script[src*="/lab.js"]').src);
            const at = Date.now() / 1000, task_id = "overtaken-0000";
            const event = (state, timestamp) => ({type: "task", task_id, state, timestamp,
              experiment: "lesson1.delay", task_name: "sandbox_tasks.basics.add", fields: {}});
            lab.onTaskEvent(event("received", at));
            lab.onTaskEvent(event("sent", at + 0.001));
            lab.onTaskEvent({...event("succeeded", at - 0.5), task_id: "overtook-0000"});
        }"""
    )
    lines = page.locator("#event-log li", has_text="overt")
    expect(lines).to_have_count(3)
    listed = lines.evaluate_all("lis => lis.map(li => [li.dataset.task, li.dataset.state])")
    assert listed == [
        ["overtook-0000", "succeeded"],
        ["overtaken-0000", "sent"],
        ["overtaken-0000", "received"],
    ], listed
    # And its card does not say it was received before it was sent ("−1 ms").
    card = page.locator(".task", has=page.locator(".tid", has_text="overtake"))
    expect(card.locator('.lifecycle [data-state="received"] time')).to_have_text("+0 ms")
