"""A learner runs chapter 10's broken setups in Chromium and reads the real errors."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.learner_page import commit_through, experiment, open_lesson, press, reply_of

pytestmark = pytest.mark.browser

SLUG = "when-things-go-wrong"

PREDICTIONS = [
    ("lesson10-no-backend", "c"),
    ("lesson10-ignored-get", "b"),
    ("lesson10-unconfigured", "c"),
    ("lesson10-time-limit-threads", "c"),
]


def test_a_task_the_worker_never_imported_fails_on_its_card(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    task_id = press(page, "lesson10.unimported")
    card = page.locator(f'.task[data-task-id="{task_id}"]')
    expect(card).to_have_attribute("data-state", "failed", timeout=15000)
    expect(card.locator(".explain")).to_contain_text("NotRegistered")
    expect(card.locator('.lifecycle [data-state="started"]')).not_to_have_class(re.compile("done"))
    outcome = experiment(page, "lesson10.unimported").locator(".outcome")
    expect(outcome).to_contain_text("Received unregistered task of type")


def test_no_backend_and_ignore_result_show_their_real_answers(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    expect(experiment(page, "lesson10.no_backend")).to_be_hidden()
    commit_through(page, PREDICTIONS, "lesson10-no-backend")
    panel = experiment(page, "lesson10.no_backend")
    panel.get_by_role("button").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text("NotImplementedError: No result backend is configured.")
    expect(outcome).to_contain_text("DisabledBackend")
    expect(page.locator(".task").first).to_have_attribute("data-state", "succeeded", timeout=15000)

    commit_through(page, PREDICTIONS[1:], "lesson10-ignored-get")
    panel = experiment(page, "lesson10.ignore_result")
    panel.get_by_role("button").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text("returned None after", timeout=15000)
    expect(outcome).to_contain_text("celery.exceptions.TimeoutError")
    expect(outcome).to_contain_text("PENDING")


def test_an_unconfigured_app_and_a_get_inside_a_task(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson10-unconfigured")
    panel = experiment(page, "lesson10.unconfigured")
    panel.get_by_role("button").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text("amqp://guest:**@localhost:5672//")
    expect(outcome).to_contain_text("[Errno 111] Connection refused")

    panel = experiment(page, "lesson10.get_in_task")
    body = reply_of(panel, lambda: panel.get_by_role("button").click())
    outer = page.locator(f'.task[data-task-id="{body["task_id"]}"]')
    inner = page.locator(f'.task[data-task-id="{body["inner_task_id"]}"]')
    expect(outer).to_have_attribute("data-state", "failed", timeout=15000)
    expect(outer.locator(".explain")).to_contain_text("Never call result.get() within a task!")
    expect(inner).to_have_attribute("data-state", "succeeded", timeout=15000)


def test_time_limits_are_not_enforced_by_the_threads_pool(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson10-time-limit-threads")
    task_id = press(page, "lesson10.time_limits", seconds=3)
    card = page.locator(f'.task[data-task-id="{task_id}"]')
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(card.locator(".explain")).to_contain_text("'interrupted': False")


def test_an_unconsumed_queue_leaves_the_task_pending(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson10-time-limit-threads")
    panel = experiment(page, "lesson10.unconsumed")
    panel.get_by_role("button").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text("The page waited", timeout=15000)
    expect(outcome).to_contain_text("PENDING")
    expect(outcome).to_contain_text("celery_lab")


def test_bad_input_shows_the_servers_message(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson10-time-limit-threads")
    panel = experiment(page, "lesson10.time_limits")
    panel.locator("input[name=seconds]").fill("1")
    panel.get_by_role("button").click()
    expect(panel.get_by_role("alert")).to_contain_text("Seconds must be from 3 to 6")
