"""JSON endpoints: run an experiment, read a task's state, and a health check."""

from __future__ import annotations

import os

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from . import runner, tasks_view
from .experiments import ExperimentError
from .learners import current_learner
from .stream import get_hub

bp = Blueprint("api", __name__, url_prefix="/api")


def _json_body():
    """Return the parsed JSON body, or raise ExperimentError that says what was wrong."""
    if not request.data:
        return {}
    body = request.get_json(silent=True, force=True)
    if body is None:
        raise ExperimentError("The request body is not valid JSON.", code="bad_json")
    return body


@bp.post("/experiments/<name>")
def run(name: str):
    """The same runner as the websocket's ``run`` action (web/runner.py), for HTTP callers."""
    try:
        body = _json_body()
    except ExperimentError as exc:
        status, reply = exc.status, {"type": "error", "ref": None, **exc.as_dict()}
    else:
        status, reply = runner.run(name, body)
    response = jsonify(reply)
    response.status_code = status
    if reply.get("retry_after") is not None:
        response.headers["Retry-After"] = str(reply["retry_after"])
    return response


@bp.get("/tasks/<task_id>")
def task_state(task_id: str):
    snapshot = tasks_view.snapshot(current_learner(), [task_id])
    if not snapshot:
        return jsonify(error="unknown_task", message="You have not sent a task with that id."), 404
    return jsonify(snapshot[0])


@bp.get("/health")
def health():
    hub = get_hub()
    ready = hub.start(wait=current_app.config["STREAM_READY_TIMEOUT"])
    # ``sockets`` and ``pid`` are the answering process's: with several web processes behind
    # one port (config.web_processes), each answers for itself (README, "Many connections").
    return jsonify(
        stream_ready=ready, sockets=hub.connection_count(), pid=os.getpid()
    ), 200 if ready else 503


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    return jsonify(error=exc.name.lower().replace(" ", "_"), message=exc.description), exc.code
