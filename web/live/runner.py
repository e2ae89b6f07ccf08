"""The one way to run an experiment: one validation, rate limit, admission, error shape, reply.

Each experiment has exactly one transport, ``Experiment.transport``
(web/lessons/experiments/base.py), and pages, tests and the bench all use it:

- ``.delay()``-style presses (every ``mode`` but "direct") go over the page's websocket as
  ``{"action": "run", "experiment", "params", "ref"}`` (web/live/sockets.py). The page already
  holds that socket for the task's events, and a round trip on it is far cheaper than a fetch
  (measured in headless Chromium here: about 0.8 ms against 3.5-4.4 ms).
- Direct calls (``mode == "direct"``) are ``POST /api/experiments/<name>`` (web/live/api.py):
  they answer with a result, and in lesson 5 the request held while the page waits is the point.

Both transports call :func:`run` with the transport they are, and send back what it returns.
An experiment asked for on the other transport is refused (``wrong_transport``, 400) with a
message naming the right one; like an unknown name, that refusal is counted against the
second's rate limit (so a flood of them is limited like any junk), but nothing else happens:
no task is sent and nothing is admitted. A reply carries the caller's ``ref`` (websocket) so a
page can match it to its press; HTTP uses the same body and the status beside it.

Reply: ``{"type": "sent", "ref": …, "task_id": …, "mode": …, "experiment": …, …}``.
Error: ``{"type": "error", "ref": …, "error": code, "message": text[, "field"][, "retry_after"]}``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from kombu.exceptions import BatchPublishError, OperationalError
from redis.exceptions import RedisError

from ..errors import LabError
from ..learners import current_learner
from ..lessons.experiments import EXPERIMENTS, run_experiment
from ..safety.guard import RequestCount, rate_limited

log = logging.getLogger(__name__)

HTTP = "http"
WEBSOCKET = "websocket"


def wrong_transport_message(name: str, transport: str) -> str:
    """Where experiment ``name`` (whose transport is ``transport``) must be sent instead."""
    if transport == WEBSOCKET:
        return (
            f"{name} runs over the page's websocket: send "
            f'{{"action": "run", "experiment": "{name}", "params": {{...}}}} on /ws.'
        )
    return f"{name} is a direct call over HTTP: POST its parameters to /api/experiments/{name}."


def clean_ref(ref: Any) -> str | None:
    """The caller's label for its press, echoed back: a short string or nothing."""
    return ref[:64] if isinstance(ref, str) else None


def error(code: str, message: str, status: int, ref: str | None, **extra) -> tuple[int, dict]:
    return status, {"type": "error", "ref": ref, "error": code, "message": message, **extra}


def run(name: Any, params: Any, ref: Any = None, *, transport: str) -> tuple[int, dict]:
    """Rate-limit, look up, validate and run experiment ``name``; return (HTTP status, reply).

    ``transport`` is the one that asked (``HTTP`` or ``WEBSOCKET``); an experiment of the other
    is refused before its parameters are read.
    """
    ref = clean_ref(ref)
    # Every call counts against the second's rate limit, junk names included, so a flood of
    # them is limited like real presses. A ``.delay()`` press is counted in its first task's
    # admission (one round trip for both); any other outcome is counted before it is answered.
    request = RequestCount(current_learner(), current_app.config["RATE_LIMIT_PER_SECOND"])
    try:
        experiment = EXPERIMENTS.get(name) if isinstance(name, str) else None
        if experiment is None:
            raise LabError(
                f"There is no experiment called {str(name)[:60]!r}.", "unknown_experiment", 404
            )
        if experiment.transport != transport:
            raise LabError(
                wrong_transport_message(experiment.name, experiment.transport),
                "wrong_transport",
                400,
                transport=experiment.transport,
            )
        outcome = run_experiment(experiment, params, request=request)
    except LabError as exc:  # unknown, wrong transport, bad params, refused: one error shape
        refusal = exc
    except (RedisError, OperationalError, BatchPublishError) as exc:
        # BatchPublishError: a canvas's transaction failed (lessons/experiments/canvas.py
        # send_batch); its slot is already freed.
        return _redis_unavailable(name, exc, ref)
    else:
        return 200, {"type": "sent", "ref": ref, **outcome}
    try:
        # A refusal nothing counted yet (all but the admission's own) is counted now, and past
        # the limit it says so instead, as if the limit had been checked first.
        if request.take():
            refusal = rate_limited()
    except (RedisError, OperationalError) as exc:
        return _redis_unavailable(name, exc, ref)
    return refusal.status, {"type": "error", "ref": ref, **refusal.as_dict()}


def _redis_unavailable(name: Any, exc: Exception, ref: str | None) -> tuple[int, dict]:
    # Redis is restarting: say so; the page (or the script) can try again in a moment.
    log.warning("experiment %.60r failed, Redis unavailable: %s", name, exc)
    return error(
        "broker_unavailable",
        "The site cannot reach Redis right now; try again.",
        503,
        ref,
        retry_after=1,
    )
