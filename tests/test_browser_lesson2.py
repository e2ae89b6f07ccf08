"""A learner opens lesson 2 in Chromium, checks the live connection and reads config in a task."""

from __future__ import annotations

import re
import socket

import pytest
from playwright.sync_api import Page, expect

from tests.support.learner_page import commit, experiment, open_lesson

pytestmark = pytest.mark.browser

SLUG = "celery-with-flask"


def test_the_lesson_shows_the_real_wiring(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    expect(page.locator("h1")).to_have_text("Setting up Celery with Flask")
    paths = page.locator(".source-path")
    for path in (
        "config.py",
        "web/__init__.py",
        "web/celery_ext.py",
        "celery_app.py",
        "launcher/commands.py",
    ):
        expect(paths.filter(has_text=re.compile(f"^{re.escape(path)}$"))).to_have_count(1)
    wiring = page.locator(".highlight").filter(has_text="def celery_init_app")
    expect(wiring).to_contain_text("class FlaskTask(Task):")


def test_the_connection_the_config_task_and_the_missing_app_context(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    worker = f"lab@{socket.gethostname()}"

    commit(page, "lesson2-find-workers", "b")
    connection = experiment(page, "lesson2.connection")
    connection.get_by_role("button").click()
    outcome = connection.locator(".outcome")
    expect(outcome).to_contain_text("answered the ping through Redis", timeout=15000)
    expect(outcome).to_contain_text(f'"worker": "{worker}"')
    expect(outcome).to_contain_text('"concurrency": 16')
    expect(outcome).to_contain_text("celery_lab")
    expect(outcome).to_contain_text(re.compile(r"redis://127\.0\.0\.1:\d+/0"))

    commit(page, "lesson2-config-in-worker", "a")
    config = experiment(page, "lesson2.config")
    config.locator("select[name=setting]").select_option("ROUTE_TTL_SECONDS")
    config.get_by_role("button").click()
    expect(config.locator(".outcome")).to_contain_text("app.config['ROUTE_TTL_SECONDS']")
    expect(config.locator(".outcome pre").first).to_have_text("21600")
    card = page.locator(".task").first
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(card.locator(".explain")).to_contain_text("'setting': 'ROUTE_TTL_SECONDS'")
    expect(card.locator(".explain")).to_contain_text("'value': 21600")
    expect(card.locator(".explain")).to_contain_text("'app': 'web'")

    config.locator("select[name=setting]").select_option("SITE_NAME")
    config.get_by_role("button").click()
    expect(page.locator(".task")).to_have_count(2)
    newest = page.locator(".task").first
    expect(newest).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(newest.locator(".explain")).to_contain_text("'value': 'Celery Lab'")

    bare = experiment(page, "lesson2.no_context")
    bare.get_by_role("button").click()
    expect(bare.locator(".outcome pre")).to_contain_text(
        "RuntimeError: Working outside of application context."
    )
    expect(bare.locator(".outcome")).to_contain_text("without FlaskTask")
