"""A learner opens lesson 4 in Chromium, commits to each prediction and presses every button."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

# The lesson's predictions in page order, with the right answer to each.
PREDICTIONS = [
    ("lesson4-any-arguments", "b"),
    ("lesson4-kwargs-body", "b"),
    ("lesson4-too-few", "b"),
]


def open_lesson(page: Page, base_url: str) -> None:
    page.goto(base_url + "/lessons/passing-arguments")
    expect(page.locator("#conn")).to_have_text("live")


def commit_all(page: Page) -> None:
    """Answer every prediction as a learner does; the text after each one appears."""
    for question, choice in PREDICTIONS:
        card = page.locator(f"#q-{question}")
        card.locator(f'label[data-choice="{choice}"]').click()
        card.get_by_role("button", name="Commit to this answer").click()
        expect(card.locator(".verdict")).to_contain_text("Right")
        expect(page.locator(f'.after-prediction[data-after="{question}"]')).to_be_visible()


def experiment(page: Page, name: str):
    # The lesson's own panel, not a copy inside a question's "Prove it".
    return page.locator(f'section.experiment[data-experiment="{name}"]:not(.prove-panel *)')


def press(page: Page, name: str, **params) -> str | None:
    """Fill the panel's inputs, press its button, and return the task id it sent, if any."""
    panel = experiment(page, name)
    for field, value in params.items():
        panel.locator(f"input[name={field}]").fill(str(value))
    with page.expect_response(f"**/api/experiments/{name}") as response:
        panel.get_by_role("button").first.click()
    return response.value.json().get("task_id")


def test_the_task_is_shown_and_the_rest_waits_for_your_answer(page: Page, base_url: str):
    open_lesson(page, base_url)
    expect(page.locator("h1")).to_have_text("Passing arguments")
    source = page.locator(".highlight").filter(has_text="def multiply").first
    expect(source).to_contain_text("return a * b")
    expect(experiment(page, "lesson4.positional")).to_be_hidden()
    commit_all(page)
    expect(experiment(page, "lesson4.positional")).to_be_visible()


def test_the_message_that_went_out_is_shown_beside_the_result(page: Page, base_url: str):
    open_lesson(page, base_url)
    commit_all(page)
    task_id = press(page, "lesson4.positional", a=12, b=-3)
    outcome = experiment(page, "lesson4.positional").locator(".outcome")
    expect(outcome).to_contain_text('task: "sandbox_tasks.arguments.multiply"')
    expect(outcome).to_contain_text(f'id: "{task_id}"')
    expect(outcome).to_contain_text('argsrepr: "(12, -3)"')
    expect(outcome).to_contain_text("args: [12, -3]")
    expect(outcome).to_contain_text('content-type: "application/json"')
    expect(outcome).to_contain_text('[[12, -3], {}, {"callbacks": null')
    card = page.locator(f'.task[data-task-id="{task_id}"]')
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(card.locator(".explain")).to_contain_text("The worker returned -36")


def test_keywords_travel_by_name_and_give_the_same_result(page: Page, base_url: str):
    open_lesson(page, base_url)
    commit_all(page)
    task_id = press(page, "lesson4.keyword", a=6, b=7)
    outcome = experiment(page, "lesson4.keyword").locator(".outcome")
    expect(outcome).to_contain_text("kwargsrepr: \"{'a': 6, 'b': 7}\"")
    expect(outcome).to_contain_text("args: []")
    expect(outcome).to_contain_text('[[], {"a": 6, "b": 7}')
    card = page.locator(f'.task[data-task-id="{task_id}"]')
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(card.locator(".explain")).to_contain_text("The worker returned 42")


def test_one_argument_short_is_refused_before_anything_is_sent(page: Page, base_url: str):
    open_lesson(page, base_url)
    commit_all(page)
    press(page, "lesson4.too_few", a=4)
    outcome = experiment(page, "lesson4.too_few").locator(".outcome")
    expect(outcome).to_contain_text("missing 1 required positional argument: 'b'")
    expect(outcome).to_contain_text("Nothing was sent")
    expect(page.locator(".task")).to_have_count(0)


def test_a_number_out_of_range_shows_the_servers_message(page: Page, base_url: str):
    open_lesson(page, base_url)
    commit_all(page)
    panel = experiment(page, "lesson4.positional")
    panel.locator("input[name=b]").fill("123456")
    panel.get_by_role("button").first.click()
    expect(panel.get_by_role("alert")).to_contain_text("b must be from -1000 to 1000")
    expect(page.locator(".task")).to_have_count(0)
