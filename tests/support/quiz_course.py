"""A tiny course of our own for the quiz tests: two lessons, two predictions and one myth.

The real lessons are being written while these tests run; a fixture course keeps the quiz's
tests about the quiz. Words marked SECRET appear only in what a learner may see after answering.
"""

from __future__ import annotations

from pathlib import Path

FIRST_LESSON = """---
title: First steps
summary: A lesson with two predictions.
---
Some text before any prediction.

[[predict fx-first]]

## After the first prediction

Text hidden until the first answer: ALPHA-AFTER.

[[experiment lesson5.delay]]

[[predict fx-second]]

Text hidden until the second answer: BETA-AFTER.
"""

SECOND_LESSON = """---
title: No questions here
summary: A lesson without predictions.
---
## Just reading

Plain text: GAMMA-PLAIN.
"""

FIRST_QUESTIONS = """
- id: fx-first
  kind: prediction
  prompt: "Where does a plain call to a task run?"
  choices:
    a: {text: "On a worker.", why: "WHY-FIRST-A-SECRET: a call is not a message."}
    b: {text: "In the calling process.", why: "WHY-FIRST-B-SECRET: parentheses run it here."}
    c: {text: "In a thread.", why: "WHY-FIRST-C-SECRET: Celery starts no thread."}
  answer: b
  reveal: "REVEAL-FIRST-SECRET: the caller runs it."
  prove: lesson5.direct

- id: fx-second
  kind: prediction
  prompt: "What does `.delay()` return?"
  choices:
    a: {text: "An AsyncResult.", why: "WHY-SECOND-A-SECRET: a handle."}
    b: {text: "The result.", why: "WHY-SECOND-B-SECRET: not yet."}
  answer: a
  reveal: "REVEAL-SECOND-SECRET: a handle with the task id."
"""

MYTHS = """
- id: fx-myth
  kind: myth
  myth: "Decorating a function makes every call run in the background."
  prompt: "Where does `add(2, 3)` run once `add` is decorated?"
  choices:
    a: {text: "On a worker.", why: "WHY-MYTH-A-SECRET: decorating is not sending."}
    b: {text: "In a thread.", why: "WHY-MYTH-B-SECRET: no thread."}
    c: {text: "In the calling process.", why: "WHY-MYTH-C-SECRET: a plain call."}
  answer: c
  reveal: "REVEAL-MYTH-SECRET: the caller runs it."
  matters: "MATTERS-MYTH-SECRET: forgetting .delay() blocks the page."
  prove: lesson5.delay
  prove_params: {seconds: 1}
"""

SECRETS = (
    "WHY-FIRST-A-SECRET",
    "WHY-FIRST-B-SECRET",
    "WHY-FIRST-C-SECRET",
    "WHY-SECOND-A-SECRET",
    "WHY-MYTH-A-SECRET",
    "WHY-MYTH-C-SECRET",
    "REVEAL-FIRST-SECRET",
    "REVEAL-SECOND-SECRET",
    "REVEAL-MYTH-SECRET",
    "MATTERS-MYTH-SECRET",
)
ANSWERS = {"fx-first": "b", "fx-second": "a", "fx-myth": "c"}
WRONG = {"fx-first": "a", "fx-second": "b", "fx-myth": "a"}


def write_course(root: Path) -> Path:
    """Write the fixture course under ``root``; return the lessons directory."""
    lessons = root / "lessons"
    questions = lessons / "questions"
    questions.mkdir(parents=True)
    (lessons / "01-first-steps.md").write_text(FIRST_LESSON)
    (lessons / "02-no-questions.md").write_text(SECOND_LESSON)
    (questions / "01.yaml").write_text(FIRST_QUESTIONS)
    (questions / "myths.yaml").write_text(MYTHS)
    return lessons


def leaked(text: str) -> list[str]:
    """Whatever in ``text`` gives an answer away before the learner has answered."""
    found = [s for s in SECRETS if s in text]
    for marker in (
        "correct_answer",
        "choice correct",
        "data-correct",
        "verdict-body",
        "choice-why",
    ):
        if marker in text:
            found.append(marker)
    return found
