"""A learner opens lesson 6 in Chromium, commits to each prediction and presses every button."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.learner_page import commit_all, commit_through, experiment, open_lesson

pytestmark = pytest.mark.browser

SLUG = "tasks-in-their-own-modules"

PREDICTIONS = {"lesson6-main-file": "a", "lesson6-unknown-name": "c", "lesson6-circle": "b"}


def test_the_lesson_shows_the_projects_own_files_and_hides_the_answer_until_you_commit(
    page: Page, base_url: str
):
    open_lesson(page, base_url, SLUG)
    expect(page.locator("h1")).to_have_text("Tasks in their own modules")
    paths = page.locator(".source-path")
    expect(paths.filter(has_text="sandbox_tasks/basics.py")).to_have_count(1)
    expect(paths.filter(has_text="celery_app.py")).to_have_count(1)
    expect(page.locator(".highlight").filter(has_text="flask_app = create_app()")).to_have_count(1)
    expect(experiment(page, "lesson6.registered")).to_be_hidden()
    commit_through(page, PREDICTIONS, "lesson6-main-file")
    expect(experiment(page, "lesson6.registered")).to_be_visible()
    expect(experiment(page, "lesson6.unknown")).to_be_hidden()


def test_the_running_worker_lists_its_tasks_by_module(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson6-main-file")
    panel = experiment(page, "lesson6.registered")
    panel.get_by_role("button").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text("1 worker answered", timeout=15000)
    expect(outcome.locator("pre").first).to_contain_text(re.compile(r"sandbox_tasks\.basics\s+add"))
    expect(outcome).to_contain_text("none: both sides know the same tasks")


def test_an_unknown_name_fails_on_the_worker_and_the_real_name_runs(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson6-unknown-name")
    panel = experiment(page, "lesson6.unknown")
    panel.get_by_role("combobox").select_option("sandbox_tasks.basics.ad")
    panel.get_by_role("button").click()
    expect(panel.locator(".outcome")).to_contain_text("Received unregistered task of type")
    typo = page.locator(".task").first
    expect(typo).to_have_attribute("data-state", "failed", timeout=15000)
    expect(typo.locator(".explain")).to_contain_text("NotRegistered('sandbox_tasks.basics.ad')")
    # The worker never received it as a task: no time on the received and started steps.
    expect(typo.locator('.lifecycle [data-state="received"] time')).to_have_text("")
    expect(typo.locator('.lifecycle [data-state="started"] time')).to_have_text("")
    expect(page.get_by_role("log")).to_contain_text("NotRegistered('sandbox_tasks.basics.ad')")
    typo_id = typo.get_attribute("data-task-id")

    panel.get_by_role("combobox").select_option("sandbox_tasks.basics.add")
    panel.get_by_role("button").click()
    expect(page.locator(".task")).to_have_count(2)
    real = page.locator(".task").first
    expect(real).not_to_have_attribute("data-task-id", typo_id)
    expect(real).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(real.locator(".explain")).to_contain_text("'sum': 5")


def test_a_real_python_stops_at_the_circle_and_imports_the_one_way_layout(
    page: Page, base_url: str
):
    open_lesson(page, base_url, SLUG)
    commit_all(page, PREDICTIONS)
    panel = experiment(page, "lesson6.layout")
    panel.get_by_role("button").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text("python -c 'import app' exited with 1", timeout=30000)
    expect(outcome).to_contain_text("cannot import name 'celery' from partially initialized")

    panel.get_by_role("combobox").select_option("@shared_task (this site's way)")
    panel.get_by_role("button").click()
    expect(outcome).to_contain_text("python -c 'import app' exited with 0", timeout=30000)
    expect(outcome).to_contain_text("its Celery app has tasks: ['tasks.send_email']")
    expect(outcome).to_contain_text("It imports cleanly")
