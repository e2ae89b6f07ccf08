"""A learner opens lesson 5 in Chromium and presses each button."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def open_lesson(page: Page, base_url: str) -> None:
    page.goto(base_url + "/lessons/delay-vs-direct-call")
    expect(page.locator("#conn")).to_have_text("live")


def test_the_lesson_renders_with_highlighted_code(page: Page, base_url: str):
    open_lesson(page, base_url)
    expect(page.locator("h1")).to_have_text(".delay() versus a direct call")
    expect(page.locator(".highlight").first).to_contain_text("def slow_task(self, seconds: int)")
    assert page.locator(".highlight span").count() > 10  # Pygments tokens, not plain text


def test_delay_streams_the_lifecycle_and_fills_the_progress_bar(page: Page, base_url: str):
    open_lesson(page, base_url)
    panel = page.locator('[data-experiment="lesson5.delay"]')
    panel.locator("input[name=seconds]").fill("2")
    panel.get_by_role("button").click()
    expect(panel.locator(".outcome")).to_contain_text(re.compile(r"came back in \d+ ms"))
    card = page.locator(".task").first
    expect(card.locator('[data-state="received"]')).to_have_class(re.compile("done"))
    expect(card.locator(".fill")).not_to_have_attribute("style", "width: 0%;", timeout=5000)
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(card.locator(".fill")).to_have_attribute("style", "width: 100%;")
    for state in ("sent", "received", "started", "succeeded"):
        expect(card.locator(f'.lifecycle [data-state="{state}"]')).to_have_class(re.compile("done"))
    log = page.get_by_role("log")
    expect(log).to_contain_text("progress 4/4")
    expect(log).to_contain_text("succeeded")


def test_direct_call_makes_the_page_wait_and_the_stopwatch_shows_it(page: Page, base_url: str):
    open_lesson(page, base_url)
    panel = page.locator('[data-experiment="lesson5.direct"]')
    panel.locator("input[name=seconds]").fill("1")
    panel.get_by_role("button").click()
    expect(panel.locator(".outcome")).to_contain_text("The page waited", timeout=15000)
    seconds = float(panel.locator(".stopwatch").inner_text().split()[0])
    assert seconds >= 1.0
    expect(panel.locator(".outcome")).to_contain_text("the web server itself")


def test_countdown_is_received_now_and_started_later(page: Page, base_url: str):
    open_lesson(page, base_url)
    panel = page.locator('[data-experiment="lesson5.countdown"]')
    panel.locator("input[name=seconds]").fill("1")
    panel.locator("input[name=countdown]").fill("2")
    panel.get_by_role("button").click()
    card = page.locator(".task").first
    expect(card.locator(".explain")).to_contain_text("holds it until")
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15000)


def test_a_bad_value_shows_the_servers_message(page: Page, base_url: str):
    open_lesson(page, base_url)
    panel = page.locator('[data-experiment="lesson5.delay"]')
    panel.locator("input[name=seconds]").fill("0")
    panel.get_by_role("button").click()
    expect(panel.get_by_role("alert")).to_contain_text("Seconds must be from 1 to 30")
