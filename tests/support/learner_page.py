"""What a learner does on the site in Chromium, shared by the browser tests.

Each helper acts the way a learner does (opens a page, picks a choice, presses a button) and then
waits on what the page shows, never on time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from playwright.sync_api import Locator, Page, expect

# A lesson's predictions in page order with the answer to give each: pairs, or a dict of them.
Predictions = Mapping[str, str] | Iterable[tuple[str, str]]


def open_live(page: Page, url: str) -> None:
    """Open ``url`` and wait until the page's websocket to the lab says it is live."""
    page.goto(url)
    expect(page.locator("#conn")).to_have_text("live")


def open_lesson(page: Page, base_url: str, slug: str) -> None:
    """Open the lesson ``slug`` and wait until its websocket is live."""
    open_live(page, f"{base_url}/lessons/{slug}")


def question_card(page: Page, question: str) -> Locator:
    """Return the card of one prediction or myth."""
    return page.locator(f'.quiz-question[data-question="{question}"]')


def answer(page: Page, question: str, choice: str) -> Locator:
    """Commit to ``choice`` as a learner does and wait for the text after it; return the card."""
    card = question_card(page, question)
    card.locator(f'label[data-choice="{choice}"]').click()
    card.get_by_role("button", name="Commit to this answer").click()
    expect(page.locator(f'.after-prediction[data-after="{question}"]')).to_be_visible()
    return card


def commit(page: Page, question: str, choice: str) -> None:
    """Commit to the right ``choice``: the verdict says so and the text after it appears."""
    card = answer(page, question, choice)
    expect(card.locator(".verdict")).to_contain_text("Right")


def commit_all(page: Page, predictions: Predictions) -> None:
    """Commit to the right answer of every prediction, in page order."""
    for question, choice in dict(predictions).items():
        commit(page, question, choice)


def commit_through(page: Page, predictions: Predictions, last: str) -> None:
    """Commit to the right answer of each prediction in page order, up to and with ``last``."""
    for question, choice in dict(predictions).items():
        commit(page, question, choice)
        if question == last:
            return
    raise ValueError(f"{last!r} is not one of the predictions")


def experiment_selector(name: str) -> str:
    """Return the CSS selector of the lesson's own panel, not a copy in a question's "Prove it"."""
    return f'section.experiment[data-experiment="{name}"]:not(.prove-panel *)'


def experiment(page: Page, name: str) -> Locator:
    """Return the lesson's own panel for the experiment ``name``."""
    return page.locator(experiment_selector(name))


def press(page: Page, name: str, **params) -> str | None:
    """Fill the panel's inputs, press its button, and return the task id it sent, if any."""
    panel = experiment(page, name)
    for field, value in params.items():
        panel.locator(f"input[name={field}]").fill(str(value))
    return reply_of(panel, lambda: panel.get_by_role("button").first.click()).get("task_id")


def reply_of(panel: Locator, click) -> dict:
    """Call ``click`` and return the runner's reply to that press (web/live/runner.py).

    A ``.delay()`` press goes over the page's websocket, a direct call is a POST: lab.js hands
    either reply to the panel as a ``celerylab:reply`` event, which this waits for.
    """
    panel.evaluate(
        """p => { p.__reply = null;
        p.addEventListener("celerylab:reply", (e) => { p.__reply = e.detail; }, {once: true}); }"""
    )
    click()
    return panel.page.wait_for_function("p => p.__reply", arg=panel.element_handle()).json_value()


def card(page: Page, task_id: str) -> Locator:
    """Return the task card the page drew for ``task_id``."""
    return page.locator(f'.task[data-task-id="{task_id}"]')
