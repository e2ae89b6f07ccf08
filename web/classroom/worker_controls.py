"""The instructor's controls over the real worker, sent as Celery remote-control commands.

Each control asks the workers over the broker and waits at most ``REPLY_TIMEOUT`` for their
replies; no reply means no worker is listening, and that is an error the instructor sees. Redis
itself is checked first (a quick PING), and every broker call runs under a wall-clock limit,
because kombu retries a publish to a dead broker for a long time and a control must never hang.

- pause/resume: ``cancel_consumer``/``add_consumer`` on our queue. A paused worker finishes what
  it runs and takes nothing new, so new tasks wait in the Redis list where the queue depth
  counts them (prefetch multiplier 1 + late acks: the worker holds no hidden backlog).
- resize: ``pool_grow``/``pool_shrink`` by the difference to the size asked for, per worker, so
  pressing the same size twice changes nothing (worker/pool.py makes the threads pool resizable).
- purge: deletes every waiting message; it needs no worker.
"""

from __future__ import annotations

import threading

from celery import Celery
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

import config

from ..errors import LabError

REPLY_TIMEOUT = 1.0
WALL_CLOCK = 5.0
MAX_POOL = 128
MAX_BURST = 300
MAX_BURST_SECONDS = 10


def _within(seconds: float, fn, *args, **kwargs):
    """Run a broker call, giving up (and saying so) after ``seconds``."""
    box: dict = {}

    def call():
        try:
            box["value"] = fn(*args, **kwargs)
        except (OperationalError, OSError, RedisError) as exc:
            box["error"] = exc

    thread = threading.Thread(target=call, name="worker-control", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise LabError(
            f"The broker did not answer within {seconds:g} s: is Redis running?",
            "broker_timeout",
            504,
        )
    if "error" in box:
        raise LabError(f"The broker could not be reached: {box['error']}", "broker_down", 503)
    return box.get("value")


def check_broker(db) -> None:
    try:
        db.ping()
    except RedisError as exc:
        raise LabError(
            f"Redis is not answering ({exc}); nothing was sent.", "broker_down", 503
        ) from None


def _answers(replies: list | None) -> list[dict]:
    """Flatten Celery's ``[{worker: {"ok"|"error": text}}]`` replies."""
    out = []
    for reply in replies or []:
        for worker, answer in reply.items():
            answer = answer if isinstance(answer, dict) else {"error": repr(answer)}
            out.append(
                {
                    "worker": worker,
                    "ok": "ok" in answer,
                    "message": str(answer.get("ok") or answer.get("error")),
                }
            )
    return out


def _no_worker() -> LabError:
    return LabError(
        f"No worker answered within {REPLY_TIMEOUT:g} s: is the worker running? Nothing changed.",
        "no_worker",
        503,
    )


def _summary(answers: list[dict], done: str) -> dict:
    if not answers:
        raise _no_worker()
    failed = [a for a in answers if not a["ok"]]
    if failed:
        raise LabError(
            "; ".join(f"{a['worker']}: {a['message']}" for a in failed), "worker_refused", 502
        )
    return {"ok": True, "workers": answers, "message": done}


def pause(celery: Celery, db, queue: str = config.QUEUE) -> dict:
    """Stop every worker taking tasks from ``queue``; what it runs now, it finishes."""
    check_broker(db)
    replies = _within(
        WALL_CLOCK, celery.control.cancel_consumer, queue, reply=True, timeout=REPLY_TIMEOUT
    )
    return _summary(
        _answers(replies),
        "Paused: the worker finishes what it is running and takes nothing new. "
        "New tasks wait in the queue.",
    )


def resume(celery: Celery, db, queue: str = config.QUEUE) -> dict:
    check_broker(db)
    replies = _within(
        WALL_CLOCK, celery.control.add_consumer, queue, reply=True, timeout=REPLY_TIMEOUT
    )
    return _summary(_answers(replies), "Resumed: the worker takes tasks from the queue again.")


def clean_size(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_POOL:
        raise LabError(
            f"The pool size must be a whole number from 1 to {MAX_POOL}.", "invalid_params", 400
        )
    return raw


def resize(celery: Celery, db, size: int) -> dict:
    """Grow or shrink each worker's pool to ``size`` threads (no change if it is that size)."""
    size = clean_size(size)
    check_broker(db)
    stats = _within(WALL_CLOCK, lambda: celery.control.inspect(timeout=REPLY_TIMEOUT).stats())
    if not stats:
        raise _no_worker()
    answers = []
    for worker, info in sorted(stats.items()):
        current = info.get("pool", {}).get("max-concurrency")
        if not isinstance(current, int):
            answers.append({"worker": worker, "ok": False, "message": "its pool has no size"})
            continue
        if current == size:
            answers.append({"worker": worker, "ok": True, "message": f"already {size}"})
            continue
        command = celery.control.pool_grow if size > current else celery.control.pool_shrink
        replies = _within(
            WALL_CLOCK,
            command,
            abs(size - current),
            destination=[worker],
            reply=True,
            timeout=REPLY_TIMEOUT,
        )
        got = _answers(replies) or [{"worker": worker, "ok": False, "message": "did not answer"}]
        answers += [{**a, "message": f"{current} -> {size}: {a['message']}"} for a in got]
    shrink_note = (
        " Running tasks finish first: a thread cannot be stopped mid-task."
        if any("shrink" in a["message"] for a in answers)
        else ""
    )
    return _summary(answers, f"Pool size {size}.{shrink_note}")


def clean_burst(body: dict) -> tuple[int, int]:
    count, seconds = body.get("count"), body.get("seconds", 2)
    for name, value, top in (("count", count, MAX_BURST), ("seconds", seconds, MAX_BURST_SECONDS)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise LabError(f"{name} must be a whole number from 1 to {top}.", "invalid_params", 400)
    return count, seconds


def purge(celery: Celery, db) -> dict:
    """Delete every task waiting in the queue (tasks already running are not touched)."""
    check_broker(db)
    removed = _within(WALL_CLOCK, celery.control.purge)
    return {
        "ok": True,
        "purged": removed or 0,
        "message": f"Purged {removed or 0} waiting task(s) from the queue.",
    }
