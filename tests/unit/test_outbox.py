"""A socket's outbox: the sender writes its own frame when the socket takes it, and never waits.

These run on a real socket pair and real websocket frames (wsproto, as simple-websocket uses),
without a server: the page's end reads and parses what the site's end wrote.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest
from wsproto.connection import Connection as Frames
from wsproto.connection import ConnectionType
from wsproto.events import TextMessage

from web.live.delivery import Key
from web.live.outbox import Connection


class _Ws:
    """What outbox.Connection uses of simple-websocket's socket object, on a real socket."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.ws = Frames(ConnectionType.SERVER)
        self.event = threading.Event()
        self.input_buffer: list = []
        self.connected = True


@pytest.fixture
def pair():
    site, page = socket.socketpair()
    page.setblocking(False)
    yield site, page
    site.close()
    page.close()


def read_messages(page: socket.socket) -> list[dict]:
    """Every message the page's end can read right now, without waiting."""
    frames = Frames(ConnectionType.CLIENT)
    while True:
        try:
            data = page.recv(1 << 20)
        except BlockingIOError:
            break
        frames.receive_data(data)
    return [json.loads(e.data) for e in frames.events() if isinstance(e, TextMessage)]


def test_a_frame_the_socket_takes_is_written_by_its_sender_without_waking_the_handler(pair):
    site, page = pair
    ws = _Ws(site)
    conn = Connection(ws, Key.learner("ana"))
    assert conn.send({"type": "task", "state": "started"})
    assert read_messages(page) == [{"type": "task", "state": "started"}]
    assert not ws.event.is_set()  # no thread switch was needed to write it
    assert conn.queued_bytes() == 0


def test_what_the_socket_cannot_take_stays_queued_for_the_handler(pair):
    site, page = pair
    ws = _Ws(site)
    conn = Connection(ws, Key.learner("ana"), ahead_bytes=4096)
    big = {"type": "task", "state": "progress", "fields": {"note": "x" * 3000}}
    for _ in range(5):  # the page does not read: past 4 KiB unsent, the sender stops writing
        assert conn.send(big)
    assert conn.queued_bytes() > 0
    assert ws.event.is_set()  # the handler was woken to write the rest when it can
    assert len(read_messages(page)) >= 1  # the page reads what did go, in order...
    while not conn.flush():  # ...and the handler's flush writes the rest as the page reads
        read_messages(page)
    assert conn.queued_bytes() == 0


def test_a_sender_never_waits_for_the_handlers_write(pair):
    site, page = pair
    ws = _Ws(site)
    conn = Connection(ws, Key.learner("ana"))
    returned = threading.Event()
    with conn._writing:  # the handler is in the middle of a write
        sender = threading.Thread(target=lambda: conn.send({"n": 1}) and returned.set())
        sender.start()
        assert returned.wait(5), "send waited for the handler's write"
        assert read_messages(page) == []  # queued, not written past the handler's back
        assert ws.event.is_set()
    assert conn.flush()
    assert read_messages(page) == [{"n": 1}]
    sender.join()


def test_a_socket_given_up_on_is_read_until_its_client_stops_sending_whoever_else_reads(pair):
    """Closing a socket with unread input resets it, and a reset loses the close frame before
    the client reads it: so the site reads (and drops) what the client still sends until the
    client stops, even while simple-websocket's own reader thread takes some of it first."""
    site, page = pair
    conn = Connection(_Ws(site), Key.learner("ana"))
    sending_for = 1.0
    stopped: list[float] = []

    def client_still_sending():
        page.setblocking(True)
        end = time.monotonic() + sending_for
        try:
            while time.monotonic() < end:
                page.sendall(b"x" * 512)
        except BrokenPipeError:  # the site's end stopped reading: what must not happen
            return
        stopped.append(time.monotonic())
        page.shutdown(socket.SHUT_WR)

    # simple-websocket's reader, on the same socket: a blocking recv in a thread of its own.
    reader = socket.socket(fileno=os.dup(site.fileno()))
    reader.setblocking(True)

    def its_reader():
        while reader.recv(4096):
            pass

    threads = [threading.Thread(target=f, daemon=True) for f in (client_still_sending, its_reader)]
    for thread in threads:
        thread.start()
    conn._hang_up()
    returned = time.monotonic()
    for thread in threads:
        thread.join(timeout=10)
    reader.close()
    assert stopped, "the site stopped reading while the client was still sending"
    assert returned >= stopped[0]
