"""Where runs are kept in the site's Redis, so any web process can answer for any run.

| key                                      | type   | holds                              | expiry |
|------------------------------------------|--------|------------------------------------|--------|
| celerylab:playground:run:<run id>        | string | JSON: the learner and the summary  | 1 h    |
| celerylab:playground:run:<run id>:stop   | string | why it must stop ("replaced")      | 1 h    |
| celerylab:playground:learner:<id>:run    | string | the learner's latest run id        | 1 h    |

The queue itself (``playground``) is Celery's list; its order gives a queued run's position.
"""

from __future__ import annotations

import json

from .outcome import ENDED

PREFIX = "celerylab:playground:"
TTL = 3600


def run_key(run_id: str) -> str:
    return f"{PREFIX}run:{run_id}"


def stop_key(run_id: str) -> str:
    return f"{PREFIX}run:{run_id}:stop"


def current_key(learner: str) -> str:
    return f"{PREFIX}learner:{learner}:run"


def save(redis, learner: str, summary: dict) -> None:
    redis.set(run_key(summary["run_id"]), json.dumps({"learner": learner, **summary}), ex=TTL)


def load(redis, run_id: str) -> dict | None:
    raw = redis.get(run_key(run_id))
    return json.loads(raw) if raw else None


def request_stop(redis, run_id: str, reason: str = "replaced") -> None:
    redis.set(stop_key(run_id), reason, ex=TTL)


def stop_requested(redis, run_id: str) -> str | None:
    value = redis.get(stop_key(run_id))
    return value.decode() if isinstance(value, bytes) else value


def is_ended(summary: dict | None) -> bool:
    return summary is not None and summary.get("state") in ENDED


def queued_ids(redis, queue: str) -> list[str]:
    """The run ids waiting in ``queue``, next to start first (kombu LPUSHes, BRPOPs)."""
    ids = []
    for raw in reversed(redis.lrange(queue, 0, -1)):
        try:
            ids.append(json.loads(raw)["headers"]["id"])
        except (ValueError, KeyError, TypeError):
            continue
    if not ids:
        return []
    # A run stopped while queued stays in the list until a worker drops it: skip it.
    stops = redis.mget([stop_key(i) for i in ids])
    return [i for i, stop in zip(ids, stops, strict=True) if not stop]


def position(redis, queue: str, run_id: str) -> int | None:
    """1 for the next run to start, 2 for the one after...; None once it is not waiting."""
    ids = queued_ids(redis, queue)
    return ids.index(run_id) + 1 if run_id in ids else None
