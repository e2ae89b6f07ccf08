"""A socket that stops reading hurts only itself: everyone else's events keep arriving.

The limits are shrunk through the environment (config.limits) so that a client filling its
own output takes a few hundred kilobytes, not megabytes.
"""

from __future__ import annotations

import json
import socket
import struct
import time
import urllib.request

import pytest
import websocket

from tests.support.classroom_people import Instructor, join
from tests.support.learners import Learner, Session, receive_until
from tests.support.stack import poll

pytestmark = pytest.mark.timeout(180)

ADD = {"x": 2, "y": 3}

SMALL = {
    "CELERY_LAB_WS_SEND_QUEUE_BYTES": 32 * 1024,
    "CELERY_LAB_WS_SEND_AHEAD_BYTES": 16 * 1024,
    "CELERY_LAB_WS_SEND_STALL_SECONDS": 3,
    # Many requests at once, so the test fills the output, not the input bound.
    "CELERY_LAB_WS_INBOX_MESSAGES": 2000,
}


@pytest.fixture
def small_stack(own_stack):
    stack = own_stack(**SMALL)
    stack.start_worker(concurrency=8)
    stack.web, stack.base_url = stack.start_web()
    return stack


def stuck_socket(learner: Learner) -> websocket.WebSocket:
    """A websocket with a tiny receive buffer, so not reading shows at once."""
    ws = websocket.create_connection(
        learner.base_url.replace("http", "ws") + "/ws",
        timeout=30,
        header=[f"Cookie: {learner.cookie}"],
        origin=learner.base_url,
        sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),),
    )
    assert json.loads(ws.recv())["type"] == "hello"
    learner.sockets.append(ws)
    return ws


def close_code(ws: websocket.WebSocket, timeout: float) -> int | None:
    """Read everything the server sent until it closed; its close code (None: no close frame)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ws.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            opcode, frame = ws.recv_data_frame(True)
        except (
            websocket.WebSocketConnectionClosedException,
            BrokenPipeError,
            ConnectionResetError,
        ):
            # Gone before its close frame was read (or while the client answered a ping of its).
            return None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack("!H", frame.data[:2])[0]
    raise AssertionError("the server never closed the slow socket")


def test_a_socket_that_stops_reading_does_not_freeze_anyone(small_stack):
    base = small_stack.base_url
    instructor = Instructor(base, small_stack.instructor_token)
    code = instructor.open_class()
    projector = instructor.projector(code)
    slow, other = Learner(base), Learner(base)
    join(other, code, "other")
    watcher = other.session()
    try:
        stuck = stuck_socket(slow)
        # Tasks of its own, whose events keep coming while it no longer reads...
        for _ in range(10):
            stuck.send(json.dumps({"action": "run", "experiment": "lesson1.delay", "params": ADD}))
        stuck.send(
            json.dumps({"action": "run", "experiment": "lesson5.delay", "params": {"seconds": 20}})
        )
        # ...and far more replies than it will ever read.
        sync = json.dumps({"action": "sync", "task_ids": ["x" * 32] * 50})
        try:
            for _ in range(5000):
                stuck.send(sync)
        except (BrokenPipeError, ConnectionResetError, websocket.WebSocketException):
            pass  # the server gave up on it before it had sent them all

        # Meanwhile another learner presses, again and again for ~10 s (one-second tasks, one
        # after the other), and sees each task finish.
        for _ in range(10):
            task_id = watcher.start("lesson5.delay", seconds=1)
            assert watcher.final(task_id, timeout=15)["state"] == "succeeded"
            # The class's projector shows that learner's task as it happens.
            receive_until(
                projector,
                lambda m, t=task_id: (
                    m["type"] == "class-tasks" and any(e.get("task_id") == t for e in m["events"])
                ),
                timeout=15,
            )
        # The stuck client was told why it was dropped, once it read what it had been sent.
        assert close_code(stuck, timeout=30) == 1008
        poll(lambda: watcher.ping(), 5, message="the other learner's socket to answer")
    finally:
        slow.close()
        other.close()
        instructor.close()


def test_a_client_flooding_pings_is_closed_not_buffered(small_stack):
    """Input is bounded too: messages sent faster than they are answered close the socket."""
    learner = Learner(small_stack.base_url)
    try:
        ws = stuck_socket(learner)
        ping = json.dumps({"action": "ping"})
        try:
            for _ in range(20000):
                ws.send(ping)
        except (BrokenPipeError, ConnectionResetError, websocket.WebSocketException):
            pass  # the server may hang up before we have sent them all
        # Closed by the server: with the reason (1008) if the client read far enough to see it.
        assert close_code(ws, timeout=30) in (1008, None)
        # The site is unharmed: a new socket of the same learner works.
        fresh = Session(learner.socket())
        fresh.ping()
    finally:
        learner.close()


def test_what_a_closed_socket_left_queued_is_dropped_not_run(own_stack):
    stack = own_stack(CELERY_LAB_MAX_TASKS_PER_LEARNER=1000)
    stack.start_worker(concurrency=2)
    stack.web, base = stack.start_web()
    learner = Learner(base)
    try:
        ws = websocket.create_connection(
            base.replace("http", "ws") + "/ws", header=[f"Cookie: {learner.cookie}"], origin=base
        )
        assert json.loads(ws.recv())["type"] == "hello"
        # Every write to Redis waits a second, so the socket's thread is held on its first
        # press (rate limit, admission)...
        paused = stack.redis()
        paused.execute_command("CLIENT", "PAUSE", "1000", "WRITE")
        paused.close()
        # ...with ten more queued behind it, then the page goes away before any reply.
        press = json.dumps({"action": "run", "experiment": "lesson1.delay", "params": ADD})
        for _ in range(11):
            ws.send(press)
        ws.close()

        def served() -> dict:
            with urllib.request.urlopen(base + "/api/health", timeout=10) as response:
                return json.loads(response.read())

        poll(lambda: served()["sockets"] == 0, 30, message="the socket to be let go")
        db = stack.redis()
        sent = sum(db.llen(key) for key in db.scan_iter("celerylab:learner:*:tasks"))
        db.close()
        # At most the first press (if it was handled before the close was seen).
        assert sent <= 1, f"{sent - 1} presses queued by a closed socket were still run"
    finally:
        learner.close()
