"""One open websocket, with bounded output and input, written without ever blocking.

Any thread (the event hub, its owners' lane, the socket's handler) may ``send``: the message
is encoded and queued, and returns at once. Nothing that writes ever blocks: writes use
``MSG_DONTWAIT`` and keep at most ``ahead_bytes`` unsent in the kernel, so there is always room
left there for a close frame. The sender writes what it queued itself when the socket takes it
at once (the usual case: the event hub's frame goes out in the hub's own thread, without waking
the socket's thread to do it, a thread switch per event saved); whatever is left is written by
the socket's own handler thread (``serve``), which retries. One writer at a time (a lock that a
sender only tries, never waits on), so frames are never interleaved. A client that stops
reading fills only its own queue: once that holds more than ``max_bytes``, or nothing could be
written for ``stall_seconds``, the socket is closed with code 1008 and a reason, and no other
learner noticed.

simple-websocket writes too (pongs, its pings, close frames) from its reader thread: its socket
is wrapped so those bytes join the same queue, and a frame is never cut by another. Incoming
messages are bounded the same way: more than ``max_inbox`` waiting closes the socket (1008),
and whatever a closed socket left queued is dropped, never run.
"""

from __future__ import annotations

import collections
import fcntl
import logging
import select
import socket
import struct
import termios
import threading
import time
from collections.abc import Callable

from wsproto.events import CloseConnection, TextMessage
from wsproto.utilities import LocalProtocolError

from . import protocol
from .delivery import Key

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
# While output waits, the handler looks again this often (to write, or to notice a stall).
RETRY_SECONDS = 0.05
FINAL_FLUSH_SECONDS = 2.0
# How long a socket we gave up on is read (and dropped) after its close frame, so that a client
# still sending can still read that frame instead of a reset.
DRAIN_SECONDS = 5.0


def unsent_bytes(sock: socket.socket) -> int:
    """Bytes the kernel holds for this socket that the peer has not acknowledged (Linux)."""
    try:
        raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except OSError:
        return 0
    return struct.unpack("i", raw)[0]


class _Inbox(list):
    """simple-websocket's input buffer, refusing to grow past ``limit`` messages."""

    def __init__(self, limit: int, on_overflow: Callable[[], None]):
        super().__init__()
        self.limit = limit
        self.on_overflow = on_overflow

    def append(self, item) -> None:
        if len(self) >= self.limit:
            self.on_overflow()
            return
        super().append(item)


class _QueuedSocket:
    """Stands in for the raw socket inside simple-websocket: reads pass, writes are queued."""

    def __init__(self, sock: socket.socket, conn: Connection):
        self._sock = sock
        self._conn = conn

    def send(self, data) -> int:
        self._conn.queue_raw(bytes(data))
        return len(data)

    def close(self) -> None:
        # The reader thread is done; the handler flushes what is left, then the server closes.
        self._conn.wake()

    def __getattr__(self, name):
        return getattr(self._sock, name)


class Connection:
    """One open websocket; ``send`` may be called from any thread and never blocks."""

    def __init__(
        self,
        ws,
        key: Key,
        *,
        max_bytes: int = 1 << 20,
        stall_seconds: float = 10.0,
        ahead_bytes: int = 256 * 1024,
        max_inbox: int = 64,
    ):
        self.ws = ws
        self.key = key  # whose socket this is: the hub sends by it
        self.max_bytes = max_bytes
        self.stall_seconds = stall_seconds
        self.ahead_bytes = ahead_bytes
        self.closed = False
        self.close_reason: str | None = None  # why we closed it, if we did
        self._lock = threading.Lock()
        # Held by whoever writes to the socket (``flush``): a sender only tries it, so it never
        # waits behind the handler's write, and leaves the rest to the handler.
        self._writing = threading.Lock()
        self._frames: collections.deque[bytes] = collections.deque()
        self._held: list[str] | None = None  # messages kept back until the first one is ready
        self._queued = 0
        self._partial: memoryview | None = None
        self._blocked_since: float | None = None
        self._sock = getattr(ws.sock, "_sock", ws.sock)
        ws.sock = _QueuedSocket(self._sock, self)
        # Swap the reader's input buffer for a bounded one; move anything already there.
        early, ws.input_buffer = ws.input_buffer, _Inbox(max_inbox, self._inbox_full)
        ws.input_buffer.extend(early)

    @classmethod
    def from_config(cls, ws, key: Key, config) -> Connection:
        return cls(
            ws,
            key,
            max_bytes=config.get("WS_SEND_QUEUE_BYTES", 1 << 20),
            stall_seconds=config.get("WS_SEND_STALL_SECONDS", 10.0),
            ahead_bytes=config.get("WS_SEND_AHEAD_BYTES", 256 * 1024),
            max_inbox=config.get("WS_INBOX_MESSAGES", 64),
        )

    # -- any thread ----------------------------------------------------------------------------
    def send(self, message: dict) -> bool:
        """Queue ``message``; False once the socket is closed (the caller forgets it)."""
        if self.closed or self.close_reason:
            return False
        data = protocol.dumps(message)
        with self._lock:
            if self._held is not None:
                self._held.append(data)
                self._queued += len(data)
            else:
                self._encode(data)
            over = self._queued > self.max_bytes
        if over:
            self._give_up(f"too slow: more than {self.max_bytes} bytes waited to be read")
        elif self._write_now():
            return True  # all written here: the handler's thread need not wake for it
        self.wake()
        return True

    def _write_now(self) -> bool:
        """Write what is queued from this thread if no one else is; True if nothing is left."""
        if not self._writing.acquire(blocking=False):
            return False
        try:
            return not self.closed and self._flush()
        finally:
            self._writing.release()

    def hold(self) -> None:
        """Keep what others send from now on until ``release``: the first message is not built.

        A screen's snapshot is read after its socket joins the hub, so that a change made
        meanwhile is either in the snapshot or sent after it; never lost between the two. Held,
        those changes still reach the page after the snapshot, which stays the first message.
        """
        with self._lock:
            self._held = []

    def release(self, first: dict) -> None:
        """Send ``first``, then whatever was held since ``hold``, in that order."""
        data = protocol.dumps(first)
        with self._lock:
            held, self._held = self._held or [], None
            self._queued -= sum(len(each) for each in held)
            for each in [data, *held]:
                self._encode(each)
        self.wake()

    def _encode(self, data: str) -> None:
        # Under the lock: wsproto's connection state is not thread-safe, and frames go out in
        # the order they were encoded (the site negotiates no compression, web/extensions.py).
        frame = self.ws.ws.send(TextMessage(data=data))
        self._frames.append(frame)
        self._queued += len(frame)

    def queue_raw(self, data: bytes) -> None:
        with self._lock:
            self._frames.append(data)
            self._queued += len(data)
        self.wake()

    def wake(self) -> None:
        self.ws.event.set()

    def queued_bytes(self) -> int:
        with self._lock:
            return self._queued + (len(self._partial) if self._partial is not None else 0)

    def _inbox_full(self) -> None:
        self._give_up("too many messages sent without waiting for the replies")

    def _give_up(self, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = reason
        self.wake()

    # -- the socket's own thread ---------------------------------------------------------------
    def serve(self, on_message: Callable[[str | bytes], None]) -> None:
        """Write what is queued and hand each message to ``on_message`` until the socket ends."""
        ws = self.ws
        try:
            while True:
                pending = not self.flush()
                if self.close_reason is not None or not ws.connected:
                    break
                if pending:
                    now = time.monotonic()
                    if self._blocked_since and now - self._blocked_since > self.stall_seconds:
                        self._give_up(f"too slow: nothing was read for {self.stall_seconds:g} s")
                        break
                if ws.input_buffer:
                    on_message(ws.input_buffer.pop(0))
                    continue
                ws.event.wait(RETRY_SECONDS if pending else 5.0)
                ws.event.clear()
        finally:
            self._finish()

    def flush(self, respect_ahead: bool = True) -> bool:
        """Write without blocking; True once nothing is left to write."""
        with self._writing:
            return self._flush(respect_ahead)

    def _flush(self, respect_ahead: bool = True) -> bool:
        progressed = False
        while True:
            if self._partial is None:
                with self._lock:
                    if not self._frames:
                        self._blocked_since = None
                        return True
                    frame = self._frames.popleft()
                    self._queued -= len(frame)
                self._partial = memoryview(frame)
            if respect_ahead and unsent_bytes(self._sock) > self.ahead_bytes:
                break
            try:
                written = self._sock.send(self._partial, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.closed = True
                with self._lock:
                    self._frames.clear()
                    self._queued = 0
                self._partial = None
                return True
            progressed = progressed or written > 0
            self._partial = self._partial[written:] if written < len(self._partial) else None
        if progressed or self._blocked_since is None:
            self._blocked_since = time.monotonic()
        return False

    def _finish(self) -> None:
        ws = self.ws
        # Whatever a closed socket left queued is dropped, never run.
        ws.input_buffer.clear()
        reason = self.close_reason
        if reason is not None:
            log.info("closing a websocket (%s)", reason)
            with self._lock:
                self._frames.clear()  # a frame already half written is finished first
                self._queued = 0
        if ws.connected:
            ws.connected = False
            code = POLICY_VIOLATION if reason else 1000
            try:
                frame = ws.ws.send(CloseConnection(code, (reason or "")[:120]))
            except LocalProtocolError:
                frame = b""  # wsproto already saw a close
            with self._lock:
                self._frames.append(frame)
        self.closed = True
        deadline = time.monotonic() + FINAL_FLUSH_SECONDS
        while not self.flush(respect_ahead=False) and time.monotonic() < deadline:
            try:
                select.select([], [self._sock], [], RETRY_SECONDS)
            except (OSError, ValueError):
                break
        if reason is not None:
            self._hang_up()

    def _hang_up(self) -> None:
        """End a connection we gave up on, so that its close frame can still be read."""
        # FIN after the close frame, then read and drop what the client still sends: closing a
        # socket with unread input makes the kernel reset it, and a reset throws away the close
        # frame before the client has read it.
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            return
        deadline = time.monotonic() + DRAIN_SECONDS
        while time.monotonic() < deadline:
            try:
                readable, _, _ = select.select([self._sock], [], [], RETRY_SECONDS)
                if readable and not self._sock.recv(65536, socket.MSG_DONTWAIT):
                    break  # the client closed its end: nothing left to reset on
            except (BlockingIOError, InterruptedError):
                # simple-websocket's reader thread, still reading this socket, took those
                # bytes first: go on reading (this once ended the drain, and the reset lost
                # the close frame: tests/unit/test_outbox.py).
                continue
            except (OSError, ValueError):
                return
        try:
            self._sock.shutdown(socket.SHUT_RD)  # lets simple-websocket's reader thread go
        except OSError:
            pass
