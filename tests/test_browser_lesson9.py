"""A learner runs chapter 9's task in Chromium and reads its log lines as the worker writes them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.learner_page import commit_through, experiment, open_lesson, reply_of

pytestmark = pytest.mark.browser

SLUG = "logging-and-monitoring"

PREDICTIONS = [
    ("lesson9-debug-line", "b"),
    ("lesson9-stats-restart", "b"),
    ("lesson9-events-history", "d"),
]


def test_the_tasks_log_lines_appear_under_the_button_with_its_id(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    expect(experiment(page, "lesson9.logs")).to_be_hidden()
    commit_through(page, PREDICTIONS, "lesson9-debug-line")
    panel = experiment(page, "lesson9.logs")
    panel.locator("input[name=items]").fill("2")
    panel.locator("select[name=outcome]").select_option("slow courier")
    task_id = reply_of(panel, lambda: panel.get_by_role("button").click())["task_id"]
    lines = panel.locator("ol.task-log li")
    expect(lines).to_have_count(3, timeout=15000)
    expect(lines.nth(0)).to_have_attribute("data-level", "INFO")
    expect(lines.nth(0)).to_contain_text(f"sandbox_tasks.logs.process_order[{task_id}]: Packing")
    expect(lines.nth(1)).to_have_attribute("data-level", "WARNING")
    expect(lines.nth(1)).to_contain_text("Courier API slow")
    expect(lines.nth(2)).to_contain_text("shipped")
    expect(panel.locator("ol.task-log")).not_to_contain_text("picked")  # debug: never sent
    card = page.locator(f'.task[data-task-id="{task_id}"]')
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(page.get_by_role("log")).to_contain_text("WARNING: Courier API slow")


def test_a_refused_order_logs_its_traceback_and_fails(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson9-debug-line")
    panel = experiment(page, "lesson9.logs")
    panel.locator("input[name=items]").fill("1")
    panel.locator("select[name=outcome]").select_option("refused")
    panel.get_by_role("button").click()
    error = panel.locator('ol.task-log li[data-level="ERROR"]')
    expect(error).to_contain_text("Traceback (most recent call last)", timeout=15000)
    expect(page.locator(".task").first).to_have_attribute("data-state", "failed", timeout=15000)


def test_inspect_shows_the_running_task_and_the_workers_counters(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson9-stats-restart")
    panel = experiment(page, "lesson9.inspect")
    panel.get_by_role("button").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text("The page waited", timeout=20000)
    expect(outcome).to_contain_text('"name": "sandbox_tasks.logs.process_order"')
    expect(outcome).to_contain_text(re.compile(r'"lab@[^"]+": \{'))
    expect(outcome).to_contain_text("start again at zero")


def test_bad_input_shows_the_servers_message(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson9-debug-line")
    panel = experiment(page, "lesson9.logs")
    panel.locator("input[name=items]").fill("50")
    panel.get_by_role("button").click()
    expect(panel.get_by_role("alert")).to_contain_text("Items must be from 1 to 5")
    expect(panel.locator("ol.task-log")).to_have_count(0)
