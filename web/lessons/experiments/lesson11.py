"""Chapter 11: what a result backend really stores, and who would share the work on more hosts."""

from __future__ import annotations

import json
import os
import socket

from celery.exceptions import TimeoutError as ResultTimeout
from flask import current_app
from kombu.exceptions import OperationalError
from kombu.utils.url import maybe_sanitize_url
from redis.exceptions import RedisError

from sandbox_tasks.basics import add
from web.extensions import get_redis

from .base import ADD_OPERANDS, Experiment, ExperimentError

RESULT_WAIT = 10


def stored_result(params: dict, lab) -> dict:
    x, y = params["x"], params["y"]
    task_id = lab.send(add, args=(x, y))
    try:
        add.AsyncResult(task_id).get(timeout=RESULT_WAIT)
    except ResultTimeout:
        raise ExperimentError(
            f"No worker finished the task within {RESULT_WAIT} s; is one running?",
            code="unavailable",
        ) from None
    key = f"celery-task-meta-{task_id}"  # the Redis backend's key for a task's result
    try:
        raw = get_redis().get(key)
        ttl = get_redis().ttl(key)
    except RedisError as exc:
        raise ExperimentError(f"Could not read Redis: {exc}", code="unavailable") from None
    stored = json.loads(raw) if raw else None
    expires = current_app.extensions["celery"].conf.result_expires
    return {
        "task_id": task_id,
        "show": [
            {"label": f"GET {key}", "value": stored, "format": "json"},
            {"label": f"TTL {key}", "value": f"{ttl} s (about {ttl / 3600:.1f} h)"},
            {"label": "result_expires", "value": str(expires)},
        ],
        "explain": (
            "The Redis result backend keeps one key per task: its state, its return value, when "
            "it finished, and any child tasks. The key expires after result_expires; reading "
            "it with .get() does not remove it. A database backend keeps a row instead, and "
            "needs celery beat's celery.backend_cleanup task to delete old ones."
        ),
    }


def _broker(info: dict) -> str | None:
    """The broker a worker says it is connected to, as transport://host:port (no password)."""
    if not info.get("hostname"):
        return None
    return f"{info.get('transport')}://{info['hostname']}:{info.get('port')}"


def who_shares(params: dict, lab) -> dict:
    celery = current_app.extensions["celery"]
    try:
        queues = celery.control.inspect(timeout=1.0).active_queues() or {}
        stats = celery.control.inspect(timeout=1.0).stats() or {}
    except (OperationalError, OSError, RedisError) as exc:
        raise ExperimentError(f"Could not ask the workers: {exc}", code="unavailable") from None
    workers = [
        {
            "worker": name,
            "pid": stats.get(name, {}).get("pid"),
            "concurrency": stats.get(name, {}).get("pool", {}).get("max-concurrency"),
            "queues": sorted(q["name"] for q in queues.get(name) or []),
            "broker": _broker(stats.get(name, {}).get("broker") or {}),
        }
        for name in sorted(set(queues) | set(stats))
    ]
    return {
        "show": [
            {
                "label": "workers that answered, and the queues they read",
                "value": workers,
                "format": "json",
            },
            {"label": "this web process", "value": f"{socket.gethostname()}, pid {os.getpid()}"},
            {
                "label": "the broker both sides use",
                "value": maybe_sanitize_url(celery.conf.broker_url, mask="***"),
            },
        ],
        "explain": (
            f"{len(workers)} worker{'s' if len(workers) != 1 else ''} answered. Each one found "
            "the others only through the broker: nothing in the web app lists them. Start "
            "another `celery worker` on a second machine with the same code and broker URL and "
            "it appears here, reading the same queue, and shares the work."
        ),
    }


EXPERIMENTS = (
    Experiment(
        "lesson11.result",
        "add.delay(x, y), then read Redis",
        stored_result,
        params=ADD_OPERANDS,
        mode="direct",
        help="Runs the task, then reads the result's own key in the result backend.",
    ),
    Experiment(
        "lesson11.workers",
        "inspect active_queues / stats",
        who_shares,
        mode="direct",
        help="Asks every worker on the broker who it is and which queues it reads.",
    ),
)
