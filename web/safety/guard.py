"""Checks every request passes before a view runs: same-origin writes and a per-learner rate.

The Origin check must happen here, in ``before_request``: flask-sock completes the websocket
handshake before the view function runs, so a check inside the handler would be too late.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request

from .. import keys
from ..errors import LabError
from ..extensions import get_redis
from ..learners import current_learner


def _foreign_origin() -> bool:
    origin = request.headers.get("Origin")
    # No Origin: not a browser (curl, a test client), so there is no other site to forge from.
    if not origin:
        return False
    return urlsplit(origin).netloc != request.host


def check_origin():
    is_websocket = request.headers.get("Upgrade", "").lower() == "websocket"
    if (is_websocket or request.method not in ("GET", "HEAD", "OPTIONS")) and _foreign_origin():
        abort(403, description="Requests from another site are refused.")


def over_rate_limit(learner: str, limit: int) -> bool:
    """Count this learner's request in the current second; True once past ``limit``."""
    key = keys.rate_limit(learner, int(time.time()))
    # One round trip, no MULTI/EXEC: every press pays this, and the pair needs no isolation
    # (INCR is atomic by itself; the EXPIRE, sent in the same write, only bounds the key's life).
    pipe = get_redis().pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, 5)
    count, _ = pipe.execute()
    return count > limit


def rate_limited_response():
    return LabError(
        "Slow down: too many requests this second. Try again in a moment.",
        "rate_limited",
        429,
        retry_after=1,
    ).response()


def limit_writes():
    limit = current_app.config["RATE_LIMIT_PER_SECOND"]
    # Experiments count in their runner (web/live/runner.py), the same for HTTP and the websocket.
    if request.endpoint == "api.run":
        return None
    if request.method == "POST" and over_rate_limit(current_learner(), limit):
        return rate_limited_response()
    return None


def init_app(app: Flask) -> None:
    app.before_request(check_origin)
    app.before_request(limit_writes)
