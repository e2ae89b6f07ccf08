"""A learner opens a lesson's "Your turn" panel, edits the real files in CodeMirror, presses
Run, and watches their own task go through their own worker; the check says what happened.

Chromium against a site with a real playground worker (tests/support/playground_stack.py): every Run
here is a real sandboxed run. One stack serves the whole module.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.learner_page import open_live
from tests.support.playground_stack import EXERCISE_ENV, site_fixture
from web.your_turn.exercises import load

pytestmark = pytest.mark.browser

EXERCISES = {e.id: e for e in load(Path(__file__).parent.parent / "lessons" / "exercises")}
SLUGS = {
    1: "what-is-a-task",
    2: "celery-with-flask",
    3: "the-task-decorator",
    4: "passing-arguments",
    5: "delay-vs-direct-call",
    6: "tasks-in-their-own-modules",
    7: "serialization-and-its-limits",
    10: "when-things-go-wrong",
}
RUN_TIMEOUT = 40_000  # ms: a real worker in a sandbox on a busy 2-core machine


site = site_fixture(**EXERCISE_ENV)


@pytest.fixture(scope="session")
def browser_context_args():
    # This module's pages come from its own site (``site``), not the session's stack.
    return {}


def open_exercise(page: Page, site, exercise_id: str) -> Locator:
    """Open the exercise's lesson, scroll to its panel and wait for its editors."""
    slug = SLUGS[EXERCISES[exercise_id].lesson]
    open_live(page, f"{site.base_url}/lessons/{slug}")
    panel = page.locator(f'.your-turn[data-exercise="{exercise_id}"]')
    panel.scroll_into_view_if_needed()
    panel.locator("h2").hover()  # a learner's pointer on the panel loads it at once
    expect(panel).to_have_attribute("data-ready", "yes")
    return panel


def editor(panel: Locator, name: str) -> Locator:
    return panel.locator(f'.yt-editor[data-file="{name}"] .cm-content')


def replace_text(page: Page, panel: Locator, name: str, text: str) -> None:
    """Select everything in one editor and paste ``text`` over it, as a learner would."""
    editor(panel, name).click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    expect(editor(panel, name)).to_contain_text(text.strip().splitlines()[-1].strip())


def run(panel: Locator, passed: bool) -> Locator:
    panel.get_by_role("button", name="Run", exact=True).click()
    verdict = panel.locator(".yt-verdict")
    expect(verdict).to_have_attribute("data-passed", "yes" if passed else "no", timeout=RUN_TIMEOUT)
    return verdict


def modified(panel: Locator, name: str) -> Locator:
    return panel.locator(f'.yt-file[data-file="{name}"] .yt-modified')


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_each_exercise_is_solved_through_the_editor(page: Page, site, exercise_id: str):
    exercise = EXERCISES[exercise_id]
    panel = open_exercise(page, site, exercise_id)
    solution = exercise.solution()
    for name, text in solution["files"].items():
        if text != exercise.files[name]:
            replace_text(page, panel, name, text)
            expect(modified(panel, name)).to_be_visible()
    if solution["view"] != exercise.view:
        replace_text(page, panel, "view", solution["view"])
    verdict = run(panel, passed=True)
    expect(verdict).to_contain_text("Solved!")
    # The run's own task, drawn on the lessons' task card, went through the learner's worker.
    card = panel.locator(".yt-tasks .task[data-state='succeeded']").first
    expect(card).to_be_visible()
    expect(panel.locator(".yt-banner")).to_contain_text("[tasks]")


def test_typing_the_decorator_is_not_enough_when_the_view_calls_add_directly(page: Page, site):
    panel = open_exercise(page, site, "01-add-on-worker")
    editor(panel, "tasks.py").click()
    page.keyboard.press("Control+Home")
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Home")
    page.keyboard.type("@shared_task")
    page.keyboard.press("Enter")
    expect(editor(panel, "tasks.py")).to_contain_text("@shared_task")
    expect(modified(panel, "tasks.py")).to_be_visible()
    expect(modified(panel, "view")).to_be_hidden()
    verdict = run(panel, passed=False)
    expect(verdict).to_contain_text("ran inside the view's own process")
    expect(panel.locator(".yt-registered")).to_contain_text("tasks.add")
    expect(panel.locator(".yt-view-out")).to_contain_text("the view got")
    # The hint is offered after the attempt, and given on request.
    panel.get_by_role("button", name="Show a hint").click()
    expect(panel.locator(".yt-hint-box")).to_contain_text("add.delay(x, y)")
    # After a reload the panel shows that run again, read back from the server.
    page.reload()
    panel = open_exercise(page, site, "01-add-on-worker")
    expect(panel.locator(".yt-verdict")).to_contain_text("ran inside the view's own process")
    expect(panel.locator(".yt-view-out")).to_contain_text("the view got")


def test_edits_survive_a_reload_and_reset_puts_the_start_back(page: Page, site):
    panel = open_exercise(page, site, "04-keyword-arguments")
    replace_text(page, panel, "view", "print('my own view')\n")
    expect(modified(panel, "view")).to_be_visible()
    expect(modified(panel, "tasks.py")).to_be_hidden()
    expect(panel.locator(".yt-saved")).to_have_attribute("data-state", "saved")
    page.reload()
    panel = open_exercise(page, site, "04-keyword-arguments")
    expect(editor(panel, "view")).to_contain_text("print('my own view')")
    expect(modified(panel, "view")).to_be_visible()

    panel.get_by_role("button", name="Reset…").click()
    dialog = panel.locator("dialog.yt-confirm")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Keep my edits").click()
    expect(dialog).to_be_hidden()
    expect(editor(panel, "view")).to_contain_text("my own view")

    panel.get_by_role("button", name="Reset…").click()
    dialog.get_by_role("button", name="Put them back").click()
    expect(editor(panel, "view")).to_contain_text("order.delay(")
    expect(modified(panel, "view")).to_be_hidden()
    expect(panel.locator(".yt-saved")).to_contain_text("Back to the starting files")
    page.reload()
    panel = open_exercise(page, site, "04-keyword-arguments")
    expect(editor(panel, "view")).to_contain_text("order.delay(")
    expect(modified(panel, "view")).to_be_hidden()


def test_the_playground_page_runs_a_task_of_your_own(page: Page, site):
    open_live(page, f"{site.base_url}/playground")
    panel = page.locator('.your-turn[data-scope="playground"]')
    expect(panel).to_have_attribute("data-ready", "yes")
    tasks_py = (
        "from celery import shared_task\n\n\n@shared_task\ndef mul(x, y):\n    return x * y\n"
    )
    replace_text(page, panel, "tasks.py", tasks_py)
    replace_text(page, panel, "view", "r = mul.delay(6, 7)\nprint('sent mul', r.id)\n")
    panel.get_by_role("button", name="Run", exact=True).click()
    expect(panel.locator(".yt-status")).to_contain_text("Run finished", timeout=RUN_TIMEOUT)
    expect(panel.locator(".yt-registered")).to_contain_text("tasks.mul")
    card = panel.locator(".yt-tasks .task[data-state='succeeded']")
    expect(card).to_contain_text("The worker returned 42")
    expect(panel.locator(".yt-view-out")).to_contain_text("sent mul")
    expect(panel.locator(".yt-worker-log")).to_contain_text("learner@playground ready.")
    # The same event log the lessons use lists the task's events, on the learner's worker.
    line = page.locator("#event-log li[data-state='succeeded']", has_text="learner@playground")
    expect(line).to_contain_text("result 42")
    expect(panel.locator(".yt-verdict")).to_be_empty()  # no exercise, no check


def test_the_editor_loads_only_when_its_panel_comes_near(page: Page, site):
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if "codemirror" in r.url else None)
    page.set_viewport_size({"width": 1000, "height": 360})
    open_live(page, f"{site.base_url}/lessons/{SLUGS[3]}")
    panel = page.locator('.your-turn[data-exercise="03-retry-with-backoff"]')
    expect(panel.locator(".yt-placeholder").first).to_contain_text("def call_service")
    # Far below the screen (the loader starts 300 px before a panel comes into view)...
    assert panel.evaluate("e => e.getBoundingClientRect().top") > 360 + 400
    assert fetched == [], "a lesson page must not load the editor before it is needed"
    panel.scroll_into_view_if_needed()
    expect(panel).to_have_attribute("data-ready", "yes")
    assert len(fetched) == 1


def test_the_panel_works_from_the_keyboard(page: Page, site):
    panel = open_exercise(page, site, "01-add-on-worker")
    editor(panel, "view").click()
    page.keyboard.press("Escape")  # CodeMirror's way out: Escape, then Tab moves focus on
    page.keyboard.press("Tab")
    run_button = panel.get_by_role("button", name="Run", exact=True)
    expect(run_button).to_be_focused()
    page.keyboard.press("Enter")
    expect(panel.locator(".yt-verdict")).to_have_attribute("data-passed", "no", timeout=RUN_TIMEOUT)
    page.keyboard.press("Tab")
    reset = panel.get_by_role("button", name="Reset…")
    expect(reset).to_be_focused()
    page.keyboard.press("Enter")
    dialog = panel.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Put them back")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(reset).to_be_focused()


def test_the_solution_is_offered_and_its_use_is_recorded(page: Page, site):
    panel = open_exercise(page, site, "04-keyword-arguments")
    panel.get_by_role("button", name="Show the solution").click()
    expect(panel.locator(".yt-solution-box")).to_contain_text("gift_wrap=True")
    panel.get_by_role("button", name="Put it in the editor").click()
    expect(editor(panel, "view")).to_contain_text("quantity=lab_inputs")
    expect(run(panel, passed=True)).to_contain_text("gift-wrapped")
    page.goto(f"{site.base_url}/progress")
    row = page.locator('tr[data-exercise="04-keyword-arguments"]')
    expect(row).to_contain_text("solved after showing the solution")


def test_the_projector_counts_the_learners_who_solved_the_lessons_exercise(
    browser, page: Page, site
):
    page.goto(f"{site.base_url}/classroom/instructor?token={site.instructor_token}")
    page.get_by_role("button", name="Open a new class").click()
    code = page.locator(".projector").get_attribute("data-code")
    page.locator("#pj-lesson").select_option("what-is-a-task")
    counts = page.locator('#pj-ex-list li[data-exercise="01-add-on-worker"]')
    expect(counts).to_contain_text("Let the worker add: 0 of 0 learners solved it")

    learner = browser.new_context()
    try:
        joined = learner.request.post(
            f"{site.base_url}/api/classroom/join", data={"code": code, "nickname": "Ada"}
        )
        assert joined.ok, joined.text()
        solution = EXERCISES["01-add-on-worker"].solution()
        sent = learner.request.post(
            f"{site.base_url}/api/playground/runs",
            data={**solution, "exercise": "01-add-on-worker"},
        )
        assert sent.status == 202, sent.text()
        expect(counts).to_contain_text("1 of 1 learners solved it", timeout=RUN_TIMEOUT)
    finally:
        learner.close()
