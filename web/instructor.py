"""Who may run a class: the holder of the instructor token that ``make run`` prints.

The printed link (``/classroom/instructor?token=…``) signs this browser in: its signed session
cookie gets a fingerprint of the token (never the token itself), and the page redirects so the
token leaves the address bar and the history. Scripts may send ``Authorization: Bearer <token>``
instead. A new token (or none) signs every browser out, since old fingerprints stop matching.
Comparisons are constant-time, so response timing says nothing about how close a guess was.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from flask import abort, current_app, request, session


def _token() -> str:
    return current_app.config.get("INSTRUCTOR_TOKEN") or ""


def _fingerprint(token: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"instructor:" + token.encode(), hashlib.sha256).hexdigest()


def token_matches(candidate: object) -> bool:
    """True if ``candidate`` is the configured token (always False when none is configured)."""
    token = _token()
    if not token or not isinstance(candidate, str):
        return False
    return hmac.compare_digest(candidate.encode(), token.encode())


def sign_in(candidate: object) -> bool:
    """Mark this browser as the instructor's if ``candidate`` is the token."""
    if not token_matches(candidate):
        return False
    session["instructor"] = _fingerprint(_token())
    session.permanent = True
    return True


def sign_out() -> None:
    session.pop("instructor", None)


def is_instructor() -> bool:
    token = _token()
    if not token:
        return False
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return token_matches(header[len("Bearer ") :])
    saved = session.get("instructor")
    return isinstance(saved, str) and hmac.compare_digest(saved, _fingerprint(token))


def instructor_required(view):
    """Decorate a view so that only the instructor reaches it; anyone else gets a bare 403."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not is_instructor():
            abort(403, description="This page is for the class's instructor.")
        return view(*args, **kwargs)

    return wrapped
