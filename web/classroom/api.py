"""The instructor's JSON endpoints: open and close a class, move it, reveal, control the worker.

Every route needs the instructor (``instructor_required``: a bare 403 for anyone else). Bad
input is a 400 that says what was wrong; a control the worker or Redis could not carry out is
a 5xx that says so, and the projector shows it on the instructor's screen.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, url_for

from sandbox_tasks.timing import slow_task

from ..errors import read_json
from ..extensions import get_redis
from ..learners import current_learner
from ..lessons.experiments.base import Experiment, Lab
from ..lessons.library import get_library
from ..quiz.questions import get_bank
from . import instructor, rooms, worker_controls
from .projector import get_projector
from .rooms import ClassroomError
from .screens import question_view, snapshot

bp = Blueprint("classroom_api", __name__, url_prefix="/api/classroom")

# The instructor's burst is an experiment of its own, so its tasks are routed like any other.
BURST = Experiment("classroom.burst", "Burst", lambda params, lab: {}, help="N slow tasks at once")


def _body() -> dict:
    return read_json(empty={}, example='{"size": 8}', wrong_kind="bad_json")


@bp.post("/classes")
@instructor.instructor_required
def open_class():
    info = rooms.create(get_redis())
    return jsonify({**info, "url": url_for("classroom.projector_page", code=info["code"])}), 201


@bp.get("/<code>")
@instructor.instructor_required
def state(code: str):
    return jsonify(snapshot(rooms.find(get_redis(), code)["code"]))


@bp.post("/<code>/members/remove")
@instructor.instructor_required
def remove_member(code: str):
    info = rooms.find(get_redis(), code)
    nickname = _body().get("nickname")
    rooms.remove(get_redis(), info["code"], nickname)
    get_projector().notify(info["code"], "members")
    return jsonify({"ok": True, "removed": nickname})


@bp.post("/<code>/close")
@instructor.instructor_required
def close_class(code: str):
    info = rooms.close(get_redis(), rooms.find(get_redis(), code)["code"])
    get_projector().notify(info["code"], "closed")
    return jsonify(info)


@bp.post("/<code>/lesson")
@instructor.instructor_required
def move_to_lesson(code: str):
    slug = _body().get("lesson")
    if slug is not None and (not isinstance(slug, str) or get_library().get(slug) is None):
        raise ClassroomError("There is no lesson with that name.", "unknown_lesson")
    info = rooms.set_lesson(get_redis(), rooms.find(get_redis(), code)["code"], slug)
    get_projector().notify(info["code"], "lesson", lesson=slug)
    return jsonify(info)


@bp.post("/<code>/reveal")
@instructor.instructor_required
def reveal(code: str):
    body = _body()
    question, shown = body.get("question"), body.get("shown", True)
    if not isinstance(question, str) or get_bank().get(question) is None:
        raise ClassroomError("There is no question with that id.", "unknown_question")
    if not isinstance(shown, bool):
        raise ClassroomError("shown must be true or false.", "invalid_params")
    info = rooms.find(get_redis(), code)
    rooms.reveal(get_redis(), info["code"], question, shown)
    get_projector().notify(info["code"], "reveal", question=question)
    return jsonify(question_view(get_bank().get(question), info["code"]))


def _control(code: str, result: dict) -> Response:
    get_projector().notify(code, "control", message=result["message"])
    return jsonify(result)


@bp.post("/<code>/pause")
@instructor.instructor_required
def pause(code: str):
    info = rooms.find(get_redis(), code)
    return _control(info["code"], worker_controls.pause(_celery(), get_redis()))


@bp.post("/<code>/resume")
@instructor.instructor_required
def resume(code: str):
    info = rooms.find(get_redis(), code)
    return _control(info["code"], worker_controls.resume(_celery(), get_redis()))


@bp.post("/<code>/pool")
@instructor.instructor_required
def pool(code: str):
    info = rooms.find(get_redis(), code)
    size = worker_controls.clean_size(_body().get("size"))
    return _control(info["code"], worker_controls.resize(_celery(), get_redis(), size))


@bp.post("/<code>/burst")
@instructor.instructor_required
def burst(code: str):
    info = rooms.find(get_redis(), code, open_only=True)
    count, seconds = worker_controls.clean_burst(_body())
    worker_controls.check_broker(get_redis())
    lab = Lab(experiment=BURST, learner=current_learner(), classroom=info["code"], limits=False)
    for _ in range(count):
        lab.send(slow_task, args=(seconds,))
    return _control(
        info["code"],
        {
            "ok": True,
            "sent": len(lab.sent),
            "message": f"Sent {len(lab.sent)} tasks of {seconds} s each.",
        },
    )


@bp.post("/<code>/purge")
@instructor.instructor_required
def purge(code: str):
    info = rooms.find(get_redis(), code)
    if _body().get("confirm") is not True:
        raise ClassroomError(
            'Purging deletes every waiting task: send {"confirm": true}.', "needs_confirmation"
        )
    result = worker_controls.purge(_celery(), get_redis())
    recorder = get_projector().recorder
    for other in rooms.recent(get_redis()):
        if other["status"] == "open":
            recorder.mark_purged(other["code"])
    return _control(info["code"], result)


def _celery():
    return current_app.extensions["celery"]
