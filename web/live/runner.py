"""The one way to run an experiment, whichever transport asked: the page's websocket or HTTP.

Both transports call :func:`run` and send back what it returns, so a press has one validation,
one rate limit, one admission check (inside ``run_experiment``: web/safety/admission.py), one error
shape and one reply. A reply carries the caller's ``ref`` (websocket) so a page can match it
to its press; HTTP uses the same body and the status beside it.

Reply: ``{"type": "sent", "ref": …, "task_id": …, "mode": …, "experiment": …, …}``.
Error: ``{"type": "error", "ref": …, "error": code, "message": text[, "field"][, "retry_after"]}``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from ..errors import LabError
from ..learners import current_learner
from ..lessons.experiments import EXPERIMENTS, run_experiment
from ..safety.guard import over_rate_limit

log = logging.getLogger(__name__)

RATE_LIMITED = "Slow down: too many requests this second. Try again in a moment."


def clean_ref(ref: Any) -> str | None:
    """The caller's label for its press, echoed back: a short string or nothing."""
    return ref[:64] if isinstance(ref, str) else None


def error(code: str, message: str, status: int, ref: str | None, **extra) -> tuple[int, dict]:
    return status, {"type": "error", "ref": ref, "error": code, "message": message, **extra}


def run(name: Any, params: Any, ref: Any = None) -> tuple[int, dict]:
    """Rate-limit, look up, validate and run experiment ``name``; return (HTTP status, reply)."""
    ref = clean_ref(ref)
    try:
        # Counted before the look-up, so a flood of junk names is limited like real presses.
        if over_rate_limit(current_learner(), current_app.config["RATE_LIMIT_PER_SECOND"]):
            return error("rate_limited", RATE_LIMITED, 429, ref, retry_after=1)
        experiment = EXPERIMENTS.get(name) if isinstance(name, str) else None
        if experiment is None:
            return error(
                "unknown_experiment",
                f"There is no experiment called {str(name)[:60]!r}.",
                404,
                ref,
            )
        outcome = run_experiment(experiment, params)
    except LabError as exc:  # bad params, or refused (admission): the same error reply
        return exc.status, {"type": "error", "ref": ref, **exc.as_dict()}
    except (RedisError, OperationalError) as exc:
        # Redis is restarting: say so; the page (or the script) can try again in a moment.
        log.warning("experiment %.60r failed, Redis unavailable: %s", name, exc)
        return error(
            "broker_unavailable",
            "The site cannot reach Redis right now; try again.",
            503,
            ref,
            retry_after=1,
        )
    return 200, {"type": "sent", "ref": ref, **outcome}
