"""The "Your turn" panels' server side: the learner's edits, hints and solutions, /playground.

    GET  /playground                             the free playground page
    GET  /api/workspace/<scope>                  starting files, the learner's saved edits,
                                                 the exercise and the learner's progress on it
    POST /api/workspace/<scope>                  {"files": {...}, "view": "..."}: keep edits
    POST /api/workspace/<scope>/reset            forget the edits (back to the starting files)
    POST /api/exercises/<id>/hint                the hint (noted as shown)
    POST /api/exercises/<id>/solution            the solution's files and view (noted as shown)

A scope is an exercise id, or ``playground`` for the free page. Edits are validated exactly
like a run's files (web/your_turn/runs.py ``clean``) and kept in Redis under the learner's id
(web/keys.py), so they survive a reload and a restart.
"""

from __future__ import annotations

import json
import time

from flask import Blueprint, Flask, current_app, jsonify, render_template
from werkzeug.exceptions import NotFound

from ..errors import LabError, read_json
from ..extensions import get_redis
from ..keys import learner_workspace
from ..learners import current_learner
from ..lessons.library import get_library
from .exercises import TTL, Exercise, get_catalogue
from .runs import clean

bp = Blueprint("workspace", __name__)

FREE = "playground"
FREE_START = {
    "files": {
        "tasks.py": (
            "from celery import shared_task\n\n\n@shared_task\ndef add(x, y):\n    return x + y\n"
        )
    },
    "view": "result = add.delay(2, 3)\nprint('sent', result.id)\n",
}


def _exercise(exercise_id: str) -> Exercise:
    found = get_catalogue().get(exercise_id) if len(exercise_id) <= 64 else None
    if found is None:
        raise NotFound("There is no exercise with that id.")
    return found


def _start(scope: str) -> dict:
    return FREE_START if scope == FREE else _exercise(scope).start()


def saved(learner: str, scope: str) -> dict | None:
    raw = get_redis().hget(learner_workspace(learner), scope)
    return json.loads(raw) if raw else None


def describe(exercise: Exercise, learner: str) -> dict:
    return {
        "id": exercise.id,
        "title": exercise.title,
        "goal": exercise.goal,
        "files": list(exercise.files),
        "progress": get_catalogue().progress(get_redis(), learner)[exercise.id],
    }


@bp.get("/playground")
def playground_page():
    current_learner()
    return render_template("playground.html", start=FREE_START, lessons=get_library().all())


@bp.get("/api/workspace/<scope>")
def show(scope: str):
    start, learner = _start(scope), current_learner()
    body = {"scope": scope, "start": start, "saved": saved(learner, scope)}
    if scope != FREE:
        body["exercise"] = describe(_exercise(scope), learner)
    return jsonify(body)


@bp.post("/api/workspace/<scope>")
def keep(scope: str):
    start = _start(scope)
    example = '{"files": {...}, "view": "..."}'
    body = read_json(example=example)
    if set(body) - {"files", "view"}:
        raise LabError(f"Send a JSON object like {example}.", "bad_body")
    settings = current_app.extensions["playground"]["settings"]
    cleaned = clean(body, settings.max_file_kb * 1024)
    extra = sorted(set(cleaned["files"]) - set(start["files"]))
    if extra:
        raise LabError(f"This exercise has no {extra[0]}.", "unknown_file")
    learner = current_learner()
    key = learner_workspace(learner)
    value = {"files": cleaned["files"], "view": cleaned["view"], "saved_at": time.time()}
    db = get_redis()
    db.hset(key, scope, json.dumps(value))
    db.expire(key, TTL)
    return jsonify(saved=True, saved_at=value["saved_at"])


@bp.post("/api/workspace/<scope>/reset")
def reset(scope: str):
    _start(scope)
    get_redis().hdel(learner_workspace(current_learner()), scope)
    return jsonify(reset=True, start=_start(scope))


@bp.post("/api/exercises/<exercise_id>/hint")
def hint(exercise_id: str):
    exercise = _exercise(exercise_id)
    get_catalogue().mark_shown(get_redis(), current_learner(), exercise.id, "hint")
    return jsonify(hint=exercise.hint, hint_html=exercise.hint_html)


@bp.post("/api/exercises/<exercise_id>/solution")
def solution(exercise_id: str):
    exercise = _exercise(exercise_id)
    get_catalogue().mark_shown(get_redis(), current_learner(), exercise.id, "solution")
    return jsonify(exercise.solution())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def inject_exercises() -> dict:
        # lesson.html asks for the exercises of its lesson: a chapter gets a "Your turn"
        # panel by having a lessons/exercises/NN.yaml.
        return {
            "exercises_for": lambda number: app.extensions["exercises"].for_lesson(number),
            "exercise_progress": exercise_progress,
        }


def exercise_progress() -> dict:
    """The progress page's exercise rows and counts, for the current learner."""
    catalogue = get_catalogue()
    mine = catalogue.progress(get_redis(), current_learner())
    rows = [{"exercise": e, **mine[e.id]} for e in catalogue.all()]
    return {
        "rows": rows,
        "total": len(rows),
        "solved": sum(1 for r in rows if r["solved"]),
        "solution_first": sum(1 for r in rows if r["solved"] and r["solution_first"]),
    }
