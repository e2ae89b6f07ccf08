"""Lesson 5: the same slow task, called directly, with ``.delay()``, with ``.get()``, and later."""

from __future__ import annotations

import datetime as dt
import os

from celery import uuid
from celery.exceptions import TimeoutError as ResultTimeout

from sandbox_tasks.timing import slow_task

from .base import Experiment, IntParam

# How much longer than the task itself `.get()` may wait before it gives up: enough for a busy
# worker to start it, short enough that a page without a worker is told so.
GET_GRACE_SECONDS = 5


def call_directly(params: dict, lab) -> dict:
    # A plain call runs the task body right here, in the web process, while the browser waits.
    seconds = params["seconds"]
    result = slow_task(seconds)
    return {
        "result": result,
        "show": [
            {"label": f"slow_task({seconds}) returned", "value": result, "format": "json"},
            {"label": "process that answered this request", "value": f"pid {os.getpid()}"},
        ],
        "explain": (
            f"The web process ran slow_task itself (pid {result['pid']}: the web server itself, "
            f"not a worker), so your request was held for the whole {seconds} s and no task "
            "card appeared: there was no message, no task id and no worker to report progress."
        ),
    }


def send_with_delay(params: dict, lab) -> dict:
    # slow_task.delay(seconds) is apply_async(args=(seconds,)); lab.send calls apply_async so
    # it can choose the task id first and route the task's events back to this learner.
    task_id = lab.send(slow_task, args=(params["seconds"],))
    result = slow_task.AsyncResult(task_id)
    state = result.state  # asked of the result backend, right after sending
    said = (
        "PENDING: no worker had reported on it yet."
        if state == "PENDING"
        else f"{state}: a worker had already picked it up in those few milliseconds."
    )
    return {
        "task_id": task_id,
        "show": [
            {
                "label": f"slow_task.delay({params['seconds']}) returned",
                "value": repr(result),
                "format": "code",
            },
            {"label": "result.state, asked at once", "value": state},
        ],
        "explain": (
            "delay() put a message on the Redis queue and handed back an AsyncResult: a ticket "
            f"holding the task id, not the answer. Its state was {said}"
        ),
    }


def delay_then_get(params: dict, lab) -> dict:
    # .get() makes this request wait for the worker: the very thing .delay() was meant to avoid.
    seconds = params["seconds"]
    task_id = lab.send(slow_task, args=(seconds,))
    limit = seconds + GET_GRACE_SECONDS
    try:
        value = slow_task.AsyncResult(task_id).get(timeout=limit)
    except ResultTimeout:
        return {
            "task_id": task_id,
            "timed_out": True,
            "explain": (
                f"No worker finished the task within {limit} s, so .get(timeout={limit}) gave "
                "up and raised TimeoutError. Without a timeout this request would still be "
                "waiting. The task itself is not cancelled: it stays in the queue."
            ),
        }
    return {
        "task_id": task_id,
        "result": value,
        "show": [{"label": f".get(timeout={limit}) returned", "value": value, "format": "json"}],
        "explain": (
            f"A worker (pid {value['pid']}) ran the task, yet your page still waited about "
            f"{seconds} s: .get() blocked the web process until the result arrived in Redis. "
            ".delay() followed by .get() in a request is a direct call with extra steps."
        ),
    }


def send_with_countdown(params: dict, lab) -> dict:
    countdown = params["countdown"]
    task_id = lab.send(slow_task, args=(params["seconds"],), countdown=countdown)
    eta = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=countdown)
    return {
        "task_id": task_id,
        "show": [
            {
                "label": "what the button called",
                "value": f"slow_task.apply_async(({params['seconds']},), countdown={countdown})",
                "format": "code",
            },
            {"label": "so the message's eta is about", "value": eta.isoformat(timespec="seconds")},
        ],
        "explain": (
            f"The message went to the queue now, carrying an ETA {countdown} s ahead. A worker "
            "receives it at once and holds it in memory until then; the gap between received "
            "and started on the card is the countdown."
        ),
    }


def unknown_id_state(params: dict, lab) -> dict:
    # PENDING is what the result backend says about an id it has no record of. A real task
    # the worker finished is asked first, so the learner sees the backend answering, then the
    # same question for an id nobody ever sent, and for that real id with one character changed.
    task_id = lab.send(slow_task, args=(params["seconds"],))
    limit = params["seconds"] + GET_GRACE_SECONDS
    try:
        slow_task.AsyncResult(task_id).get(timeout=limit)
    except ResultTimeout:
        pass  # no worker in time: its state below says so (PENDING too, which is the point)
    real = slow_task.AsyncResult(task_id).state
    never_sent = uuid()
    typo = task_id[:-1] + ("0" if task_id[-1] != "0" else "1")
    unknown = slow_task.AsyncResult(never_sent).state
    typo_state = slow_task.AsyncResult(typo).state
    return {
        "task_id": task_id,
        "result": {"real": real, "never_sent": unknown, "typo": typo_state},
        "show": [
            {"label": f"AsyncResult({task_id!r}).state (a real task)", "value": real},
            {"label": f"AsyncResult({never_sent!r}).state (never sent)", "value": unknown},
            {"label": f"AsyncResult({typo!r}).state (one character off)", "value": typo_state},
        ],
        "explain": (
            f"The task the worker ran reads {real}. An id nobody ever sent reads {unknown}, and "
            f"so does a typo of the real one: {typo_state}. The backend keeps no list of ids "
            "that exist, so PENDING only means 'I have no record of this id': not yet started, "
            "never sent, mistyped, or expired from the backend all look the same."
        ),
    }


SECONDS = IntParam("seconds", "Seconds", minimum=1, maximum=30, default=3)
# A request that waits must stay short: gunicorn and the learner's patience both have limits.
WAIT_SECONDS = IntParam("seconds", "Seconds", minimum=1, maximum=10, default=3)

EXPERIMENTS = (
    Experiment(
        "lesson5.direct",
        "slow_task(seconds)",
        call_directly,
        params=(WAIT_SECONDS,),
        mode="direct",
        holds=True,
        help="Call directly: the web process runs it and the page waits.",
    ),
    Experiment(
        "lesson5.delay",
        "slow_task.delay(seconds)",
        send_with_delay,
        params=(SECONDS,),
        help="A message goes to the broker; a worker runs it; the page is free at once.",
    ),
    Experiment(
        "lesson5.delay_get",
        "slow_task.delay(seconds).get()",
        delay_then_get,
        params=(WAIT_SECONDS,),
        mode="direct",
        holds=True,
        help="Send it to the worker, then wait for the result inside the request.",
    ),
    Experiment(
        "lesson5.countdown",
        "apply_async(countdown=…)",
        send_with_countdown,
        params=(SECONDS, IntParam("countdown", "Countdown", minimum=1, maximum=30, default=5)),
        help="slow_task.apply_async((seconds,), countdown=5): received now, started later.",
    ),
    Experiment(
        "lesson5.unknown_id",
        "AsyncResult(id).state",
        unknown_id_state,
        params=(WAIT_SECONDS,),
        mode="direct",
        help="Ask the result backend about a real task, an id never sent, and a typo of one.",
    ),
)
