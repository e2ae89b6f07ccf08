"""In Chromium: the pages work under their Content-Security-Policy, the instructor's token never
stays in an address the browser keeps, and signing out ends the instructor's access."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.learner_page import commit, experiment, open_lesson, question_card

pytestmark = pytest.mark.browser

# Recorded by the page itself, from before its first script runs to the end of the test.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__csp.push(`${e.violatedDirective}: ${e.blockedURI || "inline"} (${where})`);
});
"""


@pytest.fixture
def watched(browser: Browser):
    """A page that keeps every CSP violation and every console error it sees."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()
    page.errors = []
    # A 404 or 403 page logs its status as a console error; anything else is a real one.
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")
            and page.errors.append(m.text)
        ),
    )
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__csp") + page.errors


def test_the_policy_is_enforced_and_the_watch_sees_it(watched: Page, base_url: str):
    watched.goto(base_url + "/")
    watched.evaluate(
        """() => {
            const s = document.createElement("script");
            s.textContent = "window.inlineRan = true";
            document.body.append(s);
        }"""
    )
    # A function, not an expression: Playwright polls an expression with eval(), which the
    # page's policy refuses (a wait that was not true at once failed in CI that way).
    watched.wait_for_function("() => window.__csp.some((v) => v.startsWith('script-src'))")
    assert watched.evaluate("window.inlineRan") is None  # an inline script would run at once


def test_a_lesson_works_under_the_policy_with_no_violation(watched: Page, base_url: str):
    open_lesson(watched, base_url, "what-is-a-task")
    commit(watched, "lesson1-direct-call", "b")
    panel = experiment(watched, "lesson1.direct")
    panel.get_by_role("button").click()
    expect(panel.locator(".outcome")).to_contain_text("ordinary function call")
    watched.locator("#theme-toggle").click()
    watched.locator("#size-toggle").click()
    expect(watched.locator("html")).to_have_attribute("data-size", "large")
    assert violations(watched) == []


def test_a_task_streams_back_under_the_policy(watched: Page, base_url: str):
    open_lesson(watched, base_url, "delay-vs-direct-call")
    # Reveal every prediction in page order (each one's card appears once the one before it is
    # answered), so the .delay() panel is shown whatever questions the lesson asks.
    for question in watched.locator(".quiz-question").evaluate_all(
        "cards => cards.map(c => c.dataset.question)"
    ):
        question_card(watched, question).get_by_role("button", name="Show me anyway").click()
        expect(watched.locator(f'.after-prediction[data-after="{question}"]')).to_be_visible()
    panel = experiment(watched, "lesson5.delay")
    panel.locator("input[name=seconds]").fill("1")
    panel.get_by_role("button").click()
    card = watched.locator(".task").first
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15_000)
    assert violations(watched) == []


@pytest.mark.parametrize("path", ["/", "/quiz", "/progress", "/join", "/nowhere"])
def test_other_pages_load_with_no_violation(watched: Page, base_url: str, path: str):
    watched.goto(base_url + path)
    watched.wait_for_load_state("networkidle")
    assert violations(watched) == []


def test_the_instructors_link_leaves_no_token_in_history_or_referrers(
    watched: Page, stack, base_url: str
):
    watched.goto(base_url + "/")
    watched.goto(f"{base_url}/classroom/instructor?token={stack.instructor_token}")
    expect(watched).to_have_url(f"{base_url}/classroom/")
    watched.get_by_role("button", name="Open a new class").click()
    expect(watched.locator("#conn")).to_have_text("live")  # the projector, under the policy
    with watched.expect_request("**/classroom/") as request:
        watched.goto(base_url + "/classroom/")
    assert stack.instructor_token not in (request.value.headers.get("referer") or "")
    watched.go_back()  # the projector
    watched.go_back()  # the dashboard the link led to
    watched.go_back()  # the page before the link: the link itself is not in the history
    expect(watched).to_have_url(base_url + "/")
    history = watched.evaluate("performance.getEntriesByType('navigation')[0].name")
    assert stack.instructor_token not in history
    assert violations(watched) == []


def test_the_sign_out_button_ends_instructor_access(watched: Page, stack, base_url: str):
    watched.goto(f"{base_url}/classroom/instructor?token={stack.instructor_token}")
    watched.get_by_role("button", name="Open a new class").click()
    expect(watched.locator("#conn")).to_have_text("live")
    watched.get_by_role("button", name="Start").click()  # the join screen, put away
    watched.get_by_role("button", name="Sign out").click()  # on the projector
    expect(watched).to_have_url(base_url + "/")
    assert violations(watched) == []
    assert watched.goto(base_url + "/classroom/").status == 403


def test_the_dashboards_sign_out_button_too(watched: Page, stack, base_url: str):
    watched.goto(f"{base_url}/classroom/instructor?token={stack.instructor_token}")
    watched.get_by_role("button", name="Sign out").click()
    expect(watched).to_have_url(base_url + "/")
    assert watched.goto(base_url + "/classroom/").status == 403
