"""Chapter 10: broken setups, run for real, each with the error a developer would see.

Every experiment here breaks one thing on purpose and shows the real exception or the real
worker behaviour: nothing is described that did not just happen. A broken Celery app (no
result backend, no configuration at all) is built in this web process only for the length of
one request and closed again; the site's own app and worker are never reconfigured.
"""

from __future__ import annotations

import time

from celery import Celery, uuid
from celery.exceptions import TimeoutError as ResultTimeout
from celery.worker.consumer.consumer import (
    CONNECTION_ERROR,
    CONNECTION_RETRY_STEP,
    UNKNOWN_TASK_ERROR,
)
from flask import current_app
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

import config
from sandbox_tasks.basics import add
from sandbox_tasks.pitfalls import quiet_add, sleepy, wait_for_other
from web.extensions import get_redis

from .base import Experiment, ExperimentError, IntParam
from .canvas import send_canvas

FORGOTTEN = "sandbox_tasks.forgotten.send_welcome"
# How long the backend is asked about a task whose result was ignored.
IGNORED_WAIT = 2
# How long a message sent to a queue nobody reads is left there before its state is read.
UNCONSUMED_WAIT = 1


class _ByName:
    """A call of a task known only by its name, sent through ``celery``'s ``send_task``."""

    def __init__(self, celery: Celery, name: str, args: tuple):
        self.celery, self.name, self.args = celery, name, args
        self.id = uuid()

    def apply_async(self, **options):
        return self.celery.send_task(self.name, args=self.args, task_id=self.id, **options)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"


# ---- a task the worker never imported -------------------------------------------------------
def send_unimported(params: dict, lab) -> dict:
    celery = current_app.extensions["celery"]
    call = _ByName(celery, FORGOTTEN, ("ada@example.com",))
    task_id = send_canvas(lab, call, [(call.id, FORGOTTEN)]).id
    return {
        "task_id": task_id,
        "show": [
            {"label": "the worker's include setting", "value": celery.conf.include},
            {
                "label": "what the worker writes to its log (Celery's own message)",
                "value": UNKNOWN_TASK_ERROR.split("\nPlease see")[0] % repr(FORGOTTEN),
                "format": "code",
            },
        ],
        "explain": (
            "The message reached the worker, but no module the worker imported defines "
            f"{FORGOTTEN}, so it has no code to run. It logs the error above, drops the message, "
            "marks the task failed with NotRegistered and sends task-failed: watch the card. "
            "The fix is on the worker's side: list the module in include (or import it from a "
            "module the worker loads), restart the worker, and check with "
            "`celery inspect registered`."
        ),
    }


# ---- no result backend ----------------------------------------------------------------------
def _backendless() -> Celery:
    """A Celery app with the site's broker and queue, but no result backend configured."""
    app = Celery("no-backend", set_as_current=False)
    app.conf.update(
        broker_url=current_app.config["REDIS_URL"],
        task_default_queue=config.QUEUE,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=False,
    )
    return app


def no_backend(params: dict, lab) -> dict:
    app = _backendless()
    try:
        call = _ByName(app, add.name, (2, 3))
        result = send_canvas(lab, call, [(call.id, add.name)])  # what .delay() returned
        task_id = result.id
        try:
            result.get(timeout=5)
            said = "no error (unexpected)"
        except NotImplementedError as exc:
            said = _error(exc)
        backend = type(result.backend)
    finally:
        app.close()
    return {
        "task_id": task_id,
        "show": [
            {"label": "app.conf.result_backend", "value": repr(app.conf.result_backend)},
            {"label": "result.backend", "value": f"{backend.__module__}.{backend.__name__}"},
            {"label": "result.get(timeout=5) raised", "value": said, "format": "code"},
        ],
        "explain": (
            "This app was given a broker but no result_backend, so Celery gave it a "
            "DisabledBackend: sending works, asking for a result raises at once. The task "
            "itself ran anyway (see its card): the site's worker has a backend of its own and "
            "stored the value there, where this app will never look. The result backend is "
            "read by whichever process asks, so the web app needs result_backend too."
        ),
    }


# ---- ignore_result --------------------------------------------------------------------------
def ignored_result(params: dict, lab) -> dict:
    call = quiet_add.s(2, 3)
    call.freeze()
    result = send_canvas(lab, call, [(call.id, quiet_add.name)])  # what .delay() returned
    task_id = result.id
    started = time.perf_counter()
    value = result.get(timeout=IGNORED_WAIT)
    first_ms = (time.perf_counter() - started) * 1000
    fresh = quiet_add.AsyncResult(task_id)  # what another request or process would build
    started = time.perf_counter()
    try:
        fresh.get(timeout=IGNORED_WAIT)
        second = "returned (unexpected)"
    except ResultTimeout as exc:
        second = _error(exc)
    second_s = time.perf_counter() - started
    return {
        "task_id": task_id,
        "show": [
            {
                "label": f"r = quiet_add.delay(2, 3); r.get(timeout={IGNORED_WAIT})",
                "value": f"returned {value!r} after {first_ms:.1f} ms",
            },
            {
                "label": f"AsyncResult(r.id).get(timeout={IGNORED_WAIT}), as another request would",
                "value": f"raised after {second_s:.1f} s: {second}",
                "format": "code",
            },
            {"label": "AsyncResult(r.id).state, after that", "value": fresh.state},
        ],
        "explain": (
            "quiet_add is declared with ignore_result=True. The AsyncResult that .delay() "
            "returned knows that, so its .get() returns None without waiting. Any other "
            "AsyncResult for the same id (built in another request from a stored id) asks the "
            "backend, finds nothing, because the worker never wrote anything, and waits until "
            "its timeout; its state stays PENDING forever, even though the card shows the task "
            "succeeded."
        ),
    }


# ---- settings the worker never read ---------------------------------------------------------
def unconfigured(params: dict, lab) -> dict:
    # Built the way a worker builds an app whose settings were never loaded: Celery() and
    # nothing else. Only loopback is contacted (the default broker is localhost:5672).
    app = Celery("forgot-config", set_as_current=False)
    try:
        conn = app.connection_for_write()
        uri = conn.as_uri()
        started = time.perf_counter()
        try:
            with conn:
                conn.ensure_connection(max_retries=0)
            error = "connected: something is listening on localhost:5672"
        except (OperationalError, OSError) as exc:
            error = _error(exc)
        waited = (time.perf_counter() - started) * 1000
        reason = error.split(": ", 1)[-1]
    finally:
        app.close()
    step = CONNECTION_RETRY_STEP.format(when="in 2.00 seconds", retries=1, max_retries=100)
    return {
        "show": [
            {"label": "app.conf.broker_url", "value": repr(app.conf.broker_url)},
            {"label": "the broker it will use instead", "value": uri, "format": "code"},
            {
                "label": f"connecting to it, from this web process ({waited:.0f} ms)",
                "value": error,
                "format": "code",
            },
            {
                "label": "what a worker with this app prints, again and again",
                "value": (CONNECTION_ERROR % (uri, reason, step)).strip(),
                "format": "code",
            },
        ],
        "explain": (
            "A Celery app that never received its settings does not fail when it is created. "
            "It falls back to the default broker, RabbitMQ as guest on localhost, and the "
            "first sign is a connection refused there, even though your settings name Redis. "
            "Look at the worker's banner: its transport line shows which broker it really uses."
        ),
    }


# ---- .get() inside a task -------------------------------------------------------------------
def get_in_task(params: dict, lab) -> dict:
    inner_id = uuid()
    outer = wait_for_other.s(inner_id)
    outer.freeze()
    send_canvas(lab, outer, [(outer.id, wait_for_other.name), (inner_id, add.name)])
    return {
        "task_id": outer.id,
        "inner_task_id": inner_id,
        "show": [
            {
                "label": "the task body",
                "value": "other = add.apply_async((2, 3))\nreturn other.get(timeout=5)",
                "format": "code",
            }
        ],
        "explain": (
            "Two cards: the inner add runs and succeeds, but the outer task fails at once with "
            "RuntimeError: Never call result.get() within a task! If every worker slot waited "
            "like this, none would be left to run the tasks being waited for. Use a chain or a "
            "chord instead (chapter 8)."
        ),
    }


# ---- a queue no worker consumes -----------------------------------------------------------
def unconsumed_queue(params: dict, lab) -> dict:
    celery = current_app.extensions["celery"]
    redis = get_redis()
    queue = f"reports-{uuid()[:8]}"  # a queue of this request's own, removed again below
    try:
        result = add.apply_async((2, 3), queue=queue)
        # Give a worker every chance: a second is a thousand times the usual pick-up time.
        time.sleep(UNCONSUMED_WAIT)
        state = result.state
        depth = redis.llen(queue)
        consumed = {
            worker: sorted(q["name"] for q in queues or [])
            for worker, queues in (
                celery.control.inspect(timeout=1.0).active_queues() or {}
            ).items()
        }
    except (OperationalError, OSError, RedisError) as exc:
        raise ExperimentError(f"Could not reach the broker: {exc}", code="unavailable") from None
    finally:
        # The message would wait forever: take it (and kombu's binding for the queue) away.
        redis.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    return {
        "show": [
            {
                "label": "what the button called",
                "value": f"add.apply_async((2, 3), queue={queue!r})",
                "format": "code",
            },
            {"label": f"result.state after {UNCONSUMED_WAIT} s", "value": state},
            {"label": f"messages waiting in {queue!r} (LLEN)", "value": depth},
            {
                "label": "queues each worker consumes (inspect active_queues)",
                "value": consumed,
                "format": "json",
            },
        ],
        "explain": (
            f"The message is safe in Redis, in a queue named {queue!r}, and no worker reads that "
            "queue, so the state stays PENDING however long you wait. Nothing logs an error "
            "anywhere. The fix is a worker started with -Q for that queue (or routing the task "
            "to a queue a worker consumes). The button then removed the message so it does not "
            "wait in Redis forever."
        ),
    }


# ---- time limits on the threads pool -------------------------------------------------------
def time_limits(params: dict, lab) -> dict:
    seconds = params["seconds"]
    task_id = lab.send(sleepy, args=(seconds,), soft_time_limit=1, time_limit=2)
    return {
        "task_id": task_id,
        "show": [
            {
                "label": "what the button called",
                "value": f"sleepy.apply_async(({seconds},), soft_time_limit=1, time_limit=2)",
                "format": "code",
            }
        ],
        "explain": (
            "This site's worker runs tasks in threads, and a thread cannot be interrupted from "
            "outside, so the pool enforces neither limit: watch the card succeed after the full "
            f"{seconds} s with interrupted false. On the prefork pool the same call would raise "
            "SoftTimeLimitExceeded inside the task after 1 s, and kill the process at 2 s."
        ),
    }


EXPERIMENTS = (
    Experiment(
        "lesson10.unimported",
        "send_welcome.delay(email)",
        send_unimported,
        help="A task whose module the worker never imported.",
    ),
    Experiment(
        "lesson10.no_backend",
        "add.delay(2, 3).get() without a backend",
        no_backend,
        mode="direct",
        help="An app with a broker and no result_backend.",
    ),
    Experiment(
        "lesson10.ignore_result",
        "quiet_add.delay(2, 3).get()",
        ignored_result,
        mode="direct",
        help=f"A task with ignore_result=True; the second question waits {IGNORED_WAIT} s.",
    ),
    Experiment(
        "lesson10.unconfigured",
        "Celery() with no settings",
        unconfigured,
        mode="direct",
        help="What an app that never read its settings connects to.",
    ),
    Experiment(
        "lesson10.get_in_task",
        "other.delay().get() inside a task",
        get_in_task,
        help="A task that waits for another task.",
    ),
    Experiment(
        "lesson10.unconsumed",
        "add.apply_async(queue=…)",
        unconsumed_queue,
        mode="direct",
        help=f"A queue no worker listens to; the page waits {UNCONSUMED_WAIT} s.",
    ),
    Experiment(
        "lesson10.time_limits",
        "soft_time_limit=1, time_limit=2",
        time_limits,
        params=(IntParam("seconds", "Seconds", minimum=3, maximum=6, default=3),),
        help="A task that sleeps past both of its time limits, on this site's threads pool.",
    ),
)
