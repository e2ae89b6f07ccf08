"""Lesson 4: arguments: what ``multiply.delay(...)`` puts on the broker, beside the result."""

from __future__ import annotations

import json
from contextlib import contextmanager

from celery import uuid
from celery.signals import before_task_publish
from kombu.serialization import dumps

from sandbox_tasks.arguments import multiply

from .base import Experiment, operand


@contextmanager
def published_message(task_id: str):
    """Capture the message Celery hands to kombu for ``task_id``, as it is published.

    ``before_task_publish`` fires in this process, in the sending thread, with the headers and
    body Celery built; every send in the process triggers it, so keep only our task's.
    """
    captured: dict = {}

    def capture(
        sender=None, body=None, exchange=None, routing_key=None, headers=None, properties=None, **_
    ):
        if headers and headers.get("id") == task_id:
            captured.update(
                task=sender,
                body=body,
                headers=dict(headers),
                properties=dict(properties or {}),
                exchange=exchange,
                routing_key=routing_key,
            )

    before_task_publish.connect(capture, weak=False)
    try:
        yield captured
    finally:
        before_task_publish.disconnect(capture)


def _lines(pairs) -> str:
    # One "name: value" line each, in Celery's own order, values as they look in JSON.
    return "\n".join(f"{name}: {json.dumps(value, default=repr)}" for name, value in pairs)


def _describe(message: dict, serializer: str) -> list[dict]:
    # kombu's Producer turns the body into bytes with exactly this call before publishing.
    content_type, encoding, payload = dumps(message["body"], serializer=serializer)
    args, kwargs, embed = message["body"]
    envelope = [
        ("content-type", content_type),
        ("content-encoding", encoding),
        ("exchange", message["exchange"]),
        ("routing_key", message["routing_key"]),
        *message["properties"].items(),
    ]
    return [
        {
            "label": "Headers: what the worker reads before it decodes the body",
            "value": _lines(message["headers"].items()),
            "format": "code",
        },
        {
            "label": "Body: [args, kwargs, embed]",
            "value": _lines([("args", args), ("kwargs", kwargs), ("embed", embed)]),
            "format": "code",
        },
        {
            "label": "On the wire: the serialized body and how it is labelled",
            "value": f"{_lines(envelope)}\n\n{payload}",
            "format": "code",
        },
    ]


def _send(lab, args: tuple = (), kwargs: dict | None = None) -> tuple[str, dict]:
    task_id = uuid()
    with published_message(task_id) as message:
        lab.send(multiply, args=args, kwargs=kwargs, task_id=task_id)
    return task_id, message


def _sent(task_id: str, message: dict, explain: str) -> dict:
    """The card to follow, the message as it was published, and what it shows."""
    return {
        "task_id": task_id,
        "show": _describe(message, multiply.serializer),
        "message": {"headers": message["headers"], "body": message["body"]},
        "explain": explain,
    }


def send_positional(params: dict, lab) -> dict:
    a, b = params["a"], params["b"]
    task_id, message = _send(lab, args=(a, b))
    return _sent(
        task_id,
        message,
        (
            f"multiply.delay({a}, {b}) became one JSON message. The header 'task' names the "
            f"function the worker must look up ({message['task']}), 'id' is the task id the card "
            f"follows, and the body's first element is the positional arguments, {[a, b]}. The "
            f"worker will call multiply(*{[a, b]}, **{{}}) and the card shows what it returned."
        ),
    )


def send_keyword(params: dict, lab) -> dict:
    a, b = params["a"], params["b"]
    task_id, message = _send(lab, kwargs={"a": a, "b": b})
    return _sent(
        task_id,
        message,
        (
            f"The same call with keywords: args is now empty and kwargs carries "
            f"{{'a': {a}, 'b': {b}}} by name, which is why argsrepr is '()' and kwargsrepr "
            "holds them. The worker matches them to the parameters by name, exactly as Python "
            "does, so the result is the same."
        ),
    )


def send_too_few(params: dict, lab) -> dict:
    a = params["a"]
    raised = None
    try:
        multiply.delay(a)  # really attempted: Celery checks the arguments before sending
    except TypeError as exc:
        raised = exc
    error = f"{type(raised).__name__}: {raised}" if raised else "(nothing was raised)"
    return {
        "show": [{"label": f"multiply.delay({a}) raised", "value": error, "format": "code"}],
        "explain": (
            "Celery compared the arguments with multiply's signature before building any "
            "message, in the web process, and refused: b is missing. Nothing was sent, so no "
            "worker will ever fail on it and no task card appeared. (Tasks check this because "
            "their typing option is on by default.)"
        ),
    }


A, B = operand("a", 4), operand("b", 5)

EXPERIMENTS = (
    Experiment(
        "lesson4.positional",
        "multiply.delay(a, b)",
        send_positional,
        params=(A, B),
        help="Positional arguments: the message is captured as it is published.",
    ),
    Experiment(
        "lesson4.keyword",
        "multiply.delay(a=a, b=b)",
        send_keyword,
        params=(A, B),
        help="The same numbers as keyword arguments: compare the body.",
    ),
    Experiment(
        "lesson4.too_few",
        "multiply.delay(a)",
        send_too_few,
        params=(A,),
        mode="direct",
        help="One argument short: does anything reach the broker?",
    ),
)
