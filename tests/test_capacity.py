"""Many connections at once: the site keeps serving pages and learners, and refuses cleanly."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import websocket

from tests.support import chromium
from tests.support.learners import Learner
from tests.support.stack import poll

pytestmark = pytest.mark.timeout(300)

SOCKETS = 2000


def get(url: str, timeout: float = 10) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        response.read()
        return response.status


def idle_socket(base: str) -> websocket.WebSocket:
    """A page that opened its socket and then sat there (no cookie: a new learner each), its
    socket opened as Chromium opens one."""
    ws = websocket.create_connection(
        base.replace("http", "ws") + "/ws",
        timeout=60,
        origin=base,
        header=[chromium.WEBSOCKET_OFFER],
    )
    assert json.loads(ws.recv())["type"] == "hello"
    return ws


def test_2000_open_sockets_leave_room_for_pages_and_new_learners(own_stack):
    stack = own_stack(CELERY_LAB_MAX_SOCKETS=SOCKETS, CELERY_LAB_MAX_SOCKETS_PER_ADDRESS=0)
    stack.start_worker(concurrency=4)
    stack.web, base = stack.start_web(threads=SOCKETS + 512)
    with ThreadPoolExecutor(16) as pool:
        idle = list(pool.map(lambda _: idle_socket(base), range(SOCKETS - 1)))
    try:
        # Pages and the health check still answer...
        assert get(base + "/") == 200
        assert get(base + "/api/health") == 200
        # ...a new learner gets the last socket and a task goes all the way round...
        learner = Learner(base)
        session = learner.session()
        task_id = session.start("lesson1.delay", x=2, y=3)
        assert session.final(task_id, timeout=30)["state"] == "succeeded"
        # ...and one socket more is refused at once, with a message, not left hanging.
        started = time.monotonic()
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            idle_socket(base)
        assert time.monotonic() - started < 10
        assert refused.value.status_code == 503
        assert "as many pages open as it can hold" in json.loads(refused.value.resp_body)["message"]
        learner.close()
    finally:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda ws: ws.close(timeout=0.1), idle))


def test_connections_that_never_finish_their_headers_are_dropped(own_stack):
    stack = own_stack(CELERY_LAB_HEADER_TIMEOUT=2)
    stack.web, base = stack.start_web(threads=32)
    port = int(base.rsplit(":", 1)[1])
    stalled = []
    for _ in range(100):  # far more than the server's threads
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # ...and never the blank line
        stalled.append(s)
    try:
        # The site answers anyone else (once the stalled ones have had their few seconds)...
        poll(lambda: get(base + "/api/health", timeout=30) == 200, 60, message="the site")
        # ...and has hung up on every client that never finished its headers.
        for s in stalled:
            s.settimeout(30)
            assert s.recv(1024) == b""
    finally:
        for s in stalled:
            s.close()


def test_one_learner_cannot_hold_more_than_two_direct_calls_at_once(stack):
    learner = Learner(stack.base_url)
    answers = []

    def press():
        answers.append(learner.post("/api/experiments/lesson5.direct", {"seconds": 3}))

    threads = [threading.Thread(target=press) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 200, 429]
    refused = next(body for status, body in answers if status == 429)
    assert refused["error"] == "call_waiting" and "let it finish" in refused["message"]


@pytest.mark.parametrize("page", ["lesson", "projector"])
def test_a_browsers_offer_of_compression_is_declined_so_no_socket_keeps_a_compressor(
    stack, instructor, code, page
):
    # Accepted, each socket would keep a zlib compressor (~90 KB) for frames of a few hundred
    # bytes, for as long as the page is open.
    who, path = (Learner(stack.base_url), "/ws") if page == "lesson" else (instructor, "")
    path = path or f"/classroom/{code}/ws"
    ws = websocket.create_connection(
        stack.base_url.replace("http", "ws") + path,
        timeout=30,
        header=[f"Cookie: {who.cookie}", chromium.WEBSOCKET_OFFER],
        origin=stack.base_url,
    )
    try:
        assert ws.getstatus() == 101
        assert "sec-websocket-extensions" not in ws.getheaders()
        # Frames are plain: websocket-client reads no compressed frame (it refuses RSV1).
        assert json.loads(ws.recv())["type"] == "hello"
    finally:
        ws.close()
