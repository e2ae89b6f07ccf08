"""The web server's worker: gunicorn's gthread, with a deadline for a request's headers.

gthread waits 5 s for a new connection's first byte without taking a thread, but once one byte
has arrived it reads the rest of the headers in a pool thread, blocking, for as long as the
client likes: a few hundred clients that never finish their headers hold every thread, and the
site stops answering anyone. Here the headers of every request (the first on a connection and
each kept-alive one) must arrive within ``CELERY_LAB_HEADER_TIMEOUT`` seconds in all; the body,
the response and a websocket are not limited by it. The open-file limit is raised to its hard
limit, since every websocket is a file.
"""

from __future__ import annotations

import errno
import resource
import socket
import time

from gunicorn.workers import gthread

import config

HEADER_TIMEOUT = config.Settings.from_env().launch.header_timeout


class _DeadlineSocket:
    """A socket whose reads fail once ``deadline`` (monotonic) has passed; None: no deadline."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self.deadline: float | None = None

    def recv(self, size: int, *flags) -> bytes:
        if self.deadline is None:
            return self._sock.recv(size, *flags)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            # A reset, to gunicorn: it closes the connection without logging a traceback.
            raise ConnectionResetError(errno.ECONNRESET, "request headers took too long")
        self._sock.settimeout(remaining)
        try:
            return self._sock.recv(size, *flags)
        except TimeoutError:
            raise ConnectionResetError(errno.ECONNRESET, "request headers took too long") from None
        finally:
            self._sock.settimeout(None)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class _Conn(gthread.TConn):
    def __init__(self, cfg, sock, client, server):
        super().__init__(cfg, _DeadlineSocket(sock), client, server)

    def init(self):
        super().init()
        # Called before each request's headers are read (gthread's handle()).
        self.sock.deadline = time.monotonic() + HEADER_TIMEOUT


class ThreadWorker(gthread.ThreadWorker):
    def init_process(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        super().init_process()

    def accept(self, listener):
        # gthread's accept, with a connection whose header reads have a deadline.
        try:
            client_sock, client_addr = listener.accept()
            self.nr_conns += 1
            client_sock.setblocking(True)
            conn = _Conn(self.cfg, client_sock, client_addr, listener.getsockname())
            self.enqueue_req(conn)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise

    def handle_request(self, req, conn):
        conn.sock.deadline = None  # the headers are in
        return super().handle_request(req, conn)
