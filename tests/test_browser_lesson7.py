"""A learner opens lesson 7 in Chromium, commits to each prediction and presses every button."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.support.learner_page import answer, experiment, open_lesson

pytestmark = pytest.mark.browser

SLUG = "serialization-and-its-limits"

PREDICTIONS = {"lesson7-any-object": "b", "lesson7-tuple": "c", "lesson7-pickle": "c"}


def open_answered(page: Page, base_url: str) -> None:
    """Open the lesson and answer every prediction, which unlocks every panel."""
    open_lesson(page, base_url, SLUG)
    # answer, not commit: these tests have never checked that the answers are right, only that
    # the panels unlock, and this clean-up keeps what they assert.
    for question, choice in PREDICTIONS.items():
        answer(page, question, choice)


def test_a_tuple_is_sent_as_a_json_array_and_arrives_as_a_list(page: Page, base_url: str):
    open_answered(page, base_url)
    expect(page.locator(".highlight").filter(has_text="def describe_argument")).to_have_count(1)
    panel = experiment(page, "lesson7.value")
    panel.get_by_role("combobox").select_option("tuple")
    panel.get_by_role("button").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text("tuple: (1, 'two')")
    expect(outcome).to_contain_text('[[1, "two"]]')
    received = outcome.locator(".show").filter(has_text="what the worker's task received")
    expect(received.locator("pre")).to_have_text("list: [1, 'two']", timeout=15000)
    card = page.locator(".task").first
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(card.locator(".explain")).to_contain_text("list: [1,")


def test_a_datetime_arrives_as_a_datetime(page: Page, base_url: str):
    open_answered(page, base_url)
    panel = experiment(page, "lesson7.value")
    panel.get_by_role("combobox").select_option("datetime")
    panel.get_by_role("button").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text('"__type__": "datetime"', timeout=15000)
    received = outcome.locator(".show").filter(has_text="what the worker's task received")
    expect(received.locator("pre")).to_have_text(
        "datetime: datetime.datetime(2024, 11, 24, 20, 30, tzinfo=datetime.timezone.utc)"
    )
    expect(page.locator(".task").first).to_have_attribute("data-state", "succeeded")


def test_a_set_fails_in_the_web_process_and_no_task_appears(page: Page, base_url: str):
    open_answered(page, base_url)
    panel = experiment(page, "lesson7.value")
    panel.get_by_role("combobox").select_option("set")
    panel.get_by_role("button").click()
    outcome = panel.locator(".outcome")
    expect(outcome).to_contain_text(
        "kombu.exceptions.EncodeError: Object of type set is not JSON serializable"
    )
    expect(outcome).to_contain_text("Nothing was queued.")
    expect(page.locator(".task")).to_have_count(0)


def test_the_worker_refuses_a_pickled_message_and_nothing_runs(page: Page, base_url: str):
    open_answered(page, base_url)
    panel = experiment(page, "lesson7.pickle")
    panel.get_by_role("button").click()
    expect(panel.locator(".outcome")).to_contain_text("bytes of Python's own format")
    card = page.locator(".task").first
    expect(card).to_have_attribute("data-state", "rejected", timeout=15000)
    expect(card.locator(".state")).to_have_text("rejected")
    # Only "sent" is drawn as reached: the worker never received the message as a task.
    steps = card.locator(".lifecycle li")
    borders = steps.evaluate_all("els => els.map(e => getComputedStyle(e).borderTopColor)")
    assert borders[0] != borders[1] and borders[1:] == [borders[1]] * 3
    expect(card.locator('.lifecycle [data-state="received"] time')).to_have_text("")
    expect(page.get_by_role("log")).to_contain_text(
        "Refusing to deserialize untrusted content of type pickle"
    )
