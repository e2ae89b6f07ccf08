"""A learner opens lesson 4 in Chromium, commits to each prediction and presses every button."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.support.learner_page import card, commit_all, experiment, open_lesson, press

pytestmark = pytest.mark.browser

SLUG = "passing-arguments"

# The lesson's predictions in page order, with the right answer to each.
PREDICTIONS = [
    ("lesson4-wrong-type", "c"),
    ("lesson4-kwargs-body", "a"),
    ("lesson4-too-few", "b"),
]


def test_the_task_is_shown_and_the_rest_waits_for_your_answer(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    expect(page.locator("h1")).to_have_text("Passing arguments")
    source = page.locator(".highlight").filter(has_text="def multiply").first
    expect(source).to_contain_text("return a * b")
    expect(experiment(page, "lesson4.positional")).to_be_hidden()
    commit_all(page, PREDICTIONS)
    expect(experiment(page, "lesson4.positional")).to_be_visible()


def test_the_message_that_went_out_is_shown_beside_the_result(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_all(page, PREDICTIONS)
    task_id = press(page, "lesson4.positional", a=12, b=-3)
    outcome = experiment(page, "lesson4.positional").locator(".outcome")
    expect(outcome).to_contain_text('task: "sandbox_tasks.arguments.multiply"')
    expect(outcome).to_contain_text(f'id: "{task_id}"')
    expect(outcome).to_contain_text('argsrepr: "(12, -3)"')
    expect(outcome).to_contain_text("args: [12, -3]")
    expect(outcome).to_contain_text('content-type: "application/json"')
    expect(outcome).to_contain_text('[[12, -3], {}, {"callbacks": null')
    task = card(page, task_id)
    expect(task).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(task.locator(".explain")).to_contain_text("The worker returned -36")


def test_keywords_travel_by_name_and_give_the_same_result(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_all(page, PREDICTIONS)
    task_id = press(page, "lesson4.keyword", a=6, b=7)
    outcome = experiment(page, "lesson4.keyword").locator(".outcome")
    expect(outcome).to_contain_text("kwargsrepr: \"{'a': 6, 'b': 7}\"")
    expect(outcome).to_contain_text("args: []")
    expect(outcome).to_contain_text('[[], {"a": 6, "b": 7}')
    task = card(page, task_id)
    expect(task).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(task.locator(".explain")).to_contain_text("The worker returned 42")


def test_one_argument_short_is_refused_before_anything_is_sent(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_all(page, PREDICTIONS)
    press(page, "lesson4.too_few", a=4)
    outcome = experiment(page, "lesson4.too_few").locator(".outcome")
    expect(outcome).to_contain_text("missing 1 required positional argument: 'b'")
    expect(outcome).to_contain_text("Nothing was sent")
    expect(page.locator(".task")).to_have_count(0)


def test_a_number_out_of_range_shows_the_servers_message(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_all(page, PREDICTIONS)
    panel = experiment(page, "lesson4.positional")
    panel.locator("input[name=b]").fill("123456")
    panel.get_by_role("button").first.click()
    expect(panel.get_by_role("alert")).to_contain_text("b must be from -1000 to 1000")
    expect(page.locator(".task")).to_have_count(0)
