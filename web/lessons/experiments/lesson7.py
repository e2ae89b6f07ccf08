"""Lesson 7: send one value from a fixed menu and see whether JSON carries it, and as what."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from kombu.exceptions import EncodeError
from kombu.serialization import dumps

from sandbox_tasks.serialization import describe_argument

from .base import ChoiceParam, Experiment


class Point:
    """A plain custom class: the kind of object it is tempting to hand to a task."""

    def __init__(self, x: int, y: int):
        self.x, self.y = x, y

    def __repr__(self) -> str:
        return f"Point(x={self.x}, y={self.y})"


# The menu, in the order the lesson lists it. Each value is built fresh on the server for every
# press: the learner only names one, so nothing a learner sends is ever decoded into an object.
FACTORIES = {
    "int": lambda: 42,
    "str": lambda: "héllo",
    "list": lambda: [1, 2, 3],
    "tuple": lambda: (1, "two"),
    "dict": lambda: {"name": "Ada", 1815: "born"},
    "datetime": lambda: dt.datetime(2024, 11, 24, 20, 30, tzinfo=dt.UTC),
    "set": lambda: {1, 2, 3},
    "bytes": lambda: b"\x89PNG",
    "Decimal": lambda: Decimal("19.99"),
    "custom object": lambda: Point(1, 2),
    "open file": None,  # opened (and closed again) by sample()
    "lambda": lambda: lambda x: x * 2,
}
KINDS = tuple(FACTORIES)


@contextmanager
def sample(kind: str) -> Iterator[object]:
    """Build the value named ``kind``; an open file is closed again when the block ends."""
    if kind == "open file":
        with open(os.devnull) as handle:
            yield handle
    else:
        yield FACTORIES[kind]()


# What JSON does to each kind that it can carry at all, in a sentence.
NOTES = {
    "int": "JSON has numbers, so an int arrives as the same int.",
    "str": "JSON strings are Unicode, so text arrives unchanged, accents and all.",
    "list": "A list is a JSON array and comes back as a list.",
    "tuple": "JSON has arrays but no tuples: the array on the wire comes back as a list.",
    "dict": "JSON object keys are always strings: the key 1815 arrives as '1815'.",
    "datetime": (
        'Kombu\'s JSON wraps a datetime as {"__type__": "datetime", ...} and rebuilds it, so '
        "it arrives as a datetime, time zone and all (older releases sent a plain string)."
    ),
    "bytes": "Kombu's JSON wraps bytes as base64 text in a __type__ envelope and rebuilds them.",
    "Decimal": (
        "Kombu's JSON sends a Decimal as its text in a __type__ envelope and rebuilds it, so "
        "no digits are lost to floating point."
    ),
}


def args_as_json(value) -> str:
    """The JSON text kombu's encoder makes of the task's args ``[value]``."""
    _content_type, _encoding, text = dumps([value], serializer="json")
    return text


# How long the page waits for the worker's report before leaving it to the task card.
REPORT_WAIT_SECONDS = 10.0


def worker_report(task_id: str, wait: float = REPORT_WAIT_SECONDS) -> str | None:
    """The task's own answer, read from the result backend; None if it has not come yet."""
    result = describe_argument.AsyncResult(task_id)
    deadline = time.monotonic() + wait
    # The task takes milliseconds; a bounded poll of the backend keeps a missing worker from
    # holding this request for longer than the wait.
    while time.monotonic() < deadline:
        if result.ready():
            return result.result if result.successful() else None
        time.sleep(0.02)
    return None


def send_value(params: dict, lab) -> dict:
    kind = params["kind"]
    with sample(kind) as value:
        built = f"{type(value).__name__}: {value!r}"
        show = [{"label": "built on the server", "value": built, "format": "code"}]
        try:
            task_id = lab.send(describe_argument, args=(value,))
        except EncodeError as exc:
            # The real error from the real apply_async: nothing reached Redis.
            error = f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
            show.append(
                {"label": "describe_argument.delay(value) raised", "value": error, "format": "code"}
            )
            return {"queued": False, "show": show, "explain": _refused(type(value).__name__)}
        show.append(
            {
                "label": "its args, as JSON on the wire",
                "value": args_as_json(value),
                "format": "code",
            }
        )
    report = worker_report(task_id)
    if report is None:
        explain = (
            f"{NOTES[kind]} The worker has not answered within "
            f"{REPORT_WAIT_SECONDS:g} s; its card on the right will show it when it does."
        )
        return {"task_id": task_id, "queued": True, "show": show, "explain": explain}
    show.append({"label": "what the worker's task received", "value": report, "format": "code"})
    return {
        "task_id": task_id,
        "queued": True,
        "received": report,
        "show": show,
        "explain": NOTES[kind],
    }


def _refused(type_name: str) -> str:
    return (
        f"Nothing was queued. apply_async had to write the {type_name} down as JSON before "
        "anything could go to Redis, and JSON has no way to, so the call failed right here in "
        "the web process: no message, no task id, no card. Pass plain data instead: an id, a "
        "path, a list of values."
    )


def send_pickled(params: dict, lab) -> dict:
    value = Point(1, 2)
    task_id = lab.send(describe_argument, args=(value,), serializer="pickle")
    _content_type, _encoding, pickled = dumps([value], serializer="pickle")
    return {
        "task_id": task_id,
        "show": [
            {
                "label": "sent",
                "value": "describe_argument.apply_async((Point(1, 2),), serializer='pickle')",
                "format": "code",
            },
            {
                "label": f"its args, pickled: {len(pickled)} bytes of Python's own format",
                "value": repr(pickled),
                "format": "code",
            },
        ],
        "explain": (
            "The web process pickled the Point and queued it: producing pickle is allowed. "
            "Our worker accepts JSON only (accept_content = ['json']), so when it takes the "
            'message it refuses to unpickle it, logs "Refusing to deserialize untrusted '
            'content of type pickle" and drops it. Nothing is received, nothing runs, no '
            "result is stored. The card shows the refusal, reported by the worker itself."
        ),
    }


EXPERIMENTS = (
    Experiment(
        "lesson7.value",
        "describe_argument.delay(value)",
        send_value,
        params=(ChoiceParam("kind", "Value", KINDS, "tuple"),),
        mode="direct",
        help="The server builds the value you pick, sends it as the task's only argument and "
        "shows what the worker's task reports back.",
    ),
    Experiment(
        "lesson7.pickle",
        "apply_async(…, serializer='pickle')",
        send_pickled,
        help="Sends Point(1, 2) pickled, to a worker that accepts JSON only.",
    ),
)
