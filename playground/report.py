"""Read what a run reports: every line is hostile until it passes here.

The learner's code runs as the same uid as the collector, so any line on the report pipe may
be forged or junk. A line is accepted only if it is small, UTF-8, a JSON object of a known
kind whose fields have the right types and lengths; unknown fields are dropped, anything else
makes the whole line ``None``. What comes out holds only plain str/int/float/bool/None.
"""

from __future__ import annotations

import json
import re

MAX_LINE = 32 * 1024
TASK_EVENTS = (
    "task-sent",
    "task-received",
    "task-started",
    "task-retried",
    "task-succeeded",
    "task-failed",
    "task-rejected",
    "task-revoked",
)
EVENT_FIELDS = {
    "name": 200,
    "args": 2000,
    "kwargs": 2000,
    "retries": None,
    "eta": 64,
    "expires": 64,
    "result": 4000,
    "exception": 2000,
    "traceback": 8000,
    "runtime": None,
    "hostname": 200,
    "parent_id": 64,
    "root_id": 64,
}
_TASK_ID = re.compile(r"^[0-9A-Za-z_.:-]{1,64}$")
DONE_REASONS = ("done", "view_error", "worker_error")


class Invalid(ValueError):
    pass


def _text(value, limit: int, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid("text")
    return value


def _int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**31:
        raise Invalid("int")
    return value


def _choice(value, allowed) -> str:
    if value not in allowed:
        raise Invalid("choice")
    return value


def _fields(value) -> dict:
    if not isinstance(value, dict):
        raise Invalid("fields")
    out = {}
    for key, limit in EVENT_FIELDS.items():
        if key not in value:
            continue
        item = value[key]
        if limit is None:  # a number (retries, runtime)
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                out[key] = item
        elif isinstance(item, str):
            out[key] = item[:limit]
    return out


def _event(d: dict) -> dict:
    uuid = _text(d.get("uuid"), 64)
    if not _TASK_ID.match(uuid):
        raise Invalid("uuid")
    timestamp = d.get("timestamp")
    if not isinstance(timestamp, (int, float)) or isinstance(timestamp, bool):
        timestamp = None
    return {
        "type": _choice(d.get("type"), TASK_EVENTS),
        "uuid": uuid,
        "timestamp": timestamp,
        "fields": _fields(d.get("fields", {})),
    }


def _result(d: dict) -> dict:
    """A final state read from the run's result backend, for a task whose event never came."""
    event = _event({**d, "type": _RESULT_EVENTS.get(d.get("state"))})
    return {"uuid": event["uuid"], "type": event["type"], "fields": event["fields"]}


_RESULT_EVENTS = {
    "SUCCESS": "task-succeeded",
    "FAILURE": "task-failed",
    "REVOKED": "task-revoked",
    "REJECTED": "task-rejected",
}


def _banner(d: dict) -> dict:
    tasks = d.get("tasks")
    if not isinstance(tasks, list) or len(tasks) > 200:
        raise Invalid("tasks")
    return {"text": _text(d.get("text"), 8000), "tasks": [_text(t, 200) for t in tasks]}


_KINDS = {
    "phase": lambda d: {"phase": _choice(d.get("phase"), ("starting", "running"))},
    "banner": _banner,
    "out": lambda d: {
        "stream": _choice(d.get("stream"), ("worker", "view")),
        "text": _text(d.get("text"), 4000),
    },
    "event": _event,
    "result": _result,
    "view": lambda d: {
        "exit": _int(d.get("exit")),
        "traceback": _text(d.get("traceback"), 16000, optional=True),
    },
    "worker_exit": lambda d: {"code": _int(d.get("code"))},
    "traceback": lambda d: {"text": _text(d.get("text"), 16000)},
    "done": lambda d: {"reason": _choice(d.get("reason"), DONE_REASONS)},
}


def parse_line(raw: bytes) -> dict | None:
    """One validated report ``{"k": kind, ...}``, or None for anything we refuse."""
    if len(raw) > MAX_LINE:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("k") not in _KINDS:
        return None
    try:
        return {"k": data["k"], **_KINDS[data["k"]](data)}
    except Invalid:
        return None


class LineReader:
    """Split a byte stream into lines, dropping (not buffering) any line over MAX_LINE."""

    def __init__(self):
        self._buffer = b""
        self._skipping = False
        self.dropped = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        lines = []
        data = self._buffer + chunk
        *complete, rest = data.split(b"\n")
        for line in complete:
            if self._skipping:
                self._skipping = False
                self.dropped += 1
                continue
            lines.append(line)
        if len(rest) > MAX_LINE:
            self._skipping, rest = True, b""
        self._buffer = rest
        return lines
