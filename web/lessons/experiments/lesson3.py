"""Lesson 3: the decorator: no decorator means no ``.delay``; ``self.request``; retries."""

from __future__ import annotations

import os

from celery.exceptions import TimeoutError as ResultTimeout

from sandbox_tasks.decorators import (
    FLAKY_TASKS,
    MAX_RETRIES_CHOICES,
    decorated_add,
    plain_add,
    show_request,
)

from .base import ADD_OPERANDS, Experiment, IntParam

# How long the web process waits for show_request's result before telling the learner why.
REQUEST_WAIT_SECONDS = 10


def delay_a_plain_function(params: dict, lab) -> dict:
    x, y = params["x"], params["y"]
    raised = None
    try:
        plain_add.delay(x, y)  # really attempted, here in the web process
    except AttributeError as exc:  # the point of the experiment: a function has no .delay
        raised = exc
    error = f"{type(raised).__name__}: {raised}" if raised else "(nothing was raised)"
    return {
        "show": [
            {"label": f"plain_add({x}, {y}) returned", "value": plain_add(x, y), "format": "code"},
            {"label": f"plain_add.delay({x}, {y}) raised", "value": error, "format": "code"},
            {"label": "type(plain_add)", "value": repr(type(plain_add)), "format": "code"},
        ],
        "explain": (
            f"plain_add is an ordinary Python function, so plain_add({x}, {y}) simply ran here. "
            f"plain_add.delay({x}, {y}) failed before anything was sent: a function object has no "
            "attribute called delay. Only the decorator gives a function .delay() and "
            "apply_async(), and only the decorator registers a name a worker can look up. "
            "Nothing went to Redis, which is why no task card appeared."
        ),
    }


def delay_a_decorated_function(params: dict, lab) -> dict:
    x, y = params["x"], params["y"]
    here = decorated_add(x, y)  # calling the task object directly runs it in this process
    task_id = lab.send(decorated_add, args=(x, y))
    task = decorated_add._get_current_object()  # the decorator returns a lazy proxy to this
    classes = "".join(f"\n  {cls.__module__}.{cls.__qualname__}" for cls in type(task).__mro__[:-1])
    return {
        "task_id": task_id,
        "show": [
            {
                "label": f"decorated_add({x}, {y}) called directly, in web process {os.getpid()}",
                "value": here,
                "format": "code",
            },
            {
                "label": f"decorated_add.delay({x}, {y}) returned",
                "value": repr(decorated_add.AsyncResult(task_id)),
                "format": "code",
            },
            {
                "label": "What the decorator made of the function",
                "value": (
                    f"name: {task.name}\nclass, then its bases:{classes}\n"
                    f"hasattr(decorated_add, 'delay'): {hasattr(decorated_add, 'delay')}"
                ),
                "format": "code",
            },
        ],
        "explain": (
            f"The same two-line body, decorated. Calling decorated_add({x}, {y}) still ran it "
            f"here, in the web process ({os.getpid()}), and returned {here} at once: the "
            "decorator did not make it run in the background. .delay() did that: it sent a "
            f"message naming {task.name}, and the card on the right shows a worker running it."
        ),
    }


def show_the_request(params: dict, lab) -> dict:
    task_id = lab.send(show_request)
    handle = show_request.AsyncResult(task_id)
    # The same task called directly: no message, so almost every field is None.
    direct = show_request()
    known = ", ".join(f"{k}={v!r}" for k, v in direct.items() if v is not None)
    direct_text = f"{known}\n(every other field is None)"
    try:
        in_worker = handle.get(timeout=REQUEST_WAIT_SECONDS)
    except ResultTimeout:
        return {
            "show": [
                {
                    "label": "self.request when called directly here",
                    "value": direct_text,
                    "format": "code",
                }
            ],
            "explain": (
                f"The task was sent (id {task_id}) but no worker ran it within "
                f"{REQUEST_WAIT_SECONDS} s. Is a worker running? The card on the right will "
                "move on as soon as one takes the message."
            ),
        }
    return {
        "show": [
            {
                "label": "self.request in the worker (the task's return value)",
                "value": in_worker,
                "format": "json",
            },
            {
                "label": "self.request when called directly, here in the web process",
                "value": direct_text,
                "format": "code",
            },
        ],
        "explain": (
            f"bind=True made the task's first argument, self, the task itself, so it could read "
            f"self.request: the id it was sent under ({in_worker['id']}), the worker that ran it "
            f"({in_worker['hostname']}), how many times it had been retried "
            f"({in_worker['retries']}), and the queue it came from (delivery_info). The worker "
            "returned that as the task's result and the web process read it back from the "
            "result backend to show you here. Called directly there is no message, so the "
            "same task sees no id and no hostname, and called_directly is true."
        ),
    }


def _waits(task) -> list[int]:
    # Celery's formula with jitter off: min(retry_backoff_max, retry_backoff * 2 ** retries).
    return [min(task.retry_backoff_max, task.retry_backoff * 2**n) for n in range(task.max_retries)]


def send_a_flaky_task(params: dict, lab) -> dict:
    failures, max_retries = params["failures"], params["max_retries"]
    task = FLAKY_TASKS[max_retries]
    task_id = lab.send(task, args=(failures,))
    waits = ", ".join(f"{w} s" for w in _waits(task)) or "none"
    return {
        "task_id": task_id,
        "show": [
            {"label": "Sent", "value": f"{task.name}.delay({failures})", "format": "code"},
            {
                "label": "Its retry policy",
                "value": {
                    "autoretry_for": [e.__name__ for e in task.autoretry_for],
                    "retry_backoff": task.retry_backoff,
                    "retry_backoff_max": task.retry_backoff_max,
                    "retry_jitter": task.retry_jitter,
                    "max_retries": task.max_retries,
                },
                "format": "json",
            },
        ],
        "explain": (
            f"The task fails on its first {failures} run(s) and this one may be retried "
            f"{max_retries} time(s), waiting {waits} before each retry. Watch the card: each "
            "retry appears with the countdown the worker put on the re-sent message, then the "
            "task either succeeds or, with no retries left, fails with the service's error."
        ),
    }


EXPERIMENTS = (
    Experiment(
        "lesson3.undecorated",
        "plain_add.delay(x, y)",
        delay_a_plain_function,
        params=ADD_OPERANDS,
        mode="direct",
        help="Tries .delay() on a function without the decorator, for real, in the web process.",
    ),
    Experiment(
        "lesson3.decorated",
        "decorated_add.delay(x, y)",
        delay_a_decorated_function,
        params=ADD_OPERANDS,
        help="The same body with @shared_task: called directly here, then sent to a worker.",
    ),
    Experiment(
        "lesson3.request",
        "show_request.delay()",
        show_the_request,
        mode="direct",
        help="A bound task returns its own self.request; the page waits for the result.",
    ),
    Experiment(
        "lesson3.retry",
        "flaky.delay(failures)",
        send_a_flaky_task,
        params=(
            IntParam("failures", "Failures before success", minimum=0, maximum=5, default=2),
            IntParam(
                "max_retries",
                "max_retries",
                minimum=MAX_RETRIES_CHOICES.start,
                maximum=MAX_RETRIES_CHOICES.stop - 1,
                default=3,
            ),
        ),
        help="autoretry_for=(ServiceUnavailable,), retry_backoff=1, retry_backoff_max=4, "
        "retry_jitter=False.",
    ),
)
