"""Every command a real Redis runs, as ``MONITOR`` shows them, recorded in a thread."""

from __future__ import annotations

import threading

import redis


class RedisMonitor:
    """``with RedisMonitor(url) as m: ...; m.lines()``: (ran inside a script?, command) pairs.

    Recording starts before ``__enter__`` returns (Redis answers MONITOR with OK first).
    """

    def __init__(self, url: str):
        self._client = redis.Redis.from_url(url, socket_timeout=0.2, decode_responses=True)
        self._lines: list[tuple[bool, str]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> RedisMonitor:
        self._monitor = self._client.monitor()
        self._monitor.__enter__()  # sends MONITOR and reads its OK
        self._thread = threading.Thread(target=self._record, name="redis-monitor", daemon=True)
        self._thread.start()
        return self

    def _record(self) -> None:
        while not self._stop.is_set():
            try:
                line = self._monitor.next_command()
            except redis.TimeoutError:
                continue  # a quiet moment: look at the stop flag again
            except redis.ConnectionError:
                return
            with self._lock:
                self._lines.append((line.get("client_type") == "lua", line["command"]))

    def lines(self) -> list[tuple[bool, str]]:
        with self._lock:
            return list(self._lines)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._monitor.__exit__(*exc)
        self._client.close()
