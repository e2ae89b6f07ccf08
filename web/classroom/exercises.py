"""How many of a class's learners have solved the exercises of the lesson the class is on.

    GET /classroom/<code>/exercises.json   (instructor only)
        -> {"lesson": slug|null, "members": n, "exercises": [{id, title, solved}]}

Only counts: the projector never shows a learner's code or name here. A learner's first
solve is added to ``celerylab:class:<c>:solved:<exercise>`` by web/your_turn/exercises.py.
"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify

from .. import keys
from ..extensions import get_redis
from ..lessons.library import get_library
from ..your_turn.exercises import get_catalogue
from . import rooms
from .instructor import instructor_required

bp = Blueprint("class_exercises", __name__)


def solved_counts(db, code: str) -> dict:
    info = rooms.find(db, code)
    lesson = get_library().get(info["lesson"]) if info["lesson"] else None
    exercises = get_catalogue().for_lesson(lesson.number) if lesson else []
    return {
        "lesson": info["lesson"],
        "members": info["members"],
        "exercises": [
            {
                "id": e.id,
                "title": e.title,
                "solved": db.scard(keys.classroom(info["code"], f"solved:{e.id}")),
            }
            for e in exercises
        ],
    }


@bp.get("/classroom/<code>/exercises.json")
@instructor_required
def solved(code: str):
    try:
        return jsonify(solved_counts(get_redis(), code))
    except rooms.ClassroomError as exc:
        return jsonify(error="no_class", message=str(exc)), 404


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
