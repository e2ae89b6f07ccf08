"""A learner's progress: lessons read, predictions made, myth-buster score, and starting over.

A lesson counts as **read** when the learner reaches its end: the page's ``.lesson-end``
marker scrolls into view and ``quiz.js`` posts ``/api/progress/read``. The marker sits after
every prediction's hidden text, so a lesson with predictions is read only once they are all
answered (or shown). Opening a page is not reading it.
"""

from __future__ import annotations

import time

import redis

from .. import keys
from ..lessons.library import Lesson
from .grading import PROGRESS_TTL_SECONDS, answers, retries
from .questions import Bank


def mark_read(db: redis.Redis, learner: str, slug: str) -> None:
    """Record when the learner first reached the end of a lesson."""
    key = keys.learner_read(learner)
    db.hsetnx(key, slug, round(time.time(), 3))
    db.expire(key, PROGRESS_TTL_SECONDS)


def read_lessons(db: redis.Redis, learner: str) -> dict[str, float]:
    return {slug: float(at) for slug, at in db.hgetall(keys.learner_read(learner)).items()}


def reset(db: redis.Redis, learner: str) -> None:
    """Forget everything this learner has read and answered (and nobody else's)."""
    db.delete(
        keys.learner_answers(learner), keys.learner_read(learner), keys.learner_retries(learner)
    )
    db.delete(keys.learner_exercises(learner))  # exercises solved (their edits are kept)


def missed(db: redis.Redis, learner: str, bank: Bank) -> list[dict]:
    """Questions the learner got wrong (or saw without answering) first time, in course order.

    Each comes with its latest retry record (None if not retried yet).
    """
    responses, tries = answers(db, learner), retries(db, learner)
    order = sorted(bank.all(), key=lambda q: (q.lesson is None, q.lesson or 0))
    return [
        {"question": q.id, "retry": tries.get(q.id)}
        for q in order
        if q.id in responses and not responses[q.id]["correct"]
    ]


def _tally(ids: list[str], responses: dict[str, dict]) -> dict:
    mine = [responses[q] for q in ids if q in responses]
    return {
        "total": len(ids),
        "answered": sum(1 for r in mine if not r["skipped"]),
        "correct": sum(1 for r in mine if r["correct"]),
        "shown": sum(1 for r in mine if r["skipped"]),
    }


def summary(db: redis.Redis, learner: str, lessons: list[Lesson], bank: Bank) -> dict:
    """Everything the progress page and the course map show; no answer keys."""
    responses = answers(db, learner)
    read = read_lessons(db, learner)
    rows = []
    for lesson in lessons:
        placed = [q for q in lesson.predictions if bank.get(q) is not None]
        rows.append(
            {
                "slug": lesson.slug,
                "number": lesson.number,
                "title": lesson.title,
                "read": lesson.slug in read,
                "read_at": read.get(lesson.slug),
                "predictions": _tally(placed, responses),
            }
        )
    myths = [q.id for q in bank.myths()]
    known = {q.id for q in bank.all()}
    history = sorted(
        (
            {k: r[k] for k in ("question", "answer", "correct", "skipped", "time")}
            for qid, r in responses.items()
            if qid in known
        ),
        key=lambda r: r["time"],
    )
    # Retries are counted apart: first answers (the scores above) never change.
    missed_now = missed(db, learner, bank)
    retried = [m["retry"] for m in missed_now if m["retry"]]
    again = {
        "missed": len(missed_now),
        "retried": len(retried),
        "right": sum(1 for r in retried if r["correct"]),
    }
    return {
        "lessons": rows,
        "myths": _tally(myths, responses),
        "answers": history,
        "retries": again,
    }
