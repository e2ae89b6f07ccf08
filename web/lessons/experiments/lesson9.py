"""Chapter 9: a task's own log lines streamed to the page, and what `celery inspect` sees."""

from __future__ import annotations

import secrets
import time

from flask import current_app
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from sandbox_tasks.logs import process_order
from web.extensions import get_redis
from web.live import workers

from .base import ChoiceParam, Experiment, ExperimentError, IntParam

OUTCOMES = ("ok", "slow courier", "refused")
# How long the inspect button looks for its task among the workers' active ones.
FIND_SECONDS = 3.0


def _order_id() -> int:
    return 1000 + secrets.randbelow(9000)


def send_order(params: dict, lab) -> dict:
    order = _order_id()
    outcome = params["outcome"]
    task_id = lab.send(process_order, args=(order, params["items"]), kwargs={"outcome": outcome})
    return {
        "task_id": task_id,
        "show": [
            {
                "label": "what the button called",
                "value": f"process_order.delay({order}, {params['items']}, outcome={outcome!r})",
                "format": "code",
            }
        ],
        "explain": (
            "The task logs through get_task_logger(__name__). Each line it logs goes to the "
            "worker's own log (its stderr here) and, through the handler in sandbox_tasks/"
            "logs.py, out as a task-log event with the task's id, which the site routes to "
            "this page like any other event."
        ),
    }


def _mine(active: dict, task_id: str) -> tuple[dict | None, int]:
    """This learner's task among every worker's active list, and how many others run."""
    found, others = None, 0
    for worker, tasks in active.items():
        for task in tasks or []:
            if task.get("id") == task_id:
                # Only what the learner sent: never another learner's arguments.
                found = {
                    "worker": worker,
                    "id": task["id"],
                    "name": task.get("name"),
                    "args": task.get("args"),
                    "time_start": task.get("time_start"),
                    "worker_pid": task.get("worker_pid"),
                    "acknowledged": task.get("acknowledged"),
                }
            else:
                others += 1
    return found, others


def inspect_while_running(params: dict, lab) -> dict:
    celery = current_app.extensions["celery"]
    order = _order_id()
    task_id = lab.send(process_order, args=(order, params["items"]))
    deadline = time.monotonic() + FIND_SECONDS
    found, others = None, 0
    try:
        # What `celery -A celery_app inspect active` and `... inspect stats` ask. A worker's
        # reply can miss the window on a busy machine, so ask again until the deadline.
        while found is None and time.monotonic() < deadline:
            found, others = _mine(celery.control.inspect(timeout=1.0).active() or {}, task_id)
        stats = {}
        while not stats and time.monotonic() < deadline + FIND_SECONDS:
            stats = celery.control.inspect(timeout=1.0).stats() or {}
        depth = workers.queue_depth(get_redis())
    except (OperationalError, OSError, RedisError, workers.WorkersUnavailable) as exc:
        raise ExperimentError(f"Could not ask the workers: {exc}", code="unavailable") from None
    totals = {
        worker: {name: count for name, count in sorted(info.get("total", {}).items())}
        for worker, info in stats.items()
    }
    show = [
        {
            "label": "inspect().active(): your task, as a worker reports it",
            "value": found if found else "not among the active tasks (it had not started yet)",
            "format": "json" if found else "text",
        },
        {"label": "other tasks running on the workers right now", "value": others},
        {
            "label": "inspect().stats()['total']: tasks run since the worker started",
            "value": totals,
            "format": "json",
        },
        {"label": "messages waiting in the queue (LLEN in Redis)", "value": depth},
    ]
    return {
        "task_id": task_id,
        "show": show,
        "explain": (
            "inspect() broadcast a question over the broker and each worker answered about "
            "itself: what it is running now (active), and counters kept since it started "
            "(stats). Those counters are per worker process and start again at zero on a "
            "restart. The queue depth comes from the broker, not from any worker."
        ),
    }


EXPERIMENTS = (
    Experiment(
        "lesson9.logs",
        "process_order.delay(…)",
        send_order,
        params=(
            IntParam("items", "Items", minimum=1, maximum=5, default=3),
            ChoiceParam("outcome", "What happens", OUTCOMES, "ok"),
        ),
        help="The task's log lines appear below as the worker writes them.",
    ),
    Experiment(
        "lesson9.inspect",
        "celery inspect active / stats",
        inspect_while_running,
        params=(IntParam("items", "Items", minimum=1, maximum=5, default=5),),
        mode="direct",
        help="Sends an order, then asks every worker what it is doing.",
    ),
)
