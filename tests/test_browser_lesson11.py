"""A learner reads chapter 11 in Chromium: the stored result and the workers on the broker."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.learner_page import commit_through, experiment, open_lesson

pytestmark = pytest.mark.browser

SLUG = "where-next"

PREDICTIONS = [
    ("lesson11-two-beats", "b"),
    ("lesson11-result-expiry", "b"),
    ("lesson11-second-machine", "b"),
]


def test_the_result_backend_record_is_shown_with_its_expiry(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    expect(experiment(page, "lesson11.result")).to_be_hidden()
    commit_through(page, PREDICTIONS, "lesson11-result-expiry")
    panel = experiment(page, "lesson11.result")
    panel.locator("input[name=x]").fill("40")
    panel.locator("input[name=y]").fill("2")
    panel.get_by_role("button").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text('"status": "SUCCESS"', timeout=15000)
    expect(outcome).to_contain_text('"sum": 42')
    expect(outcome).to_contain_text(
        re.compile(r"TTL celery-task-meta-[0-9a-f-]{36}\s*\d+ s \(about 2[34]\.\d h\)")
    )


def test_the_workers_on_the_broker_answer_with_their_queues(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson11-second-machine")
    panel = experiment(page, "lesson11.workers")
    panel.get_by_role("button").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text('"queues": [', timeout=15000)
    expect(outcome).to_contain_text('"celery_lab"')
    expect(outcome).to_contain_text("1 worker answered")


def test_bad_input_shows_the_servers_message(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson11-result-expiry")
    panel = experiment(page, "lesson11.result")
    panel.locator("input[name=x]").fill("5000")
    panel.get_by_role("button").click()
    expect(panel.get_by_role("alert")).to_contain_text("x must be from -1000 to 1000")


def test_the_chapters_beyond_the_outline_say_so_on_the_map_and_the_page(page: Page, base_url: str):
    page.goto(base_url + "/")
    for slug in ("workflows", "logging-and-monitoring", "when-things-go-wrong", "where-next"):
        step = page.locator(f'.course-step[data-lesson="{slug}"]')
        expect(step.locator(".course-beyond")).to_contain_text("Beyond the outline")
    expect(
        page.locator('.course-step[data-lesson="delay-vs-direct-call"] .course-beyond')
    ).to_have_count(0)
    open_lesson(page, base_url, SLUG)
    expect(page.locator(".kicker")).to_have_text("Lesson 11 · beyond the course outline")
    expect(page.locator("a[rel=prev]")).to_contain_text("10. When things go wrong")
