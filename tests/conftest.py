"""Fixtures: a real redis-server, a real Celery worker and a real web server for the session.

No eager mode, no fake Redis: the worker is a ``celery worker`` subprocess and the web server
is gunicorn, started with the same commands ``run.py`` uses.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
import websocket

from tests.stack import Stack, poll

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def stack():
    """Redis + one worker + one web server, shared by the whole session."""
    s = Stack()
    s.start_redis()
    s.start_worker()
    s.web, s.base_url = s.start_web()
    # Every in-process app (the `app` fixture) talks to the same Redis.
    saved = {k: os.environ.get(k) for k in ("REDIS_URL", "CELERY_LAB_VAR_DIR")}
    os.environ["REDIS_URL"] = s.url
    os.environ["CELERY_LAB_VAR_DIR"] = s.env["CELERY_LAB_VAR_DIR"]
    yield s
    s.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    shutil.rmtree(s.dir, ignore_errors=True)


@pytest.fixture
def app(stack):
    """A fresh app in this process, against the session's Redis and worker."""
    from web import create_app

    application = create_app({"TESTING": True})
    yield application
    application.extensions["hub"].stop()


@pytest.fixture
def client(app):
    return app.test_client()


class Learner:
    """One browser's worth of identity: a cookie jar, HTTP calls and websockets."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        with self.opener.open(base_url + "/") as response:
            response.read()
        self.sockets: list[websocket.WebSocket] = []

    @property
    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def post(self, path: str, body) -> tuple[int, dict]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read())

    def socket(self, origin: str | None = None) -> websocket.WebSocket:
        ws = websocket.create_connection(
            self.base_url.replace("http", "ws") + "/ws",
            timeout=30,
            header=[f"Cookie: {self.cookie}"],
            origin=origin or self.base_url,
        )
        hello = json.loads(ws.recv())
        assert hello["type"] == "hello"
        self.sockets.append(ws)
        return ws

    def close(self):
        for ws in self.sockets:
            ws.close(timeout=1)
            ws.shutdown()  # close() leaves the socket open if the server closed first


def receive_until(ws, predicate, timeout: float = 30) -> list[dict]:
    """Collect messages from ``ws`` until one satisfies ``predicate``; return them all."""
    seen = []
    deadline = time.monotonic() + timeout

    def one():
        # Each read waits only for what is left: a server ping must not restart the clock.
        ws.settimeout(max(0.1, deadline - time.monotonic()))
        message = json.loads(ws.recv())
        seen.append(message)
        return predicate(message)

    poll(one, timeout, interval=0, message=f"a matching message (saw {seen[-5:]})")
    return seen


@pytest.fixture
def learner(stack):
    who = Learner(stack.base_url)
    yield who
    who.close()


@pytest.fixture(scope="session")
def browser_type_launch_args():
    # Debian's Chromium: Playwright's own browser download cannot work here.
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session", autouse=True)
def _playwright_tmp_cleanup():
    before = set(Path(tempfile.gettempdir()).glob("playwright*"))
    yield
    for leftover in set(Path(tempfile.gettempdir()).glob("playwright*")) - before:
        shutil.rmtree(leftover, ignore_errors=True)


@pytest.fixture(scope="session")
def base_url(stack):
    return stack.base_url
