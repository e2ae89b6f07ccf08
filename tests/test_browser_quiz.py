"""A learner commits to predictions and myths in Chromium, sees the reveal, and proves it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.learner_page import experiment, open_live, question_card
from tests.support.quiz_course import write_course

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(stack, tmp_path_factory) -> str:
    """A web server teaching the fixture course, on the session's Redis and worker."""
    lessons = write_course(tmp_path_factory.mktemp("course"))
    process, base = stack.start_web(threads=32, env={"CELERY_LAB_LESSONS_DIR": str(lessons)})
    yield base
    process.stop()


def test_a_prediction_hides_the_rest_of_the_lesson_until_the_learner_commits(page: Page, site):
    page.goto(site + "/lessons/first-steps")
    first, second = question_card(page, "fx-first"), question_card(page, "fx-second")
    expect(first.get_by_text("Before reading on: commit to your answer")).to_be_visible()
    expect(page.get_by_text("ALPHA-AFTER")).to_be_hidden()
    expect(experiment(page, "lesson5.delay")).to_be_hidden()

    first.get_by_role("button", name="Commit to this answer").click()
    expect(first.get_by_role("alert")).to_contain_text("Pick an answer first")

    first.get_by_label("In the calling process.").check()
    first.get_by_role("button", name="Commit to this answer").click()
    expect(first.locator(".verdict")).to_contain_text("is the answer.")
    expect(first.locator(".verdict .choice-whys li")).to_have_count(3)  # every choice's why
    expect(first.locator(".verdict")).to_contain_text("WHY-FIRST-A-SECRET")
    expect(first.locator(".verdict")).to_contain_text("REVEAL-FIRST-SECRET")
    expect(first.locator('.choice[data-choice="b"]')).to_have_class(re.compile("correct"))
    expect(page.get_by_text("ALPHA-AFTER")).to_be_visible()
    expect(experiment(page, "lesson5.delay")).to_be_visible()
    expect(page.get_by_text("BETA-AFTER")).to_be_hidden()  # the next prediction still waits

    second.get_by_role("button", name="Show me anyway").click()
    expect(second.locator(".verdict")).to_contain_text("You chose to see it without committing")
    expect(page.get_by_text("BETA-AFTER")).to_be_visible()
    # The end of the lesson is now in reach: scrolling to it marks the lesson read.
    page.locator(".lesson-end").scroll_into_view_if_needed()
    expect(page.locator(".lesson-end")).to_contain_text("marked as read")

    page.reload()  # answered questions stay answered, drawn by the server
    expect(question_card(page, "fx-first").locator(".verdict")).to_contain_text(
        "REVEAL-FIRST-SECRET"
    )
    expect(page.get_by_text("BETA-AFTER")).to_be_visible()

    page.goto(site + "/")
    step = page.locator('.course-step[data-lesson="first-steps"]')
    expect(step).to_have_attribute("data-progress", "read")
    expect(step.locator(".course-progress")).to_have_text("✓ read · 2 of 2 predictions, 1 right")
    expect(page.locator('.course-step[data-lesson="no-questions"]')).to_have_attribute(
        "data-progress", "new"
    )


def test_a_wrong_myth_answer_shows_the_reality_and_prove_it_runs_on_the_worker(page: Page, site):
    open_live(page, site + "/quiz")
    myth = question_card(page, "fx-myth")
    expect(myth).to_contain_text("Decorating a function makes every call run in the background.")
    expect(myth.get_by_role("button", name="Prove it")).to_be_hidden()

    myth.get_by_label("On a worker.").check()
    myth.get_by_role("button", name="Commit to this answer").click()
    verdict = myth.locator(".verdict")
    expect(verdict).to_contain_text(
        re.compile(r"Not quite: you chose [abc]; the answer is [abc]\.")
    )
    # Every choice says why, the chosen wrong one marked as the learner's.
    expect(verdict.locator(".choice-whys li")).to_have_count(3)
    expect(verdict.locator('.choice-whys li.chosen[data-choice="a"]')).to_contain_text(
        "WHY-MYTH-A-SECRET"
    )
    expect(verdict.locator('.choice-whys li.right[data-choice="c"]')).to_contain_text(
        "WHY-MYTH-C-SECRET"
    )
    expect(verdict).to_contain_text("The reality")
    expect(verdict).to_contain_text("REVEAL-MYTH-SECRET")
    expect(verdict).to_contain_text("Why it matters")
    expect(verdict).to_contain_text("MATTERS-MYTH-SECRET")
    expect(page.locator(".quiz-score")).to_have_text("0 right out of 1 answered (1 myths in all).")

    myth.get_by_role("button", name="Prove it").click()
    panel = myth.locator('[data-experiment="lesson5.delay"]')
    expect(panel).to_be_visible()
    expect(panel.locator(".outcome")).to_contain_text(re.compile(r"came back in \d+ ms"))
    task = page.locator(".task").first
    expect(task).to_have_attribute("data-state", "succeeded", timeout=20000)
    expect(page.get_by_role("log")).to_contain_text("succeeded")


def test_the_progress_page_shows_the_score_and_resets_it(page: Page, site):
    page.goto(site + "/quiz")
    myth = question_card(page, "fx-myth")
    myth.get_by_label("In the calling process.").check()
    myth.get_by_role("button", name="Commit to this answer").click()
    expect(myth.locator(".verdict")).to_contain_text("Right")

    page.goto(site + "/progress")
    expect(page.locator(".myth-score")).to_contain_text("1 right out of 1 answered")
    page.get_by_role("button", name="Reset my progress…").click()
    page.get_by_role("button", name="Yes, forget my progress").click()
    expect(page.locator(".myth-score")).to_contain_text("Not started: 1 myths are waiting.")

    page.goto(site + "/quiz")
    expect(question_card(page, "fx-myth")).to_have_attribute("data-state", "open")


def test_a_missed_question_is_retried_from_the_progress_page_reshuffled_and_counted_apart(
    page: Page, site
):
    page.goto(site + "/lessons/first-steps")
    first = question_card(page, "fx-first")
    first.get_by_label("On a worker.").check()
    first.get_by_role("button", name="Commit to this answer").click()
    expect(first.locator(".verdict")).to_contain_text("Not quite")
    # The table of contents now lists the heading the prediction was hiding.
    expect(page.locator("nav.toc .toc-list")).to_contain_text("After the first prediction")

    page.goto(site + "/progress")
    expect(page.locator(".retry-score")).to_contain_text("1 question missed at first")
    retry = page.locator('.retry-list .quiz-question[data-retry="yes"]')
    expect(retry).to_have_count(1)
    expect(retry).to_contain_text("Try again: you missed this one")
    expect(retry.get_by_role("button", name="Show me anyway")).to_have_count(0)
    retry.get_by_label("In the calling process.").check()
    retry.get_by_role("button", name="Commit to this answer").click()
    expect(retry.locator(".verdict")).to_contain_text("Right this time")
    expect(retry.locator(".verdict .choice-whys li")).to_have_count(3)

    page.reload()
    expect(page.locator(".retry-score")).to_contain_text("1 now right on a retry")
    # The first answer still counts as it was: 0 of 2 predictions right in the lesson row.
    expect(page.locator('tr[data-lesson="first-steps"] .predictions')).to_contain_text("0 right")
