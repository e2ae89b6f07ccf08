"""The site around the lessons, in Chromium: the course map, moving between lessons, themes,
the keyboard, a phone's width, and a page that never asks anything of another host."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

import lifecycle
from config import ROOT
from tests.support.learner_page import experiment, experiment_selector, open_lesson
from web.lessons import library

pytestmark = pytest.mark.browser

LESSONS = [library.parse(path) for path in sorted((ROOT / "lessons").glob("[0-9][0-9]-*.md"))]


def unlock_every_prediction(page: Page, base_url: str, slug: str) -> None:
    """Show the whole lesson: say "show me anyway" to each prediction, as this learner."""
    page.goto(f"{base_url}/lessons/{slug}")
    for qid in page.locator(".quiz-question[data-question]").evaluate_all(
        "cards => cards.map(c => c.dataset.question)"
    ):
        response = page.request.post(
            f"{base_url}/api/answers", data={"question": qid, "skip": True}
        )
        assert response.ok or response.json()["error"] == "already_answered", response.text()
    page.reload()
    expect(page.locator(".after-prediction[hidden]")).to_have_count(0)


def tab_to(page: Page, selector: str, limit: int = 400) -> None:
    """Press Tab until the focused element matches ``selector``, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_home_page_lists_the_lessons_in_order_and_each_link_opens_it(page: Page, base_url: str):
    page.goto(base_url + "/")
    steps = page.locator(".course-step")
    expect(steps).to_have_count(len(LESSONS))
    for i, lesson in enumerate(LESSONS):
        step = steps.nth(i)
        expect(step).to_have_attribute("data-lesson", lesson.slug)
        expect(step.locator(".num")).to_contain_text(str(lesson.number))
        expect(step.locator(".course-title")).to_have_text(lesson.title)
        expect(step.locator(".summary")).to_have_text(lesson.summary)
    for lesson in LESSONS:
        page.goto(base_url + "/")
        page.locator(f'.course-step[data-lesson="{lesson.slug}"] a').first.click()
        expect(page).to_have_url(f"{base_url}/lessons/{lesson.slug}")
        expect(page.locator("h1")).to_have_text(lesson.title)


def test_next_and_previous_walk_through_every_lesson_in_order(page: Page, base_url: str):
    page.goto(f"{base_url}/lessons/{LESSONS[0].slug}")
    forward = [page.locator("h1").inner_text()]
    while page.locator('a[rel="next"]').count():
        page.locator('a[rel="next"]').click()
        expect(page.locator("h1")).not_to_have_text(forward[-1])
        forward.append(page.locator("h1").inner_text())
    assert forward == [lesson.title for lesson in LESSONS]
    backward = [forward[-1]]
    while page.locator('a[rel="prev"]').count():
        page.locator('a[rel="prev"]').click()
        expect(page.locator("h1")).not_to_have_text(backward[-1])
        backward.append(page.locator("h1").inner_text())
    assert backward == forward[::-1]
    page.locator('a[rel="home"]').first.click()
    expect(page.locator(".course-step")).to_have_count(len(LESSONS))


def colours(page: Page) -> tuple[str, str]:
    return page.evaluate(
        """() => [getComputedStyle(document.body).backgroundColor,
                  getComputedStyle(document.querySelector('.highlight')).backgroundColor]"""
    )


def is_dark(rgb: str) -> bool:
    red, green, blue = (int(n) for n in re.findall(r"\d+", rgb)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue < 100


def test_the_theme_toggle_switches_light_and_dark_and_remembers_the_choice(
    page: Page, base_url: str
):
    page.emulate_media(color_scheme="light")
    page.goto(f"{base_url}/lessons/{LESSONS[-1].slug}")
    toggle = page.locator("#theme-toggle")
    body, code = colours(page)
    assert not is_dark(body) and not is_dark(code)
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    body, code = colours(page)
    assert is_dark(body) and is_dark(code), "the page and its highlighted code both turn dark"
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    toggle.click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert not is_dark(colours(page)[0])


def test_large_type_for_a_projector_scales_the_page_and_is_remembered(page: Page, base_url: str):
    page.goto(base_url + "/")
    size = "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"
    normal = page.evaluate(size)
    page.locator("#size-toggle").click()
    expect(page.locator("#size-toggle")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate(size) >= normal * 1.3
    page.reload()
    assert page.evaluate(size) >= normal * 1.3


def test_the_keyboard_alone_answers_a_prediction_and_runs_an_experiment(page: Page, base_url: str):
    open_lesson(page, base_url, "delay-vs-direct-call")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.matches('a.skip')"), "first Tab: skip link"

    tab_to(page, "#q-lesson5-direct-wait input[type=radio]")
    # The choices come in this learner's own order: find where the right one (id b) sits.
    spot = page.evaluate(
        "[...document.querySelectorAll('#q-lesson5-direct-wait label.choice')]"
        ".findIndex((l) => l.dataset.choice === 'b')"
    )
    if spot == 0:
        page.keyboard.press("Space")
    for _ in range(spot):
        page.keyboard.press("ArrowDown")  # a radio group: arrows move and choose
    tab_to(page, "#q-lesson5-direct-wait button.commit")
    page.keyboard.press("Enter")
    expect(page.locator("#q-lesson5-direct-wait .verdict")).to_contain_text("Right")

    panel = experiment_selector("lesson5.direct")
    tab_to(page, f"{panel} input[name=seconds]")
    page.keyboard.press("Control+a")
    page.keyboard.type("1")
    tab_to(page, f"{panel} button.run")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows where the keyboard is"
    page.keyboard.press("Enter")
    expect(page.locator(f"{panel} .outcome")).to_contain_text("The page waited", timeout=15000)
    expect(page.locator(f"{panel} .outcome")).to_contain_text('"slept": 1')


def test_the_table_of_contents_marks_the_section_being_read(page: Page, base_url: str):
    lesson = LESSONS[-1]
    unlock_every_prediction(page, base_url, lesson.slug)
    last = lesson.toc[-1]
    page.locator(f'.toc a[href="#{last["id"]}"]').click()
    current = page.locator('.toc a[aria-current="location"]')
    expect(current).to_have_count(1)
    expect(current).to_have_text(last["name"])
    page.evaluate("window.scrollTo(0, 0)")
    expect(current).to_have_text(lesson.toc[0]["name"])


def test_the_pages_lifecycle_module_follows_the_servers_rule(page: Page, base_url: str):
    """lib/lifecycle.js reads the page's data: it agrees with lifecycle.advances on every pair."""
    page.goto(f"{base_url}/lessons/what-is-a-task")
    pairs = [[old, new] for old in [None, *lifecycle.STATES] for new in [*lifecycle.STATES, "log"]]
    moved = page.evaluate(
        """async (pairs) => {
            const {advances} = await import("/static/js/lib/lifecycle.js");
            return pairs.map(([old, next]) => advances(old, next));
        }""",
        pairs,
    )
    assert moved == [lifecycle.advances(old, new) for old, new in pairs]


def test_a_heading_a_prediction_unlocks_is_marked_in_the_table_of_contents(page: Page, base_url):
    page.goto(f"{base_url}/lessons/what-is-a-task")
    unlocked = next(t for t in LESSONS[0].toc if t["locks"] == ["lesson1-direct-call"])
    link = page.locator(f'nav.toc a[href="#{unlocked["id"]}"]')
    expect(link).to_have_count(0)  # hidden behind the prediction, so not listed yet
    card = page.locator('.quiz-question[data-question="lesson1-direct-call"]')
    card.get_by_role("button", name="Show me anyway").click()
    expect(link).to_have_count(1)  # the list was rebuilt with the heading in it
    link.click()
    expect(link).to_have_attribute("aria-current", "location")


def test_at_phone_width_no_page_scrolls_sideways(page: Page, base_url: str):
    page.set_viewport_size({"width": 360, "height": 740})
    width = "document.documentElement.scrollWidth"
    page.goto(base_url + "/")
    assert page.evaluate(width) <= 360
    for lesson in LESSONS:
        unlock_every_prediction(page, base_url, lesson.slug)
        assert page.evaluate(width) <= 360, f"{lesson.slug} scrolls sideways on a phone"
    # A task card under its button fits too.
    unlock_every_prediction(page, base_url, "delay-vs-direct-call")
    panel = experiment(page, "lesson5.delay")
    panel.get_by_role("button").click()
    card = panel.locator(".panel-tasks .task")
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15000)
    assert page.evaluate(width) <= 360


def test_no_request_leaves_the_site(page: Page, base_url: str):
    site = urlsplit(base_url).netloc
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("websocket", lambda ws: requested.append(ws.url))
    page.goto(base_url + "/")
    for lesson in LESSONS:
        open_lesson(page, base_url, lesson.slug)
    unlock_every_prediction(page, base_url, "delay-vs-direct-call")
    panel = experiment(page, "lesson5.delay")
    panel.get_by_role("button").click()
    expect(page.locator(".task").first).to_have_attribute("data-state", "succeeded", timeout=15000)
    assert any(url.startswith("ws://") for url in requested)
    elsewhere = [
        url for url in requested if not url.startswith("data:") and urlsplit(url).netloc != site
    ]
    assert not elsewhere, elsewhere
