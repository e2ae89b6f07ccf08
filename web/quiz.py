"""Grading and storing answers: the key stays on the server, and a learner's first answer counts.

Re-answer policy: **the first answer counts**. A learner commits once per question; a second
answer to the same question is refused (400 ``already_answered``, nothing stored) and the page
shows the first one again. Predictions only work if the learner cannot peek and then change
their mind, and a quiz score means what was answered first. "Show me anyway" on a prediction
is a response too: it is stored with ``skipped: true`` and no answer, never graded right, and
it closes the question like an answer does. Resetting one's progress (``web/progress.py``)
clears every answer, so a learner who wants another go can have one.

What is stored (``keys.learner_answers``, one hash field per question, set with HSETNX so two
racing requests cannot both be "first")::

    {"learner": "…", "question": "lesson5-direct-wait", "answer": "b", "correct": true,
     "skipped": false, "time": 1732480000.123}
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis

from . import keys
from .questions import Bank, Question

# Progress outlives the 365-day cookie that names the learner; each write renews it.
PROGRESS_TTL_SECONDS = 400 * 24 * 3600
FIELDS = ("question", "answer", "skip")


class AnswerError(ValueError):
    """An answer the site will not take; the message is written for the learner."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code

    def as_dict(self) -> dict:
        return {"error": self.code, "message": str(self)}


@dataclass(frozen=True)
class Submission:
    question: Question
    answer: str | None
    skipped: bool


def parse(raw: bytes, bank: Bank) -> Submission:
    """Validate ``{"question": id, "answer": key}`` or ``{"question": id, "skip": true}``."""
    try:
        body = json.loads(raw)
    except ValueError:  # also UnicodeDecodeError: the body is not JSON text at all
        raise AnswerError("The request body is not valid JSON.", "bad_json") from None
    if not isinstance(body, dict):
        raise AnswerError(
            'Send a JSON object, like {"question": "lesson5-direct-wait", "answer": "b"}.',
            "bad_body",
        )
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise AnswerError(
            f"Unknown field {unknown[0][:40]!r}; send question and answer (or skip).",
            "unknown_field",
        )
    qid = body.get("question")
    question = bank.get(qid) if isinstance(qid, str) else None
    if question is None:
        raise AnswerError(f"There is no question {str(qid)[:60]!r}.", "unknown_question")
    skip = body.get("skip", False)
    if skip is not False:
        if skip is not True:
            raise AnswerError("skip must be true or left out.", "invalid_answer")
        if "answer" in body:
            raise AnswerError("Send an answer or skip, not both.", "invalid_answer")
        if question.kind != "prediction":
            raise AnswerError(
                "Only a prediction can be skipped; a myth needs an answer.", "invalid_answer"
            )
        return Submission(question, None, True)
    answer = body.get("answer")
    if answer not in question.choice_keys:
        keys_ = ", ".join(question.choice_keys)
        raise AnswerError(
            f"The answer must be one of {keys_}; you sent {str(answer)[:20]!r}.", "invalid_answer"
        )
    return Submission(question, answer, False)


def submit(db: redis.Redis, learner: str, submission: Submission) -> dict:
    """Grade and store the learner's first response to a question; refuse a second."""
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
        said = (
            "chose to see it without answering"
            if first.get("skipped")
            else (f"answered {first.get('answer')!r}")
        )
        raise AnswerError(
            f"You already {said}; your first response counts. Reset your progress to try again.",
            "already_answered",
        )
    db.expire(key, PROGRESS_TTL_SECONDS)
    return record


def answers(db: redis.Redis, learner: str) -> dict[str, dict]:
    """Every stored response of the learner, by question id."""
    return {qid: json.loads(raw) for qid, raw in db.hgetall(keys.learner_answers(learner)).items()}


def graded(question: Question, record: dict) -> dict:
    """What the learner is told once they have responded: now the key may be sent."""
    return {
        "question": question.id,
        "kind": question.kind,
        "answer": record["answer"],
        "skipped": record["skipped"],
        "correct": record["correct"],
        "correct_answer": question.answer,
        "time": record["time"],
        "prove": question.prove,
    }
