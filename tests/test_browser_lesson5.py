"""A learner opens lesson 5 in Chromium, commits to each prediction and presses each button."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.learner_page import commit_through, experiment, open_lesson

pytestmark = pytest.mark.browser

SLUG = "delay-vs-direct-call"

# The lesson's predictions in page order, with the right answer to each.
PREDICTIONS = [
    ("lesson5-direct-wait", "b"),
    ("lesson5-unknown-id", "b"),
    ("lesson5-get-in-task", "a"),
    ("lesson5-countdown-received", "c"),
]


def test_the_lesson_shows_highlighted_code_and_hides_the_reveal_until_you_commit(
    page: Page, base_url: str
):
    open_lesson(page, base_url, SLUG)
    expect(page.locator("h1")).to_have_text(".delay() versus a direct call")
    expect(page.locator(".highlight").first).to_contain_text("def slow_task(self, seconds: int)")
    assert page.locator(".highlight").first.locator("span").count() > 10  # Pygments tokens
    expect(experiment(page, "lesson5.direct")).to_be_hidden()
    commit_through(page, PREDICTIONS, "lesson5-direct-wait")
    expect(experiment(page, "lesson5.direct")).to_be_visible()
    expect(experiment(page, "lesson5.unknown_id")).to_be_hidden()


def test_direct_call_makes_the_page_wait_and_the_stopwatch_shows_it(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson5-direct-wait")
    panel = experiment(page, "lesson5.direct")
    panel.locator("input[name=seconds]").fill("1")
    panel.get_by_role("button", name="slow_task(seconds)").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text("The page waited", timeout=15000)
    assert float(panel.locator(".stopwatch").inner_text().split()[0]) >= 1.0
    expect(outcome).to_contain_text("the web server itself")
    expect(outcome).to_contain_text('"slept": 1')
    expect(page.locator(".task")).to_have_count(0)  # no message, so no task card


def test_delay_returns_an_async_result_and_the_card_lights_the_path(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson5-direct-wait")
    panel = experiment(page, "lesson5.delay")
    panel.locator("input[name=seconds]").fill("2")
    panel.get_by_role("button", name="slow_task.delay(seconds)").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text(re.compile(r"came back in \d+ ms"))
    expect(outcome).to_contain_text("<AsyncResult: ")
    expect(outcome).to_contain_text("a ticket holding the task id")

    card = page.locator(".task").first
    path = card.locator("svg.path")
    expect(path.locator('[data-seg="send"]')).to_have_class(re.compile("lit"))
    expect(path.locator('[data-seg="deliver"]')).to_have_class(re.compile("lit"))
    expect(path.locator('[data-node="worker"]')).to_have_attribute("data-stage", "busy")
    expect(path).to_have_attribute("aria-label", re.compile("worker running it"))
    expect(path.locator('[data-seg="return"]')).not_to_have_class(re.compile("lit"))
    fill = card.locator(".fill")
    expect(fill).not_to_have_attribute("style", "transform: scaleX(0);", timeout=5000)

    expect(card).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(path.locator('[data-seg="return"]')).to_have_class(re.compile("lit"))
    expect(path).to_have_attribute("aria-label", re.compile("the result came back"))
    expect(fill).to_have_attribute("style", "transform: scaleX(1);")
    for state in ("sent", "received", "started", "succeeded"):
        expect(card.locator(f'.lifecycle [data-state="{state}"]')).to_have_class(re.compile("done"))
    log = page.get_by_role("log")
    expect(log).to_contain_text("progress 4/4")
    expect(log).to_contain_text("succeeded")


def test_a_running_task_pulses_on_the_compositor_only(page: Page, base_url: str):
    """The busy node's pulse animates opacity or transform only: nothing the page must lay out
    or paint again every frame for as long as a task runs."""
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson5-direct-wait")
    panel = experiment(page, "lesson5.delay")
    panel.locator("input[name=seconds]").fill("3")
    panel.get_by_role("button", name="slow_task.delay(seconds)").click()
    busy = page.locator('.task svg.path [data-node="worker"][data-stage="busy"] rect').first
    expect(busy).to_be_visible()
    animated = busy.evaluate(
        """rect => rect.getAnimations().flatMap((a) => a.effect.getKeyframes())
            .flatMap((k) => Object.keys(k))
            .filter((p) => !["offset", "computedOffset", "easing", "composite"].includes(p))"""
    )
    assert animated, "a running task's node pulses"
    assert set(animated) <= {"opacity", "transform"}, animated


def test_delay_then_get_runs_on_the_worker_but_the_page_still_waits(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson5-get-in-task")
    panel = experiment(page, "lesson5.delay_get")
    panel.locator("input[name=seconds]").fill("1")
    panel.get_by_role("button", name="slow_task.delay(seconds).get()").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text("The page waited", timeout=15000)
    assert float(panel.locator(".stopwatch").inner_text().split()[0]) >= 1.0
    expect(outcome).to_contain_text(re.compile(r"A worker \(pid \d+\) ran the task"))
    card = page.locator(".task").first
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15000)


def test_countdown_is_received_now_held_by_the_worker_and_started_later(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson5-countdown-received")
    panel = experiment(page, "lesson5.countdown")
    panel.locator("input[name=seconds]").fill("1")
    panel.locator("input[name=countdown]").fill("2")
    panel.get_by_role("button").click()
    expect(panel.locator(".outcome")).to_contain_text("countdown=2")
    card = page.locator(".task").first
    expect(card.locator(".explain")).to_contain_text("holds it until")
    worker = card.locator('svg.path [data-node="worker"]')
    expect(worker).to_have_attribute("data-stage", "holding")
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(worker).to_have_attribute("data-stage", "done")


def test_a_bad_value_shows_the_servers_message(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson5-direct-wait")
    panel = experiment(page, "lesson5.delay")
    panel.locator("input[name=seconds]").fill("0")
    panel.get_by_role("button").click()
    expect(panel.get_by_role("alert")).to_contain_text("Seconds must be from 1 to 30")
    expect(page.locator(".task")).to_have_count(0)


def test_pending_is_shown_for_an_id_nobody_sent_next_to_a_real_task(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson5-unknown-id")
    panel = experiment(page, "lesson5.unknown_id")
    panel.locator("input[name=seconds]").fill("1")
    panel.get_by_role("button").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text("(a real task)", timeout=20000)
    expect(outcome).to_contain_text("SUCCESS")
    expect(outcome).to_contain_text("(never sent)")
    expect(outcome).to_contain_text("(one character off)")
    expect(outcome).to_contain_text("no record of this id")
    expect(page.locator(".task").first).to_have_attribute("data-state", "succeeded")
