"""Classroom pages and endpoints: the instructor's projector and controls, the learners' join.

Every instructor route is wrapped by ``instructor_required`` (a bare 403 for anyone else); the
projector websocket is checked in ``before_request``, because flask-sock completes the
handshake before the view runs. Learners reach only /join and /api/classroom/{join,leave,me}.
"""

from __future__ import annotations

import io
import json
import logging

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from redis.exceptions import RedisError
from simple_websocket import ConnectionClosed
from werkzeug.exceptions import HTTPException

from sandbox_tasks.timing import slow_task

from . import (
    class_tasks,
    classroom,
    classroom_learners,
    instructor,
    keys,
    protocol,
    worker_controls,
)
from .classroom import ClassroomError
from .experiments.base import Experiment, Lab
from .learners import current_learner
from .lessons import get_library
from .projector import depth_history, get_projector
from .projector import init_app as init_projector
from .questions import get_bank
from .sock import sock
from .store import get_redis
from .stream import Connection, get_hub
from .worker_controls import ControlError

log = logging.getLogger(__name__)

bp = Blueprint("classroom", __name__)

# The instructor's burst is an experiment of its own, so its tasks are routed like any other.
BURST = Experiment("classroom.burst", "Burst", lambda params, lab: {}, help="N slow tasks at once")


@bp.before_request
def projector_socket_needs_the_instructor():
    if request.endpoint == "classroom.projector_socket" and not instructor.is_instructor():
        abort(403, description="This page is for the class's instructor.")


@bp.app_context_processor
def inject_classroom() -> dict:
    # The session alone (no Redis): a learner who is in no class pays nothing for this.
    return {"classroom_code": classroom.from_session()}


@bp.errorhandler(ClassroomError)
@bp.errorhandler(ControlError)
def known_error(exc):
    return jsonify(exc.as_dict()), exc.status


@bp.errorhandler(RedisError)
def redis_down(exc):
    return jsonify(error="redis_down", message=f"Redis did not answer ({exc})."), 503


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if request.path.startswith("/api/") or request.endpoint == "classroom.projector_socket":
        return jsonify(error=exc.name.lower().replace(" ", "_"), message=exc.description), exc.code
    return render_template(
        "classroom/message.html", title=exc.name, message=exc.description
    ), exc.code


def _body() -> dict:
    if not request.data:
        return {}
    body = request.get_json(silent=True, force=True)
    if not isinstance(body, dict):
        raise ClassroomError('Send a JSON object, like {"size": 8}.', "bad_json")
    return body


def _class(code: str, open_only: bool = False) -> dict:
    return classroom.require(get_redis(), classroom.clean_code(code), open_only=open_only)


# -- instructor sign-in and pages ------------------------------------------------------------
@bp.get("/classroom/instructor")
def sign_in():
    if not current_app.config.get("INSTRUCTOR_TOKEN"):
        abort(
            403,
            description="Instructor access is off: start the site with `make run`, or "
            "set CELERY_LAB_INSTRUCTOR_TOKEN.",
        )
    if not instructor.sign_in(request.args.get("token")):
        abort(
            403,
            description="That instructor link is not valid (is it from this site's "
            "latest `make run`?).",
        )
    # Redirect, so the token leaves the address bar and the browser's history.
    return redirect(url_for("classroom.dashboard"), 303)


@bp.get("/classroom/")
@instructor.instructor_required
def dashboard():
    return render_template("classroom/dashboard.html", classes=classroom.recent(get_redis()))


@bp.get("/classroom/<code>")
@instructor.instructor_required
def projector_page(code: str):
    info = _class(code)
    return render_template(
        "classroom/projector.html",
        info=info,
        join_url=_join_url(info["code"]),
        lessons=get_library().all(),
    )


@bp.get("/classroom/<code>/qr.svg")
@instructor.instructor_required
def qr_code(code: str):
    info = _class(code)
    # Made here with segno: a QR code service elsewhere would need the internet.
    out = io.BytesIO()
    segno.make(_join_url(info["code"]), error="m").save(
        out, kind="svg", border=2, omitsize=True, xmldecl=False, title="Scan to join the class"
    )
    return Response(out.getvalue(), mimetype="image/svg+xml")


@bp.get("/classroom/<code>/results.csv")
@instructor.instructor_required
def export(code: str):
    info = _class(code)
    text = classroom.export_csv(get_redis(), info["code"], _questions())
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="class-{info["code"]}.csv"'},
    )


def _join_url(code: str) -> str:
    return url_for("class_learners.join_page", code=code, _external=True)


# -- instructor API --------------------------------------------------------------------------
@bp.post("/api/classroom/classes")
@instructor.instructor_required
def open_class():
    info = classroom.create(get_redis())
    return jsonify({**info, "url": url_for("classroom.projector_page", code=info["code"])}), 201


@bp.get("/api/classroom/<code>")
@instructor.instructor_required
def state(code: str):
    return jsonify(snapshot(_class(code)["code"]))


@bp.post("/api/classroom/<code>/close")
@instructor.instructor_required
def close_class(code: str):
    info = classroom.close(get_redis(), _class(code)["code"])
    get_projector().notify(info["code"], "closed")
    return jsonify(info)


@bp.post("/api/classroom/<code>/lesson")
@instructor.instructor_required
def move_to_lesson(code: str):
    slug = _body().get("lesson")
    if slug is not None and (not isinstance(slug, str) or get_library().get(slug) is None):
        raise ClassroomError("There is no lesson with that name.", "unknown_lesson")
    info = classroom.set_lesson(get_redis(), _class(code)["code"], slug)
    get_projector().notify(info["code"], "lesson", lesson=slug)
    return jsonify(info)


@bp.post("/api/classroom/<code>/reveal")
@instructor.instructor_required
def reveal(code: str):
    body = _body()
    question, shown = body.get("question"), body.get("shown", True)
    if not isinstance(question, str) or get_bank().get(question) is None:
        raise ClassroomError("There is no question with that id.", "unknown_question")
    if not isinstance(shown, bool):
        raise ClassroomError("shown must be true or false.", "invalid_params")
    info = _class(code)
    classroom.reveal(get_redis(), info["code"], question, shown)
    get_projector().notify(info["code"], "reveal", question=question)
    return jsonify(question_view(get_bank().get(question), info["code"]))


def _control(code: str, result: dict) -> Response:
    get_projector().notify(code, "control", message=result["message"])
    return jsonify(result)


@bp.post("/api/classroom/<code>/pause")
@instructor.instructor_required
def pause(code: str):
    info = _class(code)
    return _control(info["code"], worker_controls.pause(_celery(), get_redis()))


@bp.post("/api/classroom/<code>/resume")
@instructor.instructor_required
def resume(code: str):
    info = _class(code)
    return _control(info["code"], worker_controls.resume(_celery(), get_redis()))


@bp.post("/api/classroom/<code>/pool")
@instructor.instructor_required
def pool(code: str):
    info = _class(code)
    size = worker_controls.clean_size(_body().get("size"))
    return _control(info["code"], worker_controls.resize(_celery(), get_redis(), size))


@bp.post("/api/classroom/<code>/burst")
@instructor.instructor_required
def burst(code: str):
    info = _class(code, open_only=True)
    count, seconds = worker_controls.clean_burst(_body())
    worker_controls.check_broker(get_redis())
    lab = Lab(experiment=BURST, learner=current_learner(), classroom=info["code"])
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


@bp.post("/api/classroom/<code>/purge")
@instructor.instructor_required
def purge(code: str):
    info = _class(code)
    if _body().get("confirm") is not True:
        raise ClassroomError(
            'Purging deletes every waiting task: send {"confirm": true}.', "needs_confirmation"
        )
    result = worker_controls.purge(_celery(), get_redis())
    recorder = get_projector().recorder
    for other in classroom.recent(get_redis()):
        if other["status"] == "open":
            recorder.mark_purged(other["code"])
    return _control(info["code"], result)


def _celery():
    return current_app.extensions["celery"]


# -- the projector socket --------------------------------------------------------------------
@sock.route("/classroom/<code>/ws", bp=bp)
def projector_socket(ws, code):
    info = _class(code)
    get_hub().start(wait=current_app.config["STREAM_READY_TIMEOUT"])
    projector = get_projector()
    conn = Connection(ws, info["code"])
    limit = current_app.config["WS_MAX_MESSAGE_BYTES"]
    try:
        # The snapshot first, so it is the socket's first message; the counters that the
        # sampler pushes every half second cover anything that changed in between.
        conn.send({"type": "hello", **snapshot(info["code"])})
        projector.attach(info["code"], conn)
        while True:
            raw = ws.receive()
            if raw is None:
                continue
            try:
                action = json.loads(raw)["action"] if len(raw) <= limit else None
            except (ValueError, KeyError, TypeError):
                action = None
            if action == "ping":
                conn.send({"type": "pong"})
            elif action == "snapshot":
                conn.send({"type": "hello", **snapshot(info["code"])})
            else:
                conn.send(
                    protocol.error(
                        "unknown_action",
                        'The projector socket takes {"action": "ping"} or {"action": "snapshot"}.',
                    )
                )
    except ConnectionClosed:
        pass
    finally:
        projector.detach(info["code"], conn)


# -- what a projector shows ------------------------------------------------------------------
def _questions() -> list:
    # Lesson order, then the myth-busters quiz.
    return sorted(get_bank().all(), key=lambda q: (q.lesson is None, q.lesson or 0))


def question_view(
    question, code: str, tally: dict | None = None, shown: bool | None = None
) -> dict:
    db = get_redis()
    if tally is None:
        tally = classroom.tallies(db, code, [question])[question.id]
    if shown is None:
        shown = question.id in classroom.revealed(db, code)
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
        (m["nickname"] for m in classroom.members(get_redis(), code).values()), key=str.casefold
    )


def snapshot(code: str) -> dict:
    db = get_redis()
    questions = _questions()
    tallies = classroom.tallies(db, code, questions)
    shown = classroom.revealed(db, code)
    panel = db.get(keys.workers_panel())
    return {
        "class": classroom.require(db, code),
        "join_url": _join_url(code),
        "members": _member_names(code),
        "counters": class_tasks.counters(db, code),
        "events": class_tasks.recent(db, code),
        "questions": [question_view(q, code, tallies[q.id], q.id in shown) for q in questions],
        "lessons": [
            {"slug": x.slug, "number": x.number, "title": x.title} for x in get_library().all()
        ],
        "workers": {"panel": json.loads(panel) if panel else None, "depth": depth_history(db)},
    }


def _path(endpoint: str, **values) -> str:
    # The feed thread has an app context but no request: build a path, not a full URL.
    return current_app.url_map.bind("").build(endpoint, values)


def on_notice(code: str, what: str, event: dict) -> list[tuple[str, dict]]:
    """Turn a class change announced by any web process into messages for screens here."""
    db = get_redis()
    if what in ("tally", "reveal"):
        question = get_bank().get(event.get("question") or "")
        return (
            [("screens", {"type": "tally", "question": question_view(question, code)})]
            if question
            else []
        )
    if what == "members":
        names = _member_names(code)
        return [("screens", {"type": "members", "members": names})]
    if what == "control":
        return [("screens", {"type": "control", "message": str(event.get("message"))[:300]})]
    if what in ("lesson", "closed"):
        info = classroom.require(db, code)
        lesson = get_library().get(info["lesson"] or "")
        notice = {
            "type": "classroom",
            "what": what,
            "code": code,
            "lesson": lesson.slug if lesson else None,
            "title": f"{lesson.number}. {lesson.title}" if lesson else None,
            "url": _path("pages.lesson", slug=lesson.slug) if lesson else None,
        }
        screens = {"type": "class", "class": info}
        return [("screens", screens)] + [
            (learner, notice) for learner in classroom.members(db, code)
        ]
    return []


def init_app(app) -> None:
    """Start the classroom: its live feed, the answer tallies, the instructor and learner routes."""
    init_projector(app).on_notice = on_notice
    classroom_learners.init_app()
    app.register_blueprint(bp)
    app.register_blueprint(classroom_learners.bp)
