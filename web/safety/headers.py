"""The security headers every response carries, set in one place.

The Content-Security-Policy allows scripts and styles from this site only: no inline script,
no ``on*=`` attributes, no ``eval``, nothing from another host (the site needs no network).
A page that must carry an inline ``<script>`` or ``<style>`` (an editor that injects its
styles, for one) marks it with ``nonce="{{ csp_nonce() }}"``: the nonce is new on every
request, so the policy stays as strict as it is and only that element is allowed.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g

# Every directive names its source list; `'self'` covers same-origin ws:// and wss:// (CSP 3).
_POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'nonce-{nonce}'; "
    "style-src 'self' 'nonce-{nonce}'; "
    "img-src 'self' data:; "
    "connect-src 'self'; "
    "font-src 'self'; "
    "object-src 'none'; "
    "base-uri 'none'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)

HEADERS = {
    # A type sniffed from the body never overrides the one we send (a JSON reply is not HTML).
    "X-Content-Type-Options": "nosniff",
    # Other sites learn nothing of our addresses (a class code, a lesson) from links out.
    "Referrer-Policy": "same-origin",
    # frame-ancestors for browsers that predate it: no page of ours is framed (clickjacking).
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def csp_nonce() -> str:
    """This request's nonce, for a template's ``<script nonce=…>`` or ``<style nonce=…>``."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def policy(nonce: str) -> str:
    return _POLICY.format(nonce=nonce)


def add_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = policy(csp_nonce())
    for name, value in HEADERS.items():
        # A view may be stricter (the instructor's sign-in sends no referrer at all).
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
    app.add_template_global(csp_nonce)
