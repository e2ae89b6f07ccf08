"""Every page passes axe-core, in both themes and in large type, with its hidden parts shown.

One browser context walks the whole site as one person would: the instructor signs in,
opens a class and joins it as a learner (so the class bar shows on every page), opens every
lesson the lesson loader knows (new chapters are covered as they are written), reveals every
prediction, presses every experiment's button, answers the quiz and proves its myths. Each
page is then checked four times: light, dark, and large type in each. Any violation, of any
impact, fails.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from config import ROOT
from tests.support import axe
from web.lessons.library import Library

pytestmark = pytest.mark.browser

LESSONS = [lesson.slug for lesson in Library(ROOT / "lessons").all()]


@pytest.fixture(scope="module")
def walk(browser: Browser, stack, base_url: str):
    """One page for the whole walk: the instructor with an open class, joined as a learner."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    axe.install(context)
    page = context.new_page()
    page.goto(f"{base_url}/classroom/instructor?token={stack.instructor_token}")
    expect(page).to_have_url(f"{base_url}/classroom/")
    page.get_by_role("button", name="Open a new class").click()
    expect(page.locator(".projector")).to_be_visible()
    page.code = page.locator(".projector").get_attribute("data-code")
    joined = page.request.post(
        f"{base_url}/api/classroom/join", data={"code": page.code, "nickname": "Axe"}
    )
    assert joined.ok, joined.text()
    yield page
    context.close()


def assert_accessible(page: Page) -> None:
    # Folded parts too (the narrow-screen table of contents, admonitions): axe skips hidden text.
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    found = axe.audit(page)
    assert not found, f"axe found problems on {page.url}:\n{axe.describe(found)}"


def settle(page: Page, path: str, base_url: str) -> None:
    """Open ``path`` and wait until its own requests (the course map, the class bar) are done."""
    page.goto(base_url + path)
    page.wait_for_load_state("networkidle")


def reveal_predictions(page: Page) -> None:
    """Press "Show me anyway" on each prediction in turn, until the whole lesson shows."""
    while (skip := page.locator('.quiz-question[data-state="open"] .show-anyway:visible')).count():
        card = skip.first.locator("xpath=ancestor::section[@data-question]")
        question = card.get_attribute("data-question")
        skip.first.click()
        expect(page.locator(f'.after-prediction[data-after="{question}"]')).to_be_visible()
    expect(page.locator(".after-prediction[hidden]")).to_have_count(0)


def press_every_experiment(page: Page) -> None:
    """Press each of the lesson's own buttons once and wait for what it shows."""
    panels = page.locator("section.experiment:not(.prove-panel *)")
    for i in range(panels.count()):
        panel = panels.nth(i)
        panel.get_by_role("button").first.click()
        expect(panel.locator(".outcome")).not_to_be_empty(timeout=30_000)


def test_the_join_page_before_joining(browser: Browser, walk: Page, base_url: str):
    context = browser.new_context(reduced_motion="reduce")  # someone who has not joined yet
    axe.install(context)
    page = context.new_page()
    settle(page, f"/join/{walk.code}", base_url)
    expect(page.get_by_label("Nickname")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Nickname").fill("x" * 24)
    page.get_by_label("Class code").fill("NOSUCH")
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("alert")).to_be_visible()  # the form again, with its error
    assert_accessible(page)
    context.close()


def test_what_a_stranger_sees_of_the_instructors_pages(browser: Browser, base_url: str):
    context = browser.new_context(reduced_motion="reduce")  # not signed in
    axe.install(context)
    page = context.new_page()
    settle(page, "/classroom/instructor", base_url)
    expect(page.get_by_label("Instructor token")).to_be_visible()  # the sign-in form
    assert_accessible(page)
    settle(page, "/classroom/", base_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Forbidden")
    assert_accessible(page)
    context.close()


def test_the_page_a_learner_sees_once_in_the_class(walk: Page, base_url: str):
    settle(walk, f"/join/{walk.code}", base_url)
    expect(walk.get_by_role("heading", level=1)).to_have_text(f"You are in class {walk.code}")
    assert_accessible(walk)


def test_the_home_page(walk: Page, base_url: str):
    settle(walk, "/", base_url)
    expect(walk.locator("#class-bar")).to_be_visible()
    assert_accessible(walk)


@pytest.mark.parametrize("slug", LESSONS)
def test_a_lesson_with_every_part_shown_and_every_button_pressed(
    walk: Page, base_url: str, slug: str
):
    settle(walk, f"/lessons/{slug}", base_url)
    expect(walk.locator("#conn")).to_have_text("live")
    reveal_predictions(walk)
    press_every_experiment(walk)
    load_the_editors(walk)
    assert_accessible(walk)


def load_the_editors(page: Page) -> None:
    """Point at each Your turn panel, as a learner does, so its CodeMirror editors are audited."""
    panels = page.locator(".your-turn")
    for i in range(panels.count()):
        panels.nth(i).locator("h2").hover()
        expect(panels.nth(i)).to_have_attribute("data-ready", "yes")
        expect(panels.nth(i).locator(".cm-editor").first).to_be_visible()


def test_the_playground_with_its_editors_loaded(walk: Page, base_url: str):
    settle(walk, "/playground", base_url)
    expect(walk.locator("#conn")).to_have_text("live")
    load_the_editors(walk)
    assert_accessible(walk)


def test_the_quiz_with_every_myth_answered_and_proved(walk: Page, base_url: str):
    settle(walk, "/quiz", base_url)
    expect(walk.locator("#conn")).to_have_text("live")
    cards = walk.locator(".quiz-question.myth")
    for i in range(cards.count()):
        card = cards.nth(i)
        card.locator("label.choice").first.click()
        card.get_by_role("button", name="Commit to this answer").click()
        expect(card.locator(".verdict-body")).to_be_visible()
        if card.locator(".prove-it").count():
            card.locator(".prove-it").click()
            expect(card.locator(".prove-panel .outcome")).not_to_be_empty(timeout=30_000)
    assert_accessible(walk)


def test_the_progress_page_with_its_reset_question_open(walk: Page, base_url: str):
    settle(walk, "/progress", base_url)
    walk.get_by_role("button", name="Reset my progress…").click()
    expect(walk.get_by_role("button", name="Keep it")).to_be_visible()
    assert_accessible(walk)


def test_the_not_found_page(walk: Page, base_url: str):
    settle(walk, "/lessons/no-such-lesson", base_url)
    assert_accessible(walk)


def test_a_class_message_page(walk: Page, base_url: str):
    settle(walk, "/join/NOSUCH", base_url)
    assert_accessible(walk)


def test_the_instructors_dashboard(walk: Page, base_url: str):
    settle(walk, "/classroom/", base_url)
    expect(walk.locator(f'tr[data-code="{walk.code}"]')).to_be_visible()
    assert_accessible(walk)


def test_the_projector_with_its_join_screen_and_a_question(walk: Page, base_url: str):
    settle(walk, f"/classroom/{walk.code}", base_url)
    expect(walk.locator("#conn")).to_have_text("live")
    # Each name carries the instructor's remove button (×) beside it.
    expect(walk.locator("#pj-names li")).to_have_count(1)
    expect(walk.locator("#pj-names li")).to_contain_text("Axe")
    walk.get_by_role("button", name="Join screen").click()
    expect(walk.locator("#pj-overlay")).to_be_visible()
    assert_accessible(walk)
    walk.get_by_role("button", name="Start").click()
    walk.get_by_label("Question to project").select_option(index=1)
    expect(walk.locator(".pj-bar").first).to_be_visible()
    assert_accessible(walk)
    # The question asked before closing the class (Escape says no: the walk goes on).
    walk.get_by_role("button", name="Close class").click()
    expect(walk.locator("#pj-confirm")).to_be_visible()
    assert_accessible(walk)
    walk.keyboard.press("Escape")
    expect(walk.locator("#pj-confirm")).to_be_hidden()
