"""The websocket message schema: every message the site sends or accepts is built or read here.

Server to browser, one JSON object per frame, always with ``type``:

- ``task``: one lifecycle event of one task::

    {"type": "task", "task_id": "…", "task_name": "sandbox_tasks.timing.slow_task",
     "experiment": "lesson5.delay", "state": "progress", "timestamp": 1732480000.123,
     "received_at": 1732480000.125, "source": "worker", "fields": {"current": 2, "total": 5}}

  ``state`` is one of STATES, or ``log`` for a line the task logged (chapter 9: ``fields``
  has ``level``, ``message``, ``line``, ``logger``); ``timestamp`` is when the producer
  (``source``: web or worker) made the event, ``received_at`` when this web process saw it
  (both Unix seconds).
  An event that carries an ``eta`` (a countdown, or a retry re-sent by the worker) also gets
  ``fields.countdown``: seconds from the event's timestamp to that ETA. A ``task-sent`` with
  ``retries`` > 0 is a retry the worker published, so its ``source`` is worker.
- ``sent``: reply to a ``run`` action: ``{"type": "sent", "ref": …, "experiment": …,
  "task_id": …, "mode": "delay"}`` (or ``"result"`` with the value for direct calls).
- ``snapshot``: reply to ``sync``: ``{"type": "snapshot", "tasks": [{"task_id", "state",
  "result"}]}``, read from the result backend (the source of truth for final states).
- ``error``: ``{"type": "error", "error": "bad_json", "message": "…"}``; the socket stays open.
- ``pong``: reply to ``ping``.
- ``run``: one live message of a playground run (web/your_turn/runs.py), always with ``run_id``
  and ``kind``; see ``run_message`` and the README's protocol section for each kind.

Browser to server: ``{"action": "run", "experiment": "lesson5.delay", "params": {...},
"ref": "any short string"}``, ``{"action": "sync", "task_ids": [...]}``, ``{"action": "ping"}``.
A ``run`` is answered by web/live/runner.py, the runner behind ``POST /api/experiments/<name>``
too; ``run`` takes the experiments whose transport is the websocket (all but direct calls).

The classroom's projector socket and a learner's ``classroom`` notice: see the builders at the
end of this module (``projector_hello`` … ``classroom_notice``); both sockets' incoming frames
are read by ``parse_action``.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import lifecycle
from web.errors import LabError, loads

# Lifecycle order and Celery's event names: defined once, in lifecycle.py.
STATES = lifecycle.EVENT_STATES

_EVENT_TO_STATE = {
    **lifecycle.EVENTS,
    # Custom, from sandbox_tasks/logs.py: a line the task logged. Not a lifecycle state (not in
    # STATES): it never moves a task forward, it only carries fields level, message and line.
    "task-log": "log",
}

# Event keys that are envelope, not content: they are lifted out or dropped.
_ENVELOPE = {
    "type",
    "uuid",
    "timestamp",
    "local_received",
    "clock",
    "utcoffset",
    "pid",
    "name",
    "hostname",
}

ACTIONS = ("run", "sync", "ping")


class ProtocolError(LabError):
    """A browser message we refuse; ``code`` is machine-readable, the text is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message, code)


def state_for(event_type: str) -> str | None:
    return _EVENT_TO_STATE.get(event_type)


def task_message(event: dict, route: dict) -> dict:
    """Turn one Celery event into the ``task`` message a browser gets."""
    fields = {k: v for k, v in event.items() if k not in _ENVELOPE}
    if event.get("hostname"):
        fields["hostname"] = event["hostname"]
    if event.get("pid"):
        fields["pid"] = event["pid"]
    countdown = _countdown(event)
    if countdown is not None:
        fields["countdown"] = countdown
    return {
        "type": "task",
        "task_id": event["uuid"],
        "task_name": event.get("name") or route.get("task_name"),
        "experiment": route.get("experiment"),
        "state": _EVENT_TO_STATE[event["type"]],
        "timestamp": event.get("timestamp"),
        "received_at": event.get("local_received", time.time()),
        # A retry is re-sent by the worker itself: same task id, retries + 1, an ETA.
        "source": "web" if event["type"] == "task-sent" and not event.get("retries") else "worker",
        "fields": fields,
    }


def _countdown(event: dict) -> float | None:
    """Seconds from the event to the ETA it carries (a retry's backoff wait), else None."""
    eta, timestamp = event.get("eta"), event.get("timestamp")
    if not isinstance(eta, str) or not isinstance(timestamp, (int, float)):
        return None
    try:
        when = datetime.fromisoformat(eta)
    except ValueError:
        return None
    if when.tzinfo is None:  # Celery sends aware UTC ETAs; treat a naive one as UTC too
        when = when.replace(tzinfo=UTC)
    return round(when.timestamp() - timestamp, 3)


def error(code: str, message: str) -> dict:
    return {"type": "error", "error": code, "message": message}


def dumps(message: dict) -> str:
    # default=repr: an event field we did not foresee must never break the stream.
    return json.dumps(message, default=repr, separators=(",", ":"))


def parse_action(raw: str | bytes, max_bytes: int, actions: tuple[str, ...] = ACTIONS) -> dict:
    """Read one browser message; raise ProtocolError with a readable reason if it is junk.

    The one parser of both sockets: the learners' (``ACTIONS``) and the projector's
    (``PROJECTOR_ACTIONS``). ``max_bytes`` counts the frame as received (bytes or characters).
    """
    if len(raw) > max_bytes:
        raise ProtocolError("too_large", f"Messages are limited to {max_bytes} bytes.")
    try:
        # The one reader (web/errors.py): not JSON, not UTF-8, or nested too deep (a
        # RecursionError that, uncaught, once wrote an HTTP 400 into the open websocket).
        message = loads(raw, what="message")
    except LabError as exc:
        raise ProtocolError(exc.code, exc.message) from None
    if not isinstance(message, dict):
        raise ProtocolError("bad_json", 'A message must be a JSON object like {"action": …}.')
    action = message.get("action")
    if not isinstance(action, str) or action not in actions:
        raise ProtocolError(
            "unknown_action",
            f"Unknown action {str(action)[:40]!r}; expected one of: {', '.join(actions)}.",
        )
    return message


# -- the playground's live messages ---------------------------------------------------------
# Celery events ``playground-<kind>`` relayed by sandbox_tasks/playground.py, uuid = run id.
RUN_EVENT_PREFIX = "playground-"
RUN_KINDS = ("state", "banner", "output", "task", "view", "ended")


def is_run_event(event_type: str) -> bool:
    return event_type.startswith(RUN_EVENT_PREFIX) and event_type[len(RUN_EVENT_PREFIX) :] in (
        RUN_KINDS
    )


def run_message(event: dict) -> dict:
    """Turn one ``playground-<kind>`` event into the ``run`` message the learner gets."""
    fields = {k: v for k, v in event.items() if k not in _ENVELOPE}
    return {
        "type": "run",
        "run_id": event["uuid"],
        "kind": event["type"][len(RUN_EVENT_PREFIX) :],
        # For a ``task`` kind, the learner's worker's own timestamp; else when it was relayed.
        "timestamp": event.get("timestamp"),
        **fields,
    }


# -- the projector socket (/classroom/<code>/ws, instructor only) ---------------------------
# Browser to server: {"action": "ping"} (-> pong) or {"action": "snapshot"} (-> hello), read by
# parse_action(raw, limit, PROJECTOR_ACTIONS); junk gets the same ``error`` frames as on /ws.
# Controls are HTTP POSTs (web/classroom/api.py). Server to browser, as things happen:
PROJECTOR_ACTIONS = ("ping", "snapshot")
CONTROL_MESSAGE_CHARS = 300
# ``workers`` without a new panel: the panel did not change since this process last sent it.
UNCHANGED = object()


def pong() -> dict:
    return {"type": "pong"}


def hello(stream_ready: bool) -> dict:
    """A learner's socket's first message: whether the live event stream is up yet."""
    return {"type": "hello", "stream_ready": stream_ready}


def projector_hello(snapshot: dict) -> dict:
    """The whole picture, on connect and on ``snapshot`` (web/classroom/screens.py): ``class``,
    ``join_url``, ``members`` (nicknames), ``counters``, ``events`` (recent), ``questions`` (with
    tallies; the ``answer`` only once revealed), ``lessons``, ``workers`` (``panel``, ``depth``)."""
    return {"type": "hello", **snapshot}


def class_tasks(events: list[dict], counters: dict) -> dict:
    """The class's task events as they arrive: each ``{task_id, who, experiment, task, state,
    at, progress?, eta?, error?}`` (web/classroom/task_tally.py ``log_entry``), and the class's
    ``counters`` after them."""
    return {"type": "class-tasks", "events": events, "counters": counters}


def counters(values: dict) -> dict:
    """The class's counters (``sent, waiting, reserved, running, retrying, succeeded, failed,
    retried, purged``, …) when they changed; checked every half second."""
    return {"type": "counters", "counters": values}


def workers(depth: list | None, panel: dict | None | object = UNCHANGED) -> dict:
    """The worker panel, every half second: ``depth`` ``[time, n]`` (the queue's latest sample)
    and, when it changed, ``panel``: ``{at, workers: [{worker, pool, concurrency, active,
    reserved, scheduled, consuming, …}], error?}`` (null when no worker answered lately)."""
    message = {"type": "workers", "depth": depth}
    if panel is not UNCHANGED:
        message["panel"] = panel
    return message


def workers_error(message: str) -> dict:
    """The panel could not be sampled (Redis did not answer): ``{"type": "workers", "error"}``."""
    return {"type": "workers", "error": message}


def tally(question: dict) -> dict:
    """One question's tally changed (an answer, a reveal): ``question`` as in ``hello``."""
    return {"type": "tally", "question": question}


def members(nicknames: list[str]) -> dict:
    """Who is in the class now, by nickname (sorted, case-insensitively)."""
    return {"type": "members", "members": nicknames}


def class_changed(info: dict) -> dict:
    """The class's lesson or status changed: ``class`` as in ``hello``."""
    return {"type": "class", "class": info}


def control(message: object) -> dict:
    """What a worker control did, for the instructor to read (at most 300 characters)."""
    return {"type": "control", "message": str(message)[:CONTROL_MESSAGE_CHARS]}


def classroom_notice(
    what: str, code: str, lesson: str | None, title: str | None, url: str | None
) -> dict:
    """To a learner in a class, on their own socket: the instructor moved (``what``: lesson) or
    closed (closed) the class; ``lesson`` slug, ``title`` and ``url`` (null without a lesson)."""
    return {
        "type": "classroom",
        "what": what,
        "code": code,
        "lesson": lesson,
        "title": title,
        "url": url,
    }
