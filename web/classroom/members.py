"""The learner's side of a class: join with a code and a nickname, follow along, leave.

A learner sees only their own class membership: no other learner's nickname, answer or task.
Their answers reach the class's tallies through the quiz's ``answer_recorded`` signal.
"""

from __future__ import annotations

import logging
import time

from flask import (
    Blueprint,
    current_app,
    has_app_context,
    jsonify,
    render_template,
    request,
    session,
    url_for,
)
from redis.exceptions import RedisError

from .. import keys, signals
from ..errors import read_json
from ..extensions import get_redis
from ..learners import current_learner
from ..lessons.library import get_library
from ..safety.admission import client_address
from . import rooms
from .projector import get_projector
from .rooms import ClassroomError

log = logging.getLogger(__name__)

bp = Blueprint("class_learners", __name__)


def _join(code_raw: object, nickname_raw: object, rejoin_raw: object = None) -> dict:
    code = rooms.clean_code(code_raw)
    db = get_redis()
    failures = keys.failed_joins(client_address(), int(time.time() // 60))
    limit = current_app.config["MAX_FAILED_JOINS_PER_MINUTE"]
    if limit and int(db.get(failures) or 0) >= limit:
        raise ClassroomError(
            "Too many codes that were not a class: wait a minute, then check the code on the "
            "projector.",
            "join_limited",
            429,
            retry_after=60,
        )
    try:
        joined = rooms.join(
            db,
            code,
            current_learner(),
            nickname_raw,
            rejoin_raw,
            current_app.config["MAX_CLASS_MEMBERS"],
        )
    except ClassroomError as exc:
        if exc.code == "no_such_class":
            # Only wrong codes count: a class of 300 behind one address joins freely.
            pipe = db.pipeline()
            pipe.incr(failures)
            pipe.expire(failures, 120)
            pipe.execute()
        raise
    # A rejoin key proved this is a learner who lost their cookie: carry on as them.
    session["learner"] = joined["learner"]
    session["classroom"] = code
    get_projector().notify(code, "members")
    # The key goes back to this browser only (kept in its storage by join.js), never to a screen.
    return {**_me(), "rejoin": joined["rejoin"]}


def _me() -> dict:
    info = rooms.class_of(get_redis(), current_learner())
    if info is None:
        session.pop("classroom", None)
        return {"in_class": False}
    lesson = get_library().get(info["lesson"] or "")
    return {
        "in_class": True,
        "code": info["code"],
        "nickname": info["nickname"],
        "lesson": lesson.slug if lesson else None,
        "title": f"{lesson.number}. {lesson.title}" if lesson else None,
        "url": url_for("pages.lesson", slug=lesson.slug) if lesson else None,
    }


@bp.get("/join")
@bp.get("/join/<code>")
def join_page(code: str = ""):
    me = _me()
    return render_template("classroom/join.html", code=code.upper()[:12], me=me, error=None)


@bp.post("/join")
def join_form():
    try:
        me = _join(
            request.form.get("code"), request.form.get("nickname"), request.form.get("rejoin")
        )
    except ClassroomError as exc:
        return render_template(
            "classroom/join.html",
            code=str(request.form.get("code", ""))[:12],
            nickname=str(request.form.get("nickname", ""))[:40],
            me={"in_class": False},
            error=str(exc),
        ), exc.status
    return render_template("classroom/join.html", code=me["code"], me=me, error=None)


@bp.post("/api/classroom/join")
def join_api():
    body = read_json(
        empty={}, example='{"code": "K7QX4", "nickname": "Ana"}', wrong_kind="bad_json"
    )
    return jsonify(_join(body.get("code"), body.get("nickname"), body.get("rejoin")))


@bp.post("/api/classroom/leave")
def leave():
    db = get_redis()
    info = rooms.class_of(db, current_learner())
    rooms.leave(db, current_learner())
    session.pop("classroom", None)
    if info:
        get_projector().notify(info["code"], "members")
    return jsonify({"in_class": False})


@bp.get("/api/classroom/me")
def me():
    return jsonify(_me())


def on_answer(sender, learner: str, question: str, choice: str | None = None, **_) -> None:
    """Count a learner's answer in their class's live tally (the quiz has stored it)."""
    if not has_app_context():
        return  # sent outside a request (a script): there is no site to count it in
    try:
        db = get_redis()
        info = rooms.class_of(db, learner)
        if info is None:
            return
        rooms.record_answer(db, info["code"], learner, question, choice)
    except RedisError as exc:
        # The learner's own answer is stored; only the class tally misses it. Say so in the log.
        log.warning("could not count an answer in the class tally: %s", exc)
        return
    get_projector().notify(info["code"], "tally", question=question)


def init_app() -> None:
    # A module-level function: blinker holds it (weakly) for the process, connected once.
    signals.answer_recorded.connect(on_answer)
