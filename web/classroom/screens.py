"""What a projector shows: a class's snapshot, one question's tally, and live class notices.

The answer to a question is part of what is sent only once the instructor reveals it, so it
cannot leak from a projected screen (or its page source) before then.
"""

from __future__ import annotations

from flask import current_app, url_for

from ..extensions import get_redis
from ..lessons.library import get_library
from ..live import protocol
from ..live.delivery import Key
from ..quiz.questions import get_bank
from . import rooms, task_tally
from .worker_panel import depth_history, stored_panel


def join_url(code: str) -> str:
    """The link a learner opens to join (the QR code's text): at the site's public address
    (CELERY_LAB_PUBLIC_URL, set by classroom mode) if it has one, else the address asked."""
    public = current_app.config.get("PUBLIC_URL")
    if public:
        return public + url_for("class_learners.join_page", code=code)
    return url_for("class_learners.join_page", code=code, _external=True)


def questions() -> list:
    # Lesson order, then the myth-busters quiz.
    return sorted(get_bank().all(), key=lambda q: (q.lesson is None, q.lesson or 0))


def question_view(
    question, code: str, tally: dict | None = None, shown: bool | None = None
) -> dict:
    db = get_redis()
    if tally is None:
        tally = rooms.tallies(db, code, [question])[question.id]
    if shown is None:
        shown = question.id in rooms.revealed(db, code)
    return {
        "id": question.id,
        "lesson": question.lesson,
        "kind": question.kind,
        "prompt_html": question.prompt_html,
        "choices": [{"key": k, "html": html} for k, html in question.choices_html],
        "tally": tally,
        "revealed": shown,
        # The answer leaves the server only once the instructor chooses to show it.
        "answer": question.answer if shown else None,
    }


def _member_names(code: str) -> list[str]:
    return sorted(
        (m["nickname"] for m in rooms.members(get_redis(), code).values()), key=str.casefold
    )


def snapshot(code: str) -> dict:
    db = get_redis()
    every = questions()
    tallies = rooms.tallies(db, code, every)
    shown = rooms.revealed(db, code)
    return {
        "class": rooms.require(db, code),
        "join_url": join_url(code),
        "members": _member_names(code),
        "counters": task_tally.counters(db, code),
        "events": task_tally.recent(db, code),
        "questions": [question_view(q, code, tallies[q.id], q.id in shown) for q in every],
        "lessons": [
            {"slug": x.slug, "number": x.number, "title": x.title} for x in get_library().all()
        ],
        "workers": {"panel": stored_panel(db), "depth": depth_history(db)},
    }


def _path(endpoint: str, **values) -> str:
    # The hub's lane has an app context but no request: build a path, not a full URL.
    return current_app.url_map.bind("").build(endpoint, values)


def on_notice(code: str, what: str, event: dict) -> list[tuple[Key, dict]]:
    """Turn a class change announced by any web process into messages: for the class's
    screens (``Key.classroom``) and, when the lesson moves or the class closes, its learners."""
    db = get_redis()
    screens = Key.classroom(code)
    if what in ("tally", "reveal"):
        question = get_bank().get(event.get("question") or "")
        return [(screens, protocol.tally(question_view(question, code)))] if question else []
    if what == "members":
        return [(screens, protocol.members(_member_names(code)))]
    if what == "control":
        return [(screens, protocol.control(event.get("message")))]
    if what in ("lesson", "closed"):
        info = rooms.require(db, code)
        lesson = get_library().get(info["lesson"] or "")
        notice = protocol.classroom_notice(
            what,
            code,
            lesson.slug if lesson else None,
            f"{lesson.number}. {lesson.title}" if lesson else None,
            _path("pages.lesson", slug=lesson.slug) if lesson else None,
        )
        learners = [(Key.learner(learner), notice) for learner in rooms.members(db, code)]
        return [(screens, protocol.class_changed(info)), *learners]
    return []
