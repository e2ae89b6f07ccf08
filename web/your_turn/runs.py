"""The playground's HTTP API: start a run of the learner's own code, read how it is going.

    POST /api/playground/runs        {"files": {"tasks.py": "…"}, "view": "…", "exercise": "…"}
                                     -> 202 {"run_id", "state": "queued", "position"}
    GET  /api/playground/runs/<id>   -> the run's summary (state, reason, output, tasks, …)
    GET  /api/playground             -> whether runs can work here, and the limits

A new run stops the learner's previous one. Live messages (``{"type": "run", …}``) arrive on
the learner's websocket; see web/live/protocol.py.
"""

from __future__ import annotations

import re
import threading
import time

from celery.utils import uuid
from flask import Blueprint, Flask, current_app, jsonify

from playground import outcome, sandbox, store
from playground.settings import QUEUE, PlaygroundSettings
from sandbox_tasks.playground import run as run_task

from .. import keys
from ..classroom.rooms import CLASS_TTL_SECONDS
from ..classroom.rooms import from_session as classroom_in_session
from ..errors import LabError, read_json
from ..extensions import get_redis
from ..learners import current_learner
from ..live.delivery import Owner
from ..live.hub import get_hub

bp = Blueprint("playground", __name__, url_prefix="/api/playground")

FILE_NAMES = ("tasks.py", "celery_app.py", "app.py")
BODY_KEYS = ("files", "view", "exercise")
_EXERCISE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_RUN_ID = re.compile(r"^[0-9a-f-]{36}$")


def _settings() -> PlaygroundSettings:
    return current_app.extensions["playground"]["settings"]


def availability() -> str | None:
    """Why runs cannot work here (None if they can); probed once per process."""
    state = current_app.extensions["playground"]
    with state["lock"]:
        if "unavailable" not in state:
            settings = state["settings"]
            if not settings.enabled:
                state["unavailable"] = "The playground is turned off on this server."
            else:
                try:
                    sandbox.launcher(settings).probe()
                    state["unavailable"] = None
                except sandbox.SandboxUnavailable as exc:
                    state["unavailable"] = f"The playground cannot run code here: {exc}"
        return state["unavailable"]


def _text(value, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise LabError(f"{what} must be text (a JSON string).", "invalid_field")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise LabError(f"{what} is not valid UTF-8 text.", "not_utf8") from None
    if size > limit:
        raise LabError(
            f"{what} is {size // 1024} KB; each file may be {limit // 1024} KB.", "too_large"
        )
    return value


def clean(body, max_bytes: int) -> dict:
    """Check a run request; raise LabError with what a learner should fix."""
    if not isinstance(body, dict):
        raise LabError('Send a JSON object like {"files": {...}, "view": "..."}.', "bad_body")
    unknown = sorted(set(body) - set(BODY_KEYS))
    if unknown:
        raise LabError(
            f"Unknown field {unknown[0][:40]!r}; expected files, view, exercise.", "unknown_field"
        )
    files = body.get("files")
    if not isinstance(files, dict) or not files:
        raise LabError('files must be an object like {"tasks.py": "…"}.', "invalid_files")
    for name in files:
        if "/" in name or "\\" in name or name.startswith("."):
            raise LabError(
                f"{name[:60]!r} is a path; file names are plain, like tasks.py.", "bad_file_name"
            )
        if name not in FILE_NAMES:
            raise LabError(
                f"There is no file called {name[:60]!r} here; you can send "
                f"{', '.join(FILE_NAMES)}.",
                "unknown_file",
            )
    if "tasks.py" not in files:
        raise LabError("Send a tasks.py: it is what the worker imports.", "missing_tasks")
    cleaned = {name: _text(text, name, max_bytes) for name, text in files.items()}
    if "view" not in body:
        raise LabError("Send the view code to run (it may be empty).", "missing_view")
    view = _text(body["view"], "The view code", max_bytes)
    exercise = body.get("exercise")
    if exercise is not None and (not isinstance(exercise, str) or not _EXERCISE.match(exercise)):
        raise LabError("exercise must be a short id like '11.first'.", "invalid_exercise")
    return {"files": cleaned, "view": view, "exercise": exercise}


def _stop_previous(redis, learner: str) -> None:
    """Pressing Run again stops the learner's previous run, queued or running."""
    previous = redis.get(store.current_key(learner))
    if not previous:
        return
    summary = store.load(redis, previous)
    if store.is_ended(summary):
        return
    store.request_stop(redis, previous)  # a running one sees this within 0.2 s
    current_app.extensions["celery"].control.revoke(previous)  # a queued one is dropped
    if summary is not None and summary.get("state") == "queued":
        summary.update(
            state="stopped",
            reason="replaced",
            message=outcome.REASON_MESSAGES["replaced"],
            ended_at=time.time(),
        )
        store.save(redis, learner, summary)


@bp.get("")
def info():
    why = availability()
    settings = _settings()
    return jsonify(
        available=why is None,
        reason=why,
        files=list(FILE_NAMES),
        max_file_bytes=settings.max_file_kb * 1024,
        concurrency=settings.concurrency,
        limits=settings.limits.as_dict(),
    )


@bp.post("/runs")
def start():
    why = availability()
    if why is not None:
        raise LabError(why, "playground_unavailable", 503)
    # Any JSON here: clean() says what a run request looks like when it is not an object.
    cleaned = clean(read_json(object), _settings().max_file_kb * 1024)
    catalogue = current_app.extensions.get("exercises")  # web/your_turn/exercises.py
    if cleaned["exercise"] and (catalogue is None or catalogue.get(cleaned["exercise"]) is None):
        raise LabError("There is no exercise with that id.", "unknown_exercise")
    learner, redis, hub = current_learner(), get_redis(), get_hub()
    hub.start(wait=current_app.config["STREAM_READY_TIMEOUT"])
    _stop_previous(redis, learner)
    run_id = uuid()
    # "classroom" stays None: a class's feed takes task events only. The class (if any) is
    # kept apart, so the projector can count runs, and never sees what is in them.
    classroom = classroom_in_session()
    hub.remember_route(
        run_id,
        {
            "learner": learner,
            "classroom": None,
            "run_classroom": classroom,
            "experiment": "playground",
            "task_name": run_task.name,
        },
    )
    if classroom:
        count_class_run(redis, classroom, "runs_started")
    summary = outcome.Summary(
        run_id, learner, _settings().limits, exercise=cleaned["exercise"]
    ).as_dict()
    store.save(redis, learner, summary)
    redis.set(store.current_key(learner), run_id, ex=store.TTL)
    run_task.apply_async(
        args=[learner, cleaned["files"], cleaned["view"], cleaned["exercise"]],
        task_id=run_id,
        queue=QUEUE,
    )
    position = store.position(redis, QUEUE, run_id)
    if position is not None:
        with current_app.extensions["celery"].events.default_dispatcher() as dispatcher:
            dispatcher.send("playground-state", uuid=run_id, state="queued", position=position)
    return jsonify(run_id=run_id, state="queued", position=position), 202


@bp.get("/runs/<run_id>")
def status(run_id: str):
    summary = store.load(get_redis(), run_id) if _RUN_ID.match(run_id) else None
    if summary is None or summary.pop("learner", None) != current_learner():
        raise LabError("You have no run with that id.", "unknown_run", 404)
    if summary["state"] == "queued":
        summary["position"] = store.position(get_redis(), QUEUE, run_id)
    return jsonify(summary)


def count_class_run(redis, code: str, counter: str) -> None:
    pipe = redis.pipeline()
    pipe.hincrby(keys.classroom(code, "counters"), counter, 1)
    pipe.expire(keys.classroom(code, "counters"), CLASS_TTL_SECONDS)
    pipe.execute()


def count_ended_runs(redis) -> Owner:
    """A hub owner: count each class member's ended run once, whichever process sees it."""

    def wants(event: dict, route: dict | None) -> bool:
        return event.get("type") == "playground-ended" and bool((route or {}).get("run_classroom"))

    def handle(items: list[tuple[dict, dict | None]]) -> None:
        for event, route in items:
            code = route["run_classroom"]
            # Every web process receives the event; the one whose SADD is first counts it.
            seen = keys.classroom(code, "seen")
            if redis.sadd(seen, f"run-ended:{event['uuid']}"):
                redis.expire(seen, CLASS_TTL_SECONDS)
                count_class_run(redis, code, "runs_finished")

    return Owner("class-runs", wants, handle)


def init_app(app: Flask) -> None:
    app.extensions["playground"] = {
        "settings": app.config["PLAYGROUND"],
        "lock": threading.Lock(),
    }
    app.extensions["hub"].subscribe(count_ended_runs(app.extensions["redis"]))
    app.register_blueprint(bp)
