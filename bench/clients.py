"""The bench's clients: a learner (cookie + websocket), plain Celery, and a bare event observer."""

from __future__ import annotations

import base64
import http.cookiejar
import json
import threading
import time
import urllib.request

import redis
import websocket
from celery import Celery

import config
from web.live.event_stream import redis_topic

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


class EventTape:
    """Every event message on Redis, kept as raw bytes while a class runs; decoded afterwards.

    A classroom's expected events are what the worker and the web published, but a full
    Receiver decoding them live (``Observer``) took ~16 % of a core in the opening burst of a
    class of 300: the bench's own bookkeeping, competing with the site it measures on the same
    two cores. The tape subscribes to the very channel Celery's receivers read (the same
    pattern the site's hub uses, web/live/event_stream.py) and does nothing else until asked.
    ``of(task_id)`` answers like ``Observer.of``.
    """

    def __init__(self, app: Celery):
        with app.connection_for_read() as connection:
            self.topic = redis_topic(connection.default_channel, app.conf.event_exchange)
        if self.topic is None:
            raise RuntimeError("the bench's event tape reads Redis pub/sub only")
        self._client = redis.Redis.from_url(app.conf.broker_url)
        self._pubsub = self._client.pubsub()
        self._raw: list[tuple[bytes, float]] = []
        self._events: dict[str, list[tuple[str, float]]] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._record, name="bench-tape", daemon=True)

    def __enter__(self) -> EventTape:
        self._pubsub.psubscribe(self.topic)
        # The subscription is confirmed before any event the class makes can be published.
        confirmed = self._pubsub.get_message(timeout=10)
        if not confirmed or confirmed["type"] != "psubscribe":
            raise RuntimeError(f"the event tape could not subscribe: {confirmed}")
        self._thread.start()
        return self

    def _record(self) -> None:
        keep = self._raw.append
        while not self._stop.is_set():
            message = self._pubsub.get_message(timeout=0.5)
            if message is not None and message["type"] == "pmessage":
                keep((message["data"], time.time()))

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._pubsub.close()
        self._client.close()

    def of(self, task_id: str) -> list[tuple[str, float]]:
        if self._events is None:
            self._events = {}
            for raw, arrived in self._raw:
                for event in _events_in(raw):
                    if isinstance(event, dict) and isinstance(event.get("uuid"), str):
                        self._events.setdefault(event["uuid"], []).append(
                            (event.get("type"), arrived)
                        )
        return list(self._events.get(task_id, ()))


def _events_in(raw: bytes) -> list:
    """The events in one message kombu published: a JSON envelope, its body base64 JSON."""
    envelope = json.loads(raw)
    body = envelope["body"]
    if (envelope.get("properties") or {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    events = json.loads(body)
    return events if isinstance(events, list) else [events]
