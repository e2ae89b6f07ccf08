"""A learner opens lesson 3 in Chromium, commits to each prediction and presses every button."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.learner_page import card, commit_all, experiment, open_lesson, press

pytestmark = pytest.mark.browser

SLUG = "the-task-decorator"

# The lesson's predictions in page order, with the right answer to each.
PREDICTIONS = [
    ("lesson3-without-decorator", "c"),
    ("lesson3-ignore-result", "a"),
    ("lesson3-backoff", "a"),
    ("lesson3-give-up", "d"),
]


def test_the_real_source_is_shown_and_the_rest_waits_for_your_answer(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    expect(page.locator("h1")).to_have_text("The task decorator")
    expect(experiment(page, "lesson3.undecorated")).to_be_hidden()
    commit_all(page, PREDICTIONS)
    plain = page.locator(".highlight").filter(has_text="def plain_add").first
    expect(plain).to_contain_text("return x + y")
    expect(page.locator(".highlight").filter(has_text="def flaky_task").first).to_contain_text(
        "retry_backoff_max=4"
    )


def test_delay_on_a_plain_function_fails_and_the_decorated_one_runs_on_a_worker(
    page: Page, base_url: str
):
    open_lesson(page, base_url, SLUG)
    commit_all(page, PREDICTIONS)
    press(page, "lesson3.undecorated", x=2, y=3)
    outcome = experiment(page, "lesson3.undecorated").locator(".outcome")
    expect(outcome).to_contain_text("AttributeError: 'function' object has no attribute 'delay'")
    expect(outcome).to_contain_text("Nothing went to Redis")
    expect(page.locator(".task")).to_have_count(0)

    task_id = press(page, "lesson3.decorated", x=40, y=2)
    outcome = experiment(page, "lesson3.decorated").locator(".outcome")
    expect(outcome).to_contain_text("did not make it run in the background")
    expect(outcome).to_contain_text("sandbox_tasks.decorators.decorated_add")
    expect(outcome).to_contain_text("celery.app.task.Task")
    expect(outcome).to_contain_text("hasattr(decorated_add, 'delay'): True")
    expect(card(page, task_id)).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(card(page, task_id).locator(".explain")).to_contain_text("The worker returned 42")


def test_a_bound_task_shows_its_request_from_the_worker(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_all(page, PREDICTIONS)
    press(page, "lesson3.request")
    outcome = experiment(page, "lesson3.request").locator(".outcome")
    expect(outcome).to_contain_text(
        '"task": "sandbox_tasks.decorators.show_request"', timeout=15000
    )
    expect(outcome).to_contain_text('"routing_key": "celery_lab"')
    expect(outcome).to_contain_text("called_directly=True")
    expect(outcome.locator(".explain-outcome")).to_contain_text("bind=True made")
    expect(page.locator('.task[data-state="succeeded"]')).to_have_count(1, timeout=15000)


def test_retries_stream_onto_the_card_with_their_countdowns_then_succeed(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_all(page, PREDICTIONS)
    task_id = press(page, "lesson3.retry", failures=2, max_retries=3)
    expect(experiment(page, "lesson3.retry").locator(".outcome")).to_contain_text(
        "waiting 1 s, 2 s, 4 s before each retry"
    )
    task = card(page, task_id)
    expect(task).to_have_attribute("data-state", "retry", timeout=10000)
    expect(task.locator(".explain")).to_contain_text("re-sent the same task")
    expect(task).to_have_attribute("data-state", "succeeded", timeout=20000)
    retries = task.locator(".retries li")
    expect(retries).to_have_count(2)
    expect(retries.nth(0)).to_contain_text("retry 1")
    expect(retries.nth(0)).to_contain_text("ServiceUnavailable('attempt 1: the service is down')")
    expect(retries.nth(0)).to_contain_text(re.compile(r"countdown 1\.0 s, runs at \d\d:\d\d:"))
    expect(retries.nth(1)).to_contain_text(re.compile(r"countdown 2\.0 s"))
    expect(task.locator(".explain")).to_contain_text("It was retried 2 times then succeeded")
    expect(page.get_by_role("log")).to_contain_text(
        re.compile(r"retries 2\s+eta \S+\s+countdown (1\.9|2\.0)\d* s")
    )


def test_when_the_retries_run_out_the_card_shows_the_services_error(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_all(page, PREDICTIONS)
    task_id = press(page, "lesson3.retry", failures=3, max_retries=2)
    task = card(page, task_id)
    expect(task).to_have_attribute("data-state", "failed", timeout=20000)
    expect(task.locator(".retries li")).to_have_count(2)
    expect(task.locator(".explain")).to_contain_text(
        "ServiceUnavailable('attempt 3: the service is down')"
    )
    expect(task.locator(".explain")).to_contain_text("Celery gave up")


def test_an_out_of_range_choice_shows_the_servers_message(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_all(page, PREDICTIONS)
    panel = experiment(page, "lesson3.retry")
    panel.locator("input[name=max_retries]").fill("9")
    panel.get_by_role("button").first.click()
    expect(panel.get_by_role("alert")).to_contain_text("max_retries must be from 0 to 4")
    expect(page.locator(".task")).to_have_count(0)
