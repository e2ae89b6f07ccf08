"""Every response carries the security headers, and no page carries inline script.

The Content-Security-Policy forbids inline script, so a page with an inline ``<script>`` or an
``onclick=`` would simply break in the browser: this reads every page's HTML and says which.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import render_template_string

from config import ROOT
from web.lessons import library

LESSONS = [library.parse(p).slug for p in sorted((ROOT / "lessons").glob("[0-9][0-9]-*.md"))]
PAGES = ["/", "/quiz", "/progress", "/join", "/join/ABCDE", "/nowhere", "/classroom/instructor"]
PAGES += [f"/lessons/{slug}" for slug in LESSONS]
INSTRUCTOR_PAGES = ["/classroom/", "/classroom/{code}"]


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
    )


class InlineScript(HTMLParser):
    """Collect what the policy would block: inline scripts and styles, handlers, js: links."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name == "style":
                self.found.append(f"<{tag} style=…>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:…>")
        data_block = attributes.get("type", "").lower() == "application/json"
        self._in_script = tag == "script" and "src" not in attributes and not data_block
        if tag == "style":
            self.found.append("<style>")

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"<script>{data.strip()[:40]}")

    def handle_endtag(self, tag):
        self._in_script = False


def inline_script(html: str) -> list[str]:
    parser = InlineScript()
    parser.feed(html)
    return parser.found


@pytest.fixture
def instructor_pages(client, app):
    bearer = {"Authorization": f"Bearer {app.config['INSTRUCTOR_TOKEN']}"}
    opened = client.post("/api/classroom/classes", json={}, headers=bearer)
    assert opened.status_code == 201
    return [p.format(code=opened.json["code"]) for p in INSTRUCTOR_PAGES], bearer


@pytest.fixture
def app(stack):
    from web import create_app

    application = create_app({"TESTING": True, "INSTRUCTOR_TOKEN": stack.instructor_token})
    yield application
    application.extensions["hub"].stop()


def assert_hardened(response) -> None:
    policy = directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"].split()[0] == "'self'"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_headers_and_no_inline_script(client, path):
    response = client.get(path)
    assert response.status_code in (200, 404), path
    assert response.mimetype == "text/html"
    assert_hardened(response)
    assert inline_script(response.get_data(as_text=True)) == []


def test_the_instructors_pages_have_the_headers_and_no_inline_script(client, instructor_pages):
    paths, bearer = instructor_pages
    for path in paths:
        response = client.get(path, headers=bearer)
        assert response.status_code == 200, path
        assert_hardened(response)
        assert inline_script(response.get_data(as_text=True)) == [], path


@pytest.mark.parametrize(
    "path", ["/api/progress", "/api/no-such-thing", "/static/js/lab.js", "/static/css/site.css"]
)
def test_json_errors_and_static_files_have_the_headers_too(client, path):
    with client.get(path) as response:  # a static file's body is an open file
        assert_hardened(response)


def test_the_reader_finds_what_the_policy_would_block():
    html = (
        '<script>alert(1)</script><button onclick="go()">x</button><p style="color:red">'
        '<a href="javascript:go()">y</a><style>p{}</style>'
        '<script src="/static/js/lab.js"></script><script type="application/json">{"a": 1}</script>'
    )
    assert inline_script(html) == [
        "<script>alert(1)",
        "<button onclick=…>",
        "<p style=…>",
        "<a href=javascript:…>",
        "<style>",
    ]


def test_each_request_gets_a_new_nonce_that_a_template_can_use(app):
    @app.get("/nonce-test")
    def nonce_test():
        return render_template_string('<script nonce="{{ csp_nonce() }}">ok()</script>')

    client = app.test_client()
    seen = []
    for _ in range(2):
        response = client.get("/nonce-test")
        nonce = response.get_data(as_text=True).split('nonce="')[1].split('"')[0]
        assert f"'nonce-{nonce}'" in directives(response)["script-src"]
        assert f"'nonce-{nonce}'" in directives(response)["style-src"]
        seen.append(nonce)
    assert seen[0] != seen[1] and len(seen[0]) >= 16
