"""A learner opens lesson 7 in Chromium, commits to each prediction and presses every button."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PREDICTIONS = {"lesson7-any-object": "b", "lesson7-tuple": "c", "lesson7-pickle": "c"}


def open_lesson(page: Page, base_url: str) -> None:
    page.goto(base_url + "/lessons/serialization-and-its-limits")
    expect(page.locator("#conn")).to_have_text("live")
    for question, choice in PREDICTIONS.items():
        card = page.locator(f"#q-{question}")
        card.locator(f'label[data-choice="{choice}"]').click()
        card.get_by_role("button", name="Commit to this answer").click()
        expect(page.locator(f'.after-prediction[data-after="{question}"]')).to_be_visible()


def experiment(page: Page, name: str):
    # The lesson's own panel, not the copy inside a question's "Prove it".
    return page.locator(f'section.experiment[data-experiment="{name}"]:not(.prove-panel *)')


def test_a_tuple_is_sent_as_a_json_array_and_arrives_as_a_list(page: Page, base_url: str):
    open_lesson(page, base_url)
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
    open_lesson(page, base_url)
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
    open_lesson(page, base_url)
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
    open_lesson(page, base_url)
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
