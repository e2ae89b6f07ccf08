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


RATE_LIMITED = "Slow down: too many requests this second. Try again in a moment."

# How long a second's counter lives: long enough for the second itself, whatever the clocks.
RATE_KEY_SECONDS = 5


class RequestCount:
    """One request's count against its learner's per-second limit, taken exactly once.

    Either by itself (``take``: one round trip), or by the admission script of the first task
    the request sends (web/safety/admission.py), which then costs no round trip of its own:
    a ``.delay()`` press is counted, admitted and routed in one.
    """

    def __init__(self, learner: str, limit: int):
        self.key = keys.rate_limit(learner, int(time.time()))
        self.limit = limit
        self.taken = False
        self.over = False

    def take(self) -> bool:
        """Count the request now, unless already counted; True if it is past the limit."""
        if not self.taken:
            # One round trip, no MULTI/EXEC: the pair needs no isolation (INCR is atomic by
            # itself; the EXPIRE, sent in the same write, only bounds the key's life).
            pipe = get_redis().pipeline(transaction=False)
            pipe.incr(self.key)
            pipe.expire(self.key, RATE_KEY_SECONDS)
            count, _ = pipe.execute()
            self.counted(count > self.limit)
        return self.over

    def counted(self, over: bool) -> None:
        """Record that the request was counted elsewhere (the admission script)."""
        self.taken, self.over = True, over


def over_rate_limit(learner: str, limit: int) -> bool:
    """Count this learner's request in the current second; True once past ``limit``."""
    return RequestCount(learner, limit).take()


def rate_limited() -> LabError:
    return LabError(RATE_LIMITED, "rate_limited", 429, retry_after=1)


def limit_writes():
    limit = current_app.config["RATE_LIMIT_PER_SECOND"]
    # Experiments count in their runner (web/live/runner.py), the same for HTTP and the websocket.
    if request.endpoint == "api.run":
        return None
    if request.method == "POST" and over_rate_limit(current_learner(), limit):
        return rate_limited().response()
    return None


def init_app(app: Flask) -> None:
    app.before_request(check_origin)
    app.before_request(limit_writes)
