"""Who may run a class: the holder of the instructor token that ``make run`` prints.

The printed link (``/classroom/instructor?token=…``), or the sign-in form at the same address,
signs this browser in: it gets a cookie of its own (``INSTRUCTOR_COOKIE_NAME``), holding a
signed, timestamped fingerprint of the token (never the token itself), that lasts
``INSTRUCTOR_SESSION_SECONDS`` (12 h: a day's teaching) and is checked against that age on
every request, whatever the browser keeps. The link's answer redirects with no referrer and
no caching, so the token leaves the address bar and the history. Scripts may send
``Authorization: Bearer <token>`` instead. Signing out drops the cookie; a new token (or none)
signs every browser out, since old fingerprints stop matching. Comparisons are constant-time,
so response timing says nothing about how close a guess was.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from flask import Response, abort, current_app, request
from itsdangerous import BadSignature, TimestampSigner


def _token() -> str:
    return current_app.config.get("INSTRUCTOR_TOKEN") or ""


def _fingerprint(token: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"instructor:" + token.encode(), hashlib.sha256).hexdigest()


def _signer() -> TimestampSigner:
    return TimestampSigner(current_app.config["SECRET_KEY"], salt="celery-lab instructor")


def token_matches(candidate: object) -> bool:
    """True if ``candidate`` is the configured token (always False when none is configured)."""
    token = _token()
    if not token or not isinstance(candidate, str):
        return False
    return hmac.compare_digest(candidate.encode(), token.encode())


def sign_in(candidate: object, response: Response) -> bool:
    """Give ``response`` the instructor's cookie if ``candidate`` is the token."""
    if not token_matches(candidate):
        return False
    response.set_cookie(
        current_app.config["INSTRUCTOR_COOKIE_NAME"],
        _signer().sign(_fingerprint(_token())).decode(),
        max_age=current_app.config["INSTRUCTOR_SESSION_SECONDS"],
        httponly=True,
        # Strict: no other site can even start a request that carries it.
        samesite="Strict",
        secure=request.is_secure,
    )
    # The token was in this request's address: keep it out of referrers and caches.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return True


def sign_out(response: Response) -> None:
    """Make ``response`` drop the instructor's cookie."""
    response.delete_cookie(
        current_app.config["INSTRUCTOR_COOKIE_NAME"], httponly=True, samesite="Strict"
    )


def is_instructor() -> bool:
    token = _token()
    if not token:
        return False
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return token_matches(header[len("Bearer ") :])
    saved = request.cookies.get(current_app.config["INSTRUCTOR_COOKIE_NAME"])
    if not saved:
        return False
    try:
        fingerprint = _signer().unsign(
            saved, max_age=current_app.config["INSTRUCTOR_SESSION_SECONDS"]
        )
    except BadSignature:  # tampered with, or older than the session's lifetime
        return False
    return hmac.compare_digest(fingerprint, _fingerprint(token).encode())


def instructor_required(view):
    """Decorate a view so that only the instructor reaches it; anyone else gets a bare 403."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not is_instructor():
            abort(403, description="This page is for the class's instructor.")
        return view(*args, **kwargs)

    return wrapped
