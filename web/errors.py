"""One error type, one JSON-body reader and one handler for every request the site refuses.

A view (or anything it calls) raises ``LabError`` with the words a learner reads; the handler
registered in the factory answers it, and werkzeug's HTTP errors and a Redis that does not
answer, as JSON for programs (``{"error": code, "message": …}``, the shape every JSON endpoint
has always had) or as a page for people, by what the request asked for. Blueprints raise; they
do not each answer again.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from kombu.exceptions import BatchPublishError, OperationalError
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException, NotFound

log = logging.getLogger(__name__)

NOT_JSON = "The {what} is not valid JSON, or not UTF-8 JSON text."
TOO_DEEP = "That JSON is nested too deeply to read."
REDIS_DOWN = "The lab's Redis did not answer: try again in a moment."


class LabError(Exception):
    """A request the site will not carry out: ``message`` is written for the person who tried.

    ``code`` is a short machine string ("bad_json", "rate_limited", "busy"), ``status`` the
    HTTP status, ``retry_after`` (seconds) a refusal that will pass (sent as Retry-After), and
    ``extra`` any further fields of the JSON answer (``field``: which parameter was wrong).
    """

    def __init__(
        self,
        message: str,
        code: str = "invalid",
        status: int = 400,
        *,
        retry_after: int | None = None,
        **extra: Any,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.retry_after = retry_after
        self.extra = {k: v for k, v in extra.items() if v is not None}

    def as_dict(self) -> dict:
        body = {"error": self.code, "message": self.message, **self.extra}
        if self.retry_after is not None:
            body["retry_after"] = self.retry_after
        return body

    def response(self) -> Response:
        """The JSON answer, with Retry-After when the refusal will pass."""
        response = jsonify(self.as_dict())
        response.status_code = self.status
        if self.retry_after is not None:
            response.headers["Retry-After"] = str(self.retry_after)
        return response


def loads(raw: str | bytes, what: str = "request body") -> Any:
    """Parse JSON text, or raise LabError("bad_json"): not JSON, not UTF-8, or nested too deep.

    The one JSON reader of what a client sends: HTTP bodies (``read_json``) and websocket
    messages (web/live/protocol.py ``parse_action``, with ``what="message"``).
    """
    try:
        # Decoded here, strictly: json.loads would guess UTF-16 or UTF-32 from bytes.
        return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except ValueError:  # also UnicodeDecodeError: the body is not JSON text at all
        raise LabError(NOT_JSON.format(what=what), "bad_json") from None
    except RecursionError:  # json.loads gives up on deep nesting with this, which is no ValueError
        raise LabError(TOO_DEEP, "bad_json") from None


def read_json(
    kind: type = dict, *, empty: Any = None, example: str = "", wrong_kind: str = "bad_body"
):
    """Return the request's JSON body, checked to be a ``kind`` (a dict unless said).

    Whatever the Content-Type (curl sends form encoding by default). An empty body is ``empty``
    if given (some endpoints take no fields), else bad JSON. A body of another kind is a 400
    with code ``wrong_kind`` that shows ``example``.
    """
    raw = request.get_data(cache=True)
    if not raw and empty is not None:
        return empty
    what = "a JSON object" if kind is dict else f"JSON of type {kind.__name__}"
    send = f"Send {what}, like {example}." if example else f"Send {what}."
    try:
        body = loads(raw)
    except LabError as exc:
        # What was wrong, then what to send instead.
        raise LabError(f"{exc.message} {send}" if example else exc.message, exc.code) from None
    if not isinstance(body, kind):
        raise LabError(send, wrong_kind)
    return body


# -- answering: JSON for programs, a page for people ------------------------------------------
def wants_json() -> bool:
    """True for the API, websocket handshakes and clients that ask for JSON over HTML."""
    if (
        request.path.startswith("/api/")
        or request.headers.get("Upgrade", "").lower() == "websocket"
    ):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _page(title: str, message: str, status: int):
    return render_template("classroom/message.html", title=title, message=message), status


def lab_error(exc: LabError, title: str = ""):
    if wants_json():
        return exc.response()
    title = title or ("No such class" if exc.status == 404 else "Not possible")
    response, status = _page(title, exc.message, exc.status)
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else {}
    return response, status, headers


def http_error(exc: HTTPException):
    if wants_json():
        code = exc.name.lower().replace(" ", "_")
        return LabError(exc.description or exc.name, code, exc.code or 500).response()
    if isinstance(exc, NotFound):
        # People get a page with the way back to the course.
        from .lessons.library import get_library

        return render_template(
            "not_found.html", message=exc.description, lessons=get_library().all()
        ), 404
    if request.blueprint == "classroom":
        return _page(exc.name, exc.description, exc.code or 500)
    return exc


def redis_down(exc: Exception):
    # RedisError from redis-py; kombu's OperationalError (a publish that could not connect) and
    # BatchPublishError (a canvas's batch of publishes failed, experiments/canvas.py).
    log.warning("Redis did not answer %s %s: %s", request.method, request.path, exc)
    return lab_error(LabError(REDIS_DOWN, "redis_down", 503), "Redis did not answer")


def too_deeply_nested(_exc: RecursionError):
    # Anything that parsed JSON without ``loads`` (a library's own json.loads) and met deep
    # nesting: RecursionError is no ValueError, and without this it would be a 500.
    return lab_error(LabError(TOO_DEEP, "bad_json"))


def init_app(app: Flask) -> None:
    app.register_error_handler(LabError, lab_error)
    app.register_error_handler(HTTPException, http_error)
    for broker_error in (RedisError, OperationalError, BatchPublishError):
        app.register_error_handler(broker_error, redis_down)
    app.register_error_handler(RecursionError, too_deeply_nested)
