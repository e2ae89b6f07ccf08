"""A learner's tasks as the result backend sees them: the source of truth for final states.

Events are broadcast and never stored, so a socket that was down when ``task-succeeded`` went
by would show a task stuck at "started". The browser reconciles with this on (re)connect.
"""

from __future__ import annotations

import json

from celery.result import AsyncResult
from flask import current_app

import lifecycle

from .. import keys
from ..extensions import get_redis
from . import protocol

# Celery's result states, in the browser's vocabulary (lifecycle.py).
_STATE = lifecycle.RESULTS

MAX_TASKS = 50


def owned(learner: str, task_ids: list[str]) -> list[str]:
    """Keep only the ids this learner sent (a route names them); others are not theirs."""
    if not task_ids:
        return []
    routes = get_redis().mget([keys.route(t) for t in task_ids])
    pairs = zip(task_ids, routes, strict=True)
    return [t for t, r in pairs if r and json.loads(r).get("learner") == learner]


def snapshot(learner: str, task_ids: list[str]) -> list[dict]:
    """Return the states of the tasks among ``task_ids`` that this learner sent."""
    return states(owned(learner, task_ids[:MAX_TASKS]))


def states(task_ids: list[str]) -> list[dict]:
    """Read each task's state from the result backend (the caller has checked ownership)."""
    celery = current_app.extensions["celery"]
    tasks = []
    for task_id in task_ids:
        result = AsyncResult(task_id, app=celery)
        state = result.state
        entry = {"task_id": task_id, "state": _STATE.get(state, state.lower())}
        if state == "SUCCESS":
            # Round-trip through the protocol's encoder: a result kombu decoded into bytes or
            # a Decimal must still become valid JSON for the browser.
            entry["result"] = json.loads(protocol.dumps(result.result))
        elif state == "FAILURE":
            entry["error"] = repr(result.result)
        tasks.append(entry)
    return tasks
