"""Lesson 1: what a task is: a direct call, a ``.delay()``, and what the decorator returned."""

from __future__ import annotations

import os
import socket

import celery

from sandbox_tasks.basics import add

from .base import ADD_OPERANDS, Experiment


def _this_process() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


def call_directly(params: dict, lab) -> dict:
    # A task object is still callable: this runs the body right here, in the web process.
    result = add(params["x"], params["y"])
    here = os.getpid()
    verdict = (
        "the same process that is answering your click, so the task ran inside the web server"
        if result["pid"] == here
        else f"not this web process (pid {here}): something else ran it"
    )
    return {
        "result": result,
        "show": [
            {
                "label": f"add({params['x']}, {params['y']}) returned",
                "value": result,
                "format": "json",
            },
            {"label": "The web process that answered this request", "value": _this_process()},
        ],
        "explain": (
            f"add({params['x']}, {params['y']}) was an ordinary function call. The task reported "
            f"pid {result['pid']}: {verdict}. No message went to Redis and no worker was "
            "involved, which is why no task card appeared beside the lesson."
        ),
    }


def send_with_delay(params: dict, lab) -> dict:
    # add.delay(x, y) is add.apply_async((x, y)); lab.send calls apply_async with a task id
    # chosen first, so the task's events can be routed back to this learner's page.
    task_id = lab.send(add, args=(params["x"], params["y"]))
    handle = add.AsyncResult(task_id)
    return {
        "task_id": task_id,
        "show": [
            {"label": ".delay() returned", "value": repr(handle), "format": "code"},
            {"label": "Sent by the web process", "value": _this_process()},
        ],
        "explain": (
            f"Nothing was added here. The web process (pid {os.getpid()}) wrote a message naming "
            f"{add.name} with the arguments [{params['x']}, {params['y']}] to the Redis queue, "
            "and got back an AsyncResult: a handle that holds only the task id. The card on the "
            "right follows that message to a worker. When it says succeeded, compare the pid in "
            f"the worker's result with {os.getpid()}."
        ),
    }


def _transcript(lines: list[tuple[str, object]]) -> str:
    return "\n".join(f">>> {source}\n{value}" for source, value in lines)


def inspect_task(params: dict, lab) -> dict:
    # Every value below is computed now, in this process, from the real task object.
    mro = "\n".join(str(cls) for cls in add.__class__.__mro__)
    transcript = _transcript(
        [
            ("add", repr(add)),
            ("add.name", repr(add.name)),
            ("add.run", repr(add.run)),
            ("add.delay", repr(add.delay)),
            ("add.apply_async", repr(add.apply_async)),
            ("callable(add)", repr(callable(add))),
            ("isinstance(add, celery.Task)", repr(isinstance(add, celery.Task))),
            ("add.app", repr(add.app)),
            ("add.name in add.app.tasks", repr(add.name in add.app.tasks)),
            ("for cls in add.__class__.__mro__: print(cls)", mro),
        ]
    )
    return {
        "show": [
            {
                "label": "Asking the task object about itself (in the web process)",
                "value": transcript,
                "format": "code",
            },
        ],
        "explain": (
            "The decorator did not run add and did not send anything. It made a new class named "
            f"after the function ({add.__class__.__name__}, a subclass of this app's FlaskTask "
            "and of celery.Task), created one instance of it, registered that instance in the "
            f"Celery app under the name {add.name!r}, and gave you back that object. Calling it "
            "runs your original body (add.run); .delay() and .apply_async() send a message "
            "instead. Only the name travels in the message: the worker finds the task by "
            "looking the same name up in its own registry."
        ),
    }


EXPERIMENTS = (
    Experiment(
        "lesson1.direct",
        "add(x, y)",
        call_directly,
        params=ADD_OPERANDS,
        mode="direct",
        help="A plain call: the web process runs the body while the page waits.",
    ),
    Experiment(
        "lesson1.delay",
        "add.delay(x, y)",
        send_with_delay,
        params=ADD_OPERANDS,
        help="A message goes to Redis; a worker process runs the body.",
    ),
    Experiment(
        "lesson1.inspect",
        "add  # what is it?",
        inspect_task,
        mode="direct",
        help="Ask the object the decorator returned what it is, what it is called, what it can do.",
    ),
)
