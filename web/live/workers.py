"""What the running workers say about themselves, asked over Celery's remote control.

Every function here asks the real workers through the broker (``control.ping``,
``control.inspect``) or reads the real queue in Redis; nothing is cached or assumed. A
question no worker answers returns an empty answer after ``timeout``; it never hangs.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from celery import Celery
from kombu.exceptions import OperationalError
from kombu.transport.redis import PRIORITY_STEPS, Channel
from redis.exceptions import RedisError

import config

from ..errors import LabError

# Redis emulates priorities with one list per priority step: "celery_lab", then
# "celery_lab\x06\x163", "…\x06\x166", "…\x06\x169": kombu's own default steps and separator,
# read from kombu (its Channel names the lists this way) rather than copied.
_PRIORITY_SEP = Channel.sep
_PRIORITY_STEPS = tuple(PRIORITY_STEPS)


class WorkersUnavailable(LabError):
    """The broker could not be reached to ask the workers anything (experiments catch it)."""

    def __init__(self, message: str):
        super().__init__(message, "workers_unavailable", 503)


def queue_keys(queue: str = config.QUEUE) -> list[str]:
    return [queue if step == 0 else f"{queue}{_PRIORITY_SEP}{step}" for step in _PRIORITY_STEPS]


def queue_depth(redis_client, queue: str = config.QUEUE) -> int:
    """Messages waiting in the broker for any worker (not those a worker already reserved)."""
    pipe = redis_client.pipeline()
    for key in queue_keys(queue):
        pipe.llen(key)
    try:
        return sum(pipe.execute())
    except RedisError as exc:
        raise WorkersUnavailable(f"Redis did not answer: {exc}") from exc


def ping(celery: Celery, timeout: float = 0.5) -> list[dict]:
    """Ping every worker; return each reply with its round-trip time, in arrival order."""
    replies: list[dict] = []
    started = time.perf_counter()

    def on_reply(body):
        for name, answer in body.items():
            replies.append(
                {
                    "worker": name,
                    "reply": answer,
                    "rtt_ms": round((time.perf_counter() - started) * 1000, 2),
                }
            )

    try:
        celery.control.ping(timeout=timeout, callback=on_reply)
    except (OperationalError, OSError, RedisError) as exc:
        raise WorkersUnavailable(f"the broker did not answer: {exc}") from exc
    return replies


def _inspect(celery: Celery, method: str, timeout: float) -> dict:
    try:
        return getattr(celery.control.inspect(timeout=timeout), method)() or {}
    except (OperationalError, OSError, RedisError) as exc:
        raise WorkersUnavailable(f"the broker did not answer: {exc}") from exc


def describe(celery: Celery, timeout: float = 0.5) -> list[dict]:
    """Each live worker's pool, concurrency, and the tasks it is running or holding."""
    # Four questions at once: each waits up to `timeout` for replies, so ask in parallel.
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            m: pool.submit(_inspect, celery, m, timeout)
            for m in ("stats", "active", "reserved", "scheduled")
        }
        stats, active, reserved, scheduled = (
            futures[m].result() for m in ("stats", "active", "reserved", "scheduled")
        )
    workers = []
    for name, info in sorted(stats.items()):
        pool = info.get("pool", {})
        workers.append(
            {
                "worker": name,
                # "celery.concurrency.thread:TaskPool" -> "thread"
                "pool": pool.get("implementation", "").split(":")[0].rsplit(".", 1)[-1]
                or "unknown",
                # The full "module:Class", e.g. "worker.pool:ResizableThreadPool".
                "implementation": pool.get("implementation", ""),
                "concurrency": pool.get("max-concurrency"),
                "pid": info.get("pid"),
                "prefetch_count": info.get("prefetch_count"),
                "active": len(active.get(name, [])),
                "reserved": len(reserved.get(name, [])),
                "scheduled": len(scheduled.get(name, [])),
            }
        )
    return workers


def registered(celery: Celery, timeout: float = 0.5) -> dict[str, list[str]]:
    """Task names each worker has registered (Celery's own ``celery.*`` tasks left out)."""
    answers = _inspect(celery, "registered", timeout)
    return {
        name: sorted(t for t in tasks if not t.startswith("celery."))
        for name, tasks in answers.items()
    }


def consuming(celery: Celery, queue: str = config.QUEUE, timeout: float = 0.5) -> dict[str, bool]:
    """Whether each worker takes tasks from ``queue`` now (False while it is paused)."""
    answers = _inspect(celery, "active_queues", timeout)
    return {
        name: any(q.get("name") == queue for q in queues or []) for name, queues in answers.items()
    }
