"""The bench's clients: a learner (cookie + websocket), plain Celery, and a bare event observer."""

from __future__ import annotations

import http.cookiejar
import json
import threading
import time
import urllib.request

import websocket
from celery import Celery

import config

PROBE = "bench-probe"


class Learner:
    """One browser: a learner cookie from the site's home page, then one websocket."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(base_url + "/", timeout=60) as response:
            response.read()
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        self.ws: websocket.WebSocket | None = None

    def connect(self) -> None:
        self.ws = websocket.create_connection(
            self.base_url.replace("http", "ws", 1) + "/ws",
            timeout=60,
            header=[f"Cookie: {self.cookie}"],
            origin=self.base_url,
            # websocket-client checks UTF-8 in pure Python: costly with 200 clients on 2 cores.
            skip_utf8_validation=True,
        )
        hello = json.loads(self.ws.recv())
        if hello.get("type") != "hello":
            raise RuntimeError(f"the site did not say hello: {hello}")

    def press(self, experiment: str, params: dict, ref: str) -> float:
        """Send a ``run`` action; return the wall-clock time of the click."""
        clicked = time.time()
        self.ws.send(
            json.dumps({"action": "run", "experiment": experiment, "params": params, "ref": ref})
        )
        return clicked

    def receive(self, timeout: float) -> dict | None:
        """The next message, or None if nothing came within ``timeout`` seconds."""
        self.ws.settimeout(max(timeout, 0.001))
        try:
            return json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            return None

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close(timeout=1)
            self.ws.shutdown()


def plain_celery(redis_url: str) -> Celery:
    """Celery as a plain script would set it up: same Redis, queue and JSON, nothing of ours."""
    app = Celery("bench", broker=redis_url, backend=redis_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=config.QUEUE,
        broker_connection_retry_on_startup=True,
    )
    return app


class Observer:
    """A bare ``app.events.Receiver`` in a thread: every event, by task id, as it arrives."""

    def __init__(self, app: Celery):
        self.app = app
        self.events: dict[str, list[tuple[str, float]]] = {}
        self.waiters: dict[str, tuple[str, threading.Event]] = {}
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._receiver = None
        self._thread = threading.Thread(target=self._run, name="bench-observer", daemon=True)

    def start(self, timeout: float = 10) -> None:
        """Start receiving; return once an event sent now is seen (so none is missed)."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._ready.is_set():
            if time.monotonic() > deadline:
                raise RuntimeError("the event observer saw nothing; is Redis up?")
            with self.app.events.default_dispatcher() as dispatcher:
                dispatcher.send(PROBE)
            self._ready.wait(0.1)

    def _run(self) -> None:
        with self.app.connection_for_read() as connection:
            self._receiver = self.app.events.Receiver(connection, handlers={"*": self._on_event})
            self._receiver.capture(limit=None, timeout=None, wakeup=False)

    def _on_event(self, event: dict) -> None:
        if event.get("type") == PROBE:
            self._ready.set()
            return
        task_id = event.get("uuid")
        if not task_id:
            return
        with self._lock:
            self.events.setdefault(task_id, []).append((event["type"], time.time()))
            waiter = self.waiters.get(task_id)
        if waiter and waiter[0] == event["type"]:
            waiter[1].set()

    def expect(self, task_id: str, event_type: str) -> threading.Event:
        """An Event set when ``event_type`` arrives for ``task_id`` (register before sending)."""
        done = threading.Event()
        with self._lock:
            self.waiters[task_id] = (event_type, done)
        return done

    def of(self, task_id: str) -> list[tuple[str, float]]:
        with self._lock:
            return list(self.events.get(task_id, ()))

    def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.should_stop = True
        self._thread.join(timeout=5)
