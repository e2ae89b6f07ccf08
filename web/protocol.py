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
- ``run``: one live message of a playground run (web/playground.py), always with ``run_id``
  and ``kind``; see ``run_message`` and the README's protocol section for each kind.

Browser to server: ``{"action": "run", "experiment": "lesson5.delay", "params": {...},
"ref": "any short string"}``, ``{"action": "sync", "task_ids": [...]}``, ``{"action": "ping"}``.
A ``run`` is answered by web/runner.py, the same runner as ``POST /api/experiments/<name>``.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from web.live import lifecycle

# Lifecycle order and Celery's event names: defined once, in web/live/lifecycle.py.
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


class ProtocolError(ValueError):
    """A browser message we refuse; ``code`` is machine-readable, the text is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


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


def parse_action(raw: str | bytes, max_bytes: int) -> dict:
    """Read one browser message; raise ProtocolError with a readable reason if it is junk."""
    if len(raw) > max_bytes:
        raise ProtocolError("too_large", f"Messages are limited to {max_bytes} bytes.")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("bad_json", "Messages must be UTF-8 JSON text.") from None
    try:
        message = json.loads(raw)
    except ValueError:
        raise ProtocolError("bad_json", "That message is not JSON.") from None
    if not isinstance(message, dict):
        raise ProtocolError("bad_json", 'A message must be a JSON object like {"action": …}.')
    action = message.get("action")
    if action not in ACTIONS:
        raise ProtocolError(
            "unknown_action",
            f"Unknown action {str(action)[:40]!r}; expected one of: {', '.join(ACTIONS)}.",
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
