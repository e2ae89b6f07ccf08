"""JSON endpoints: run an experiment, read a task's state, and a health check."""

from __future__ import annotations

import os

from flask import Blueprint, current_app, jsonify

from ..errors import LabError, read_json
from ..learners import current_learner
from . import runner, task_log
from .hub import get_hub

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.post("/experiments/<name>")
def run(name: str):
    """Run a direct call (web/live/runner.py); other experiments run over the websocket."""
    try:
        # No body is no parameters; the runner says what the experiment's parameters are.
        body = read_json(object, empty={})
    except LabError as exc:
        status, reply = exc.status, {"type": "error", "ref": None, **exc.as_dict()}
    else:
        status, reply = runner.run(name, body, transport=runner.HTTP)
    response = jsonify(reply)
    response.status_code = status
    if reply.get("retry_after") is not None:
        response.headers["Retry-After"] = str(reply["retry_after"])
    return response


@bp.get("/tasks/<task_id>")
def task_state(task_id: str):
    snapshot = task_log.snapshot(current_learner(), [task_id])
    if not snapshot:
        raise LabError("You have not sent a task with that id.", "unknown_task", 404)
    return jsonify(snapshot[0])


@bp.get("/health")
def health():
    hub = get_hub()
    ready = hub.start(wait=current_app.config["STREAM_READY_TIMEOUT"])
    # ``sockets`` and ``pid`` are the answering process's: with several web processes behind
    # one port (config's Launch.web_processes), each answers for itself (README, "Many
    # connections").
    return jsonify(
        stream_ready=ready, sockets=hub.connection_count(), pid=os.getpid()
    ), 200 if ready else 503
