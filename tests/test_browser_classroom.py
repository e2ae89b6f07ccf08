"""An instructor projects a class in one Chromium context while a learner takes part in another."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.learner_page import experiment, question_card

pytestmark = pytest.mark.browser


@pytest.fixture
def projector(browser: Browser, stack, base_url: str):
    """The instructor's screen: signed in with the printed link, a new class open."""
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    page = context.new_page()
    page.goto(f"{base_url}/classroom/instructor?token={stack.instructor_token}")
    expect(page).to_have_url(f"{base_url}/classroom/")  # the token has left the address bar
    page.get_by_role("button", name="Open a new class").click()
    expect(page.locator("#conn")).to_have_text("live")
    yield page
    context.close()


@pytest.fixture
def learner_page(browser: Browser):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    yield context.new_page()
    context.close()


def class_code(page: Page) -> str:
    return page.locator(".projector").get_attribute("data-code")


def test_a_learner_joins_follows_answers_and_presses_and_the_projector_shows_it(
    projector: Page, learner_page: Page, base_url: str
):
    code = class_code(projector)
    expect(projector.locator(".pj-overlay-code")).to_have_text(code)  # the join screen first

    learner_page.goto(f"{base_url}/join/{code}")
    learner_page.get_by_label("Nickname").fill("Ana")
    learner_page.get_by_role("button", name="Join").click()
    expect(learner_page.get_by_role("heading", level=1)).to_have_text(f"You are in class {code}")
    expect(projector.locator("#pj-names li")).to_have_text(["Ana ×"])
    projector.get_by_role("button", name="Start").click()
    expect(projector.locator("#pj-members-count")).to_have_text("1")
    # The join screen is a modal dialog: open it again, and Escape puts it away.
    projector.get_by_role("button", name="Join screen").click()
    expect(projector.get_by_role("dialog", name="Join screen")).to_be_visible()
    projector.keyboard.press("Escape")
    expect(projector.locator("#pj-overlay")).to_be_hidden()

    # Follow-along: the learner's page offers the instructor's lesson.
    projector.get_by_label("Move the class to a lesson").select_option("delay-vs-direct-call")
    learner_page.goto(base_url + "/")
    bar = learner_page.get_by_role("complementary", name="Your class")
    expect(bar).to_contain_text(f"Class {code} · you are Ana")
    bar.get_by_role("link", name="Follow").click()
    expect(learner_page).to_have_url(f"{base_url}/lessons/delay-vs-direct-call")

    # An answer moves the bar on the projector; the answer shows only when revealed.
    projector.get_by_label("Question to project").select_option("lesson5-direct-wait")
    bar_a = projector.locator('.pj-bar[data-choice="a"] .pj-count')
    expect(bar_a).to_have_text("0")
    question = question_card(learner_page, "lesson5-direct-wait")
    question.locator('input[value="a"]').check()
    question.get_by_role("button", name="Commit to this answer").click()
    expect(bar_a).to_have_text("1")
    expect(projector.locator(".pj-bar.correct")).to_have_count(0)
    projector.get_by_role("button", name="Reveal answer").click()
    expect(projector.locator('.pj-bar[data-choice="b"]')).to_have_class(re.compile("correct"))

    # The learner presses a button; the projector's feed shows who, and the counters move.
    question_card(learner_page, "lesson5-unknown-id").get_by_role(
        "button", name="Show me anyway"
    ).click()
    panel = experiment(learner_page, "lesson5.delay")
    panel.locator("input[name=seconds]").fill("1")
    panel.get_by_role("button").click()
    row = projector.locator(".pj-row").first
    expect(row.locator(".pj-who")).to_have_text("Ana")
    expect(row).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(projector.locator('[data-counter="succeeded"] .pj-num')).to_have_text("1")


def test_a_burst_fills_the_waiting_line_and_the_worker_drains_it(projector: Page):
    projector.get_by_role("button", name="Start").click()
    expect(projector.locator("#pj-worker-state")).to_have_text(re.compile("alive"))
    # The session's worker runs 16 threads: 48 tasks of 2 s make a line that drains in steps.
    projector.locator("#pj-burst-count").fill("48")
    projector.locator("#pj-burst-seconds").fill("2")
    projector.get_by_role("button", name="Send burst").click()
    expect(projector.locator("#pj-control-status")).to_have_text("Sent 48 tasks of 2 s each.")
    waiting = projector.locator('[data-counter="waiting"] .pj-num')
    expect(waiting).not_to_have_text("0")
    expect(projector.locator('[data-counter="running"] .pj-num')).not_to_have_text("0")
    expect(projector.locator(".pj-row")).to_have_count(40)  # the feed keeps the latest 40
    expect(projector.locator('[data-counter="succeeded"] .pj-num')).to_have_text(
        "48", timeout=30000
    )
    expect(waiting).to_have_text("0")
    expect(projector.locator("#pj-depth-now")).to_have_text("0")


def test_a_control_that_fails_says_so_on_the_instructors_screen(projector: Page):
    projector.get_by_role("button", name="Start").click()
    projector.locator("#pj-pool-size").fill("0")
    projector.get_by_role("button", name="Set", exact=True).click()
    expect(projector.get_by_role("alert")).to_contain_text(
        "Set did not work: The pool size must be a whole number from 1 to 128."
    )


def test_the_instructor_removes_a_learner_from_the_projector(
    projector: Page, learner_page: Page, base_url: str
):
    code = class_code(projector)
    learner_page.goto(f"{base_url}/join/{code}")
    learner_page.get_by_label("Nickname").fill("Mallory")
    learner_page.get_by_role("button", name="Join").click()
    expect(learner_page.get_by_role("heading", level=1)).to_have_text(f"You are in class {code}")
    # The join screen lists who has joined, each with a control to take them out.
    projector.get_by_role("button", name="Remove Mallory").click()
    expect(projector.locator("#pj-names li")).to_have_count(0)
    expect(projector.locator("#pj-members-count")).to_have_text("0")
    learner_page.goto(f"{base_url}/join")  # not reload(): that would send the join form again
    expect(learner_page.get_by_role("heading", level=1)).not_to_have_text(
        f"You are in class {code}"
    )


def test_closing_the_class_asks_in_the_page_first_and_no_changes_nothing(
    projector: Page, base_url: str
):
    # Asked in the page (a browser's confirm() box would stop the live feed while it is open).
    code = class_code(projector)
    projector.get_by_role("button", name="Start").click()
    status = projector.locator("#pj-class-status")
    ask = projector.get_by_role("dialog", name=re.compile(r"^Close the class\?"))

    def class_status() -> str:
        return projector.request.get(f"{base_url}/api/classroom/{code}").json()["class"]["status"]

    projector.get_by_role("button", name="Close class").click()
    expect(ask).to_be_visible()
    expect(ask.get_by_role("button", name="Cancel")).to_be_focused()  # the safe answer first
    ask.get_by_role("button", name="Cancel").click()
    expect(ask).to_be_hidden()
    projector.get_by_role("button", name="Close class").click()
    expect(ask).to_be_visible()
    projector.keyboard.press("Escape")
    expect(ask).to_be_hidden()
    assert class_status() == "open"
    expect(status).to_have_text("Open")

    projector.get_by_role("button", name="Close class").click()
    ask.get_by_role("button", name="Close the class").click()
    expect(status).to_have_text("Closed: nobody can join")
    assert class_status() == "closed"


def test_purging_the_queue_asks_first_and_says_what_it_removed(projector: Page):
    projector.get_by_role("button", name="Start").click()
    said = projector.locator("#pj-control-status")
    ask = projector.get_by_role("dialog", name=re.compile(r"^Delete every task waiting"))
    projector.get_by_role("button", name="Purge queue…").click()
    ask.get_by_role("button", name="Cancel").click()
    expect(ask).to_be_hidden()
    expect(said).to_have_text("")  # nothing was asked of the server
    projector.get_by_role("button", name="Purge queue…").click()
    ask.get_by_role("button", name="Purge the queue").click()
    expect(said).to_have_text(re.compile(r"^Purged \d+ waiting task\(s\) from the queue\.$"))


def test_the_lesson_picker_waits_until_the_page_listens(browser: Browser, stack, base_url: str):
    # Held back, the page's script has not run: a lesson picked now would show, send nothing,
    # and snap back when the snapshot came. So the picker is disabled until then.
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{base_url}/classroom/instructor?token={stack.instructor_token}")
        held = []
        page.route("**/static/js/classroom.js*", lambda route: held.append(route))
        page.get_by_role("button", name="Open a new class").click()
        picker = page.get_by_label("Move the class to a lesson")
        page.locator(".projector").wait_for(state="attached")
        assert held, "the page did not ask for its script"
        expect(picker).to_be_disabled()
        held[0].continue_()
        expect(picker).to_be_enabled()
        picker.select_option("what-is-a-task")
        said = page.locator("#pj-control-status")
        expect(said).to_have_text("The class was offered this lesson.")
    finally:
        context.close()
