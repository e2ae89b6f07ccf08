"""Grading and storing answers: the key stays on the server, and a learner's first answer counts.

Re-answer policy: **the first answer counts**. A learner commits once per question; a second
answer to the same question is refused (400 ``already_answered``, nothing stored) and the page
shows the first one again. Predictions only work if the learner cannot peek and then change
their mind, and a quiz score means what was answered first. "Show me anyway" on a prediction
is a response too: it is stored with ``skipped: true`` and no answer, never graded right, and
it closes the question like an answer does. Resetting one's progress
(``web/quiz/course_progress.py``) clears every answer, so a learner who wants another go can
have one.

**Retrying what you missed**: a question first answered wrong (or shown without answering)
may be tried again from ``/progress`` with ``"retry": true``. Retries are stored apart
(``keys.learner_retries``) and never change the first answer, its score or a classroom's
tally; each attempt shows the choices in a fresh order (the salt is the attempt number), and
once a retry is right the question is done.

Choices are stored by **choice id** (the YAML key), never by the letter the learner saw: each
learner sees their own order (``Question.shuffled``), and tallies add up across learners.

What is stored (``keys.learner_answers``, one hash field per question, set with HSETNX so two
racing requests cannot both be "first")::

    {"learner": "…", "question": "lesson5-direct-wait", "answer": "b", "correct": true,
     "skipped": false, "time": 1732480000.123}

and per retried question (``keys.learner_retries``)::

    {"question": "…", "answer": "c", "correct": false, "attempts": 2, "time": …}
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis

from .. import keys
from ..errors import LabError
from .questions import LETTERS, Choice, Question

# Progress outlives the 365-day cookie that names the learner; each write renews it.
PROGRESS_TTL_SECONDS = 400 * 24 * 3600
FIELDS = ("question", "answer", "skip", "retry")


@dataclass(frozen=True)
class Submission:
    question: Question
    answer: str | None
    skipped: bool
    retry: bool = False


def retry_salt(attempts: int) -> str:
    """The shuffle salt of a learner's next retry after ``attempts`` earlier ones."""
    return f"retry-{attempts + 1}"


EXAMPLE = '{"question": "lesson5-direct-wait", "answer": "b"}'


def parse(body: dict, bank) -> Submission:
    """Validate ``{"question": id, "answer": id}``, ``{…, "skip": true}`` or ``{…, "retry": …}``.

    ``body`` is the request's JSON object (web/errors.py ``read_json``, with ``EXAMPLE``).
    """
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise LabError(
            f"Unknown field {unknown[0][:40]!r}; send question and answer (or skip).",
            "unknown_field",
        )
    qid = body.get("question")
    question = bank.get(qid) if isinstance(qid, str) else None
    if question is None:
        raise LabError(f"There is no question {str(qid)[:60]!r}.", "unknown_question")
    retry = body.get("retry", False)
    if not isinstance(retry, bool):  # 1 == True in Python, but a 1 is not a yes here
        raise LabError("retry must be true or left out.", "invalid_answer")
    skip = body.get("skip", False)
    if skip is not False:
        if skip is not True:
            raise LabError("skip must be true or left out.", "invalid_answer")
        if "answer" in body:
            raise LabError("Send an answer or skip, not both.", "invalid_answer")
        if retry:
            raise LabError(
                "A retry needs an answer: skipping it shows nothing new.", "invalid_answer"
            )
        if question.kind != "prediction":
            raise LabError(
                "Only a prediction can be skipped; a myth needs an answer.", "invalid_answer"
            )
        return Submission(question, None, True)
    answer = body.get("answer")
    if not isinstance(answer, str) or answer not in question.choice_keys:
        raise LabError(
            f"The answer must be one of this question's choices; you sent {str(answer)[:20]!r}.",
            "invalid_answer",
        )
    return Submission(question, answer, False, retry)


def submit(db: redis.Redis, learner: str, submission: Submission) -> dict:
    """Grade and store the learner's first response to a question; refuse a second."""
    if submission.retry:
        return submit_retry(db, learner, submission)
    question = submission.question
    record = {
        "learner": learner,
        "question": question.id,
        "answer": submission.answer,
        "correct": (not submission.skipped) and question.grade(submission.answer),
        "skipped": submission.skipped,
        "time": round(time.time(), 3),
    }
    key = keys.learner_answers(learner)
    if not db.hsetnx(key, question.id, json.dumps(record)):
        first = answers(db, learner).get(question.id, {})
        said = "chose to see it without answering" if first.get("skipped") else "answered it"
        raise LabError(
            f"You already {said}; your first response counts. "
            "Questions you missed can be tried again from your progress page.",
            "already_answered",
        )
    db.expire(key, PROGRESS_TTL_SECONDS)
    return record


def submit_retry(db: redis.Redis, learner: str, submission: Submission) -> dict:
    """Grade and store another try at a question the learner missed the first time."""
    question = submission.question
    first = answers(db, learner).get(question.id)
    if first is None:
        raise LabError("Answer this question first; a retry is for ones you missed.", "not_missed")
    if first["correct"]:
        raise LabError("You got this one right the first time: nothing to retry.", "not_missed")
    earlier = retries(db, learner).get(question.id)
    if earlier and earlier["correct"]:
        raise LabError("Your retry of this one was already right.", "already_answered")
    attempts = earlier["attempts"] if earlier else 0
    record = {
        "learner": learner,
        "question": question.id,
        "answer": submission.answer,
        "correct": question.grade(submission.answer),
        "skipped": False,
        "retry": True,
        "attempts": attempts + 1,
        "time": round(time.time(), 3),
    }
    key = keys.learner_retries(learner)
    db.hset(key, question.id, json.dumps(record))
    db.expire(key, PROGRESS_TTL_SECONDS)
    return record


def answers(db: redis.Redis, learner: str) -> dict[str, dict]:
    """Every stored first response of the learner, by question id."""
    return {qid: json.loads(raw) for qid, raw in db.hgetall(keys.learner_answers(learner)).items()}


def retries(db: redis.Redis, learner: str) -> dict[str, dict]:
    """The learner's latest retry of each question they tried again, by question id."""
    return {qid: json.loads(raw) for qid, raw in db.hgetall(keys.learner_retries(learner)).items()}


def lettered(ordered: tuple[Choice, ...]) -> list[tuple[str, Choice]]:
    """(letter shown, choice) pairs: the letter is the position in the learner's order."""
    return [(LETTERS[i], c) for i, c in enumerate(ordered)]


def graded(question: Question, record: dict, ordered: tuple[Choice, ...]) -> dict:
    """What the learner is told once they have responded: now the key and every why may be sent.

    ``ordered`` is the order the learner saw, so the letters named match the page.
    """
    letter = {c.key: ltr for ltr, c in lettered(ordered)}
    return {
        "question": question.id,
        "kind": question.kind,
        "answer": record["answer"],
        "answer_letter": letter.get(record["answer"]),
        "skipped": record["skipped"],
        "correct": record["correct"],
        "correct_answer": question.answer,
        "correct_letter": letter[question.answer],
        "retry": bool(record.get("retry")),
        "time": record["time"],
        "prove": question.prove,
        "choices": [
            {"key": c.key, "letter": ltr, "correct": c.key == question.answer, "why": c.why_html}
            for ltr, c in lettered(ordered)
        ],
    }
