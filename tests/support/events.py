"""Synthetic Celery events and routes, shaped like the ones the worker and the web send."""

from __future__ import annotations

import itertools

_clock = itertools.count(1)


def event(kind: str, uuid: str = "t-1", **fields) -> dict:
    """One Celery event as the receiver hands it over (envelope keys included)."""
    return {
        "type": kind,
        "uuid": uuid,
        "timestamp": 1_796_000_000.0 + next(_clock) / 10,
        "local_received": 1_796_000_000.5,
        "clock": next(_clock),
        "utcoffset": 0,
        "pid": 4242,
        "hostname": "lab@host",
        **fields,
    }


def route(learner: str = "ana", classroom: str | None = None, **fields) -> dict:
    """A route as ``hub.remember_route`` stores it at send time."""
    return {
        "learner": learner,
        "classroom": classroom,
        "experiment": "lesson5.delay",
        "task_name": "sandbox_tasks.timing.slow_task",
        "address": "127.0.0.1",
        **fields,
    }
