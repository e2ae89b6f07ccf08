"""Classroom pages: the instructor's sign-in, class list, projector view and its socket.

Every instructor page is wrapped by ``instructor_required`` (a bare 403 for anyone else); the
projector websocket is checked in ``before_request``, because flask-sock completes the
handshake before the view runs. The instructor's JSON endpoints are in web/classroom/api.py,
the learners' side (join, follow along, leave) in web/classroom/members.py.
"""

from __future__ import annotations

import io
import logging

import segno
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)

from ..extensions import get_redis, sock
from ..lessons.library import get_library
from ..live import protocol
from ..live.delivery import Key
from ..live.hub import get_hub
from ..live.outbox import Connection
from . import api, instructor, members, rooms
from .projector import get_projector
from .projector import init_app as init_projector
from .screens import join_url, questions, snapshot

log = logging.getLogger(__name__)

bp = Blueprint("classroom", __name__)


@bp.before_request
def projector_socket_needs_the_instructor():
    if request.endpoint == "classroom.projector_socket" and not instructor.is_instructor():
        abort(403, description="This page is for the class's instructor.")


@bp.app_context_processor
def inject_classroom() -> dict:
    # The session alone (no Redis): a learner who is in no class pays nothing for this.
    return {"classroom_code": rooms.from_session()}


# -- instructor sign-in and pages ------------------------------------------------------------
@bp.route("/classroom/instructor", methods=["GET", "POST"])
def sign_in():
    if not current_app.config.get("INSTRUCTOR_TOKEN"):
        abort(
            403,
            description="Instructor access is off: start the site with `make run`, or "
            "set CELERY_LAB_INSTRUCTOR_TOKEN.",
        )
    # The printed link carries the token; the form (for a token typed in) posts it.
    candidate = request.form.get("token") if request.method == "POST" else request.args.get("token")
    if candidate is None:
        return render_template("classroom/sign_in.html")
    # Redirect, so the token leaves the address bar and the browser's history.
    response = redirect(url_for("classroom.dashboard"), 303)
    if not instructor.sign_in(candidate, response):
        abort(
            403,
            description="That instructor link is not valid (is it from this site's "
            "latest `make run`?).",
        )
    return response


@bp.post("/classroom/sign-out")
def sign_out():
    # A POST (a link could be followed by anything) from this site (guard.check_origin).
    response = redirect(url_for("pages.home"), 303)
    instructor.sign_out(response)
    return response


@bp.get("/classroom/")
@instructor.instructor_required
def dashboard():
    return render_template("classroom/dashboard.html", classes=rooms.recent(get_redis()))


@bp.get("/classroom/<code>")
@instructor.instructor_required
def projector_page(code: str):
    info = rooms.find(get_redis(), code)
    return render_template(
        "classroom/projector.html",
        info=info,
        join_url=join_url(info["code"]),
        lessons=get_library().all(),
    )


@bp.get("/classroom/<code>/qr.svg")
@instructor.instructor_required
def qr_code(code: str):
    info = rooms.find(get_redis(), code)
    # Made here with segno: a QR code service elsewhere would need the internet.
    out = io.BytesIO()
    segno.make(join_url(info["code"]), error="m").save(
        out, kind="svg", border=2, omitsize=True, xmldecl=False, title="Scan to join the class"
    )
    return Response(out.getvalue(), mimetype="image/svg+xml")


@bp.get("/classroom/<code>/results.csv")
@instructor.instructor_required
def export(code: str):
    info = rooms.find(get_redis(), code)
    text = rooms.export_csv(get_redis(), info["code"], questions())
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="class-{info["code"]}.csv"'},
    )


# -- the projector socket --------------------------------------------------------------------
@sock.route("/classroom/<code>/ws", bp=bp)
def projector_socket(ws, code):
    info = rooms.find(get_redis(), code)
    get_hub().start(wait=current_app.config["STREAM_READY_TIMEOUT"])
    projector = get_projector()
    conn = Connection.from_config(ws, Key.classroom(info["code"]), current_app.config)
    limit = current_app.config["WS_MAX_MESSAGE_BYTES"]

    def on_message(raw) -> None:
        try:
            action = protocol.parse_action(raw, limit, protocol.PROJECTOR_ACTIONS)["action"]
        except protocol.ProtocolError as exc:
            conn.send(protocol.error(exc.code, str(exc)))
            return
        if action == "ping":
            conn.send(protocol.pong())
        else:  # "snapshot"
            conn.send(protocol.projector_hello(snapshot(info["code"])))

    try:
        # Joined first, the snapshot read after: a change made while the socket opened is in
        # the snapshot or sent after it. What the hub sends meanwhile waits behind the hello,
        # so the hello is still the socket's first message (web/live/outbox.py, ``hold``).
        conn.hold()
        projector.attach(conn)
        conn.release(protocol.projector_hello(snapshot(info["code"])))
        conn.serve(on_message)
    finally:
        projector.detach(conn)


def init_app(app: Flask) -> None:
    """Start the classroom: its live feed, the answer tallies, the instructor and learner routes."""
    init_projector(app)
    members.init_app()
    app.register_blueprint(bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(members.bp)
