"""The one path for events: Celery's event stream -> this process -> the right websockets.

Each web process runs one receiver thread (``EventHub``). It is the single owner of routing:
it reads every Celery event, finds which learner sent the task (a route written to Redis at
send time, so any web process can route a task that another process sent), and writes the
message to that learner's open sockets. Websocket handler threads only register and
unregister their connection, by its ``Key`` (a learner's pages, a class's projectors).

On Redis the thread reads the event channel itself (web/live/event_stream.py) and hands each
event to the Celery receiver's own processing; on any other broker, ``Receiver.capture``.

Everything else that consumes events registers as an owner (``subscribe``) and gets its events
in the hub's one lane thread (web/live/delivery.py), so it never slows the learners' events.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from celery import Celery
from celery.events.receiver import EventReceiver
from flask import Flask, current_app
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from .. import keys
from ..safety import admission
from . import delivery, event_stream
from .delivery import Key, Owner
from .outbox import Connection

log = logging.getLogger(__name__)

PROBE_EVENT = "celerylab-probe"


class _Receiver(EventReceiver):
    """Celery's receiver, telling the hub once it consumes (so no early event is lost)."""

    def __init__(self, *args, on_ready: Callable[[], None], **kwargs):
        super().__init__(*args, **kwargs)
        self._on_ready = on_ready

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        super().on_consume_ready(connection, channel, consumers, **kwargs)
        self._on_ready()


class _LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def put(self, key, value):
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


class EventHub:
    """Receives Celery events in one thread and delivers them to subscribed connections."""

    def __init__(self, celery: Celery, redis_client, route_ttl: int):
        self.celery = celery
        self.redis = redis_client
        self.route_ttl = route_ttl
        self._connections: dict[Key, set[Connection]] = {}
        self._conn_lock = threading.Lock()
        # task id -> route (or None: not ours). The sender fills it too, so the first event of
        # a task sent through this process needs no Redis round trip in the receiver thread.
        self._routes = _LRU(20_000)
        # Tasks sent through this process: only their sender releases their admission (every
        # process sees every final event, and one release is enough; a sender that is gone
        # leaves it to the admission deadline, web/safety/admission.py).
        self._sent_here = _LRU(20_000)
        self._routes_lock = threading.Lock()
        # Admission slots freed by final events, released together once the reader's batch is
        # done (one round trip per batch instead of one per task, in the stream's only thread).
        # Without batches (any broker but Redis, or a test calling dispatch) each goes at once.
        self._releases: list[tuple[str, str, str | None]] = []
        self._batches = False
        self._owners: list[Owner] = []
        self._lane = delivery.Lane()
        self._consuming = threading.Event()
        self.ready = threading.Event()  # set once an event has made the round trip
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._receiver: _Receiver | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, wait: float = 5.0) -> bool:
        """Start the receiver thread once, and wait until it is seeing events."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="celery-events", daemon=True)
                self._thread.start()
        return self.wait_ready(wait)

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.ready.is_set() and time.monotonic() < deadline:
            if self._consuming.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
                self._send_probe()
                self.ready.wait(0.05)
        return self.ready.is_set()

    def stop(self) -> None:
        self._stop.set()
        if self._receiver is not None:
            self._receiver.should_stop = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._lane.stop()

    def _send_probe(self) -> None:
        try:
            with self.celery.events.default_dispatcher() as dispatcher:
                dispatcher.send(PROBE_EVENT)
        except OSError as exc:
            log.warning("cannot send probe event: %s", exc)

    def _run(self) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            try:
                with self.celery.connection_for_read() as conn:
                    self._receiver = _Receiver(
                        conn,
                        handlers={"*": self._on_event},
                        app=self.celery,
                        on_ready=self._consuming.set,
                    )
                    backoff = 0.2
                    receiver = self._receiver
                    reader = event_stream.direct_reader(
                        receiver,
                        conn,
                        self._consuming.set,
                        self._prefetch_routes,
                        self._release_batch,
                    )
                    if reader is not None:  # Redis: the same stream, without kombu's consumer
                        self._batches = True
                        reader.run(self._stop.is_set)
                    else:
                        receiver.capture(limit=None, timeout=None, wakeup=False)
            except (OSError, OperationalError, RedisError) as exc:
                # The broker went away: say so, back off, and reconnect.
                self._consuming.clear()
                self.ready.clear()
                if self._stop.is_set():
                    break
                log.warning("event stream lost (%s); reconnecting in %.1fs", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    # -- sockets and owners ----------------------------------------------------------------
    def connect(self, conn: Connection) -> None:
        with self._conn_lock:
            self._connections.setdefault(conn.key, set()).add(conn)

    def disconnect(self, conn: Connection) -> None:
        with self._conn_lock:
            conns = self._connections.get(conn.key)
            if conns is not None:
                conns.discard(conn)
                if not conns:
                    del self._connections[conn.key]

    def subscribe(self, owner: Owner) -> None:
        """Also hand ``owner`` each event it ``wants``, in the lane's thread (a classroom)."""
        self._owners.append(owner)

    def send(self, key: Key, message: dict) -> None:
        """Send ``message`` to the sockets of ``key`` open in this process."""
        with self._conn_lock:
            conns = list(self._connections.get(key, ()))
        for conn in conns:
            if not conn.send(message):
                self.disconnect(conn)

    def has(self, key: Key) -> bool:
        with self._conn_lock:
            return bool(self._connections.get(key))

    def open_ids(self, kind: str) -> list[str]:
        """The learners (or classes) of ``kind`` with a socket open in this process."""
        with self._conn_lock:
            return [key.id for key in self._connections if key.kind == kind]

    def connection_count(self, kind: str = delivery.LEARNER) -> int:
        with self._conn_lock:
            return sum(len(c) for k, c in self._connections.items() if k.kind == kind)

    # -- routing ---------------------------------------------------------------------------
    def remember_route(self, task_id: str, route: dict) -> None:
        """Record who sent ``task_id`` before it is sent; any web process can then route it."""
        pipe = self.redis.pipeline()
        for command in self.route_writes(task_id, route):
            pipe.execute_command(*command)
        pipe.execute()
        self.cache_route(task_id, route)

    def route_writes(self, task_id: str, route: dict) -> list[tuple]:
        """The Redis commands that record ``route`` (admission runs them with its check)."""
        ttl = self.route_ttl
        tasks = keys.learner_tasks(route["learner"])
        return [
            ("SET", keys.route(task_id), json.dumps(route), "EX", ttl),
            ("LPUSH", tasks, task_id),
            ("LTRIM", tasks, 0, 199),
            ("EXPIRE", tasks, ttl),
        ]

    def cache_route(self, task_id: str, route: dict) -> None:
        """Know ``route`` here at once (its writes are done), as the sender of ``task_id``."""
        with self._routes_lock:
            self._routes.put(task_id, route)
            self._sent_here.put(task_id, True)

    def forget_route(self, task_id: str, learner: str) -> None:
        """Undo ``remember_route`` for a task that was never sent (its send raised)."""
        pipe = self.redis.pipeline()
        pipe.delete(keys.route(task_id))
        pipe.lrem(keys.learner_tasks(learner), 1, task_id)
        pipe.execute()
        with self._routes_lock:
            self._routes.pop(task_id, None)
            self._sent_here.pop(task_id, None)

    def _prefetch_routes(self, events: list[dict]) -> None:
        """Look up, in one round trip, the routes of every task in ``events`` not known yet."""
        with self._routes_lock:
            wanted = {
                task_id
                for task_id in map(delivery.routed_id, events)
                if task_id is not None and task_id not in self._routes
            }
        if not wanted:
            return
        ids = list(wanted)
        try:
            raws = self.redis.mget([keys.route(task_id) for task_id in ids])
            found = [
                (task_id, json.loads(raw) if raw else None)
                for task_id, raw in zip(ids, raws, strict=True)
            ]
        except (RedisError, ValueError) as exc:
            # Each event then asks for its own route, inside _on_event's guard: a bad batch
            # must never end the stream's only thread.
            log.warning("could not look up routes: %s", exc)
            return
        with self._routes_lock:
            for task_id, route in found:
                self._routes.put(task_id, route)

    def _release_batch(self) -> None:
        """Free the admission slots of the tasks whose final events were just handled."""
        if not self._releases:
            return
        releases, self._releases = self._releases, []
        try:
            admission.release_many(releases, self.redis)
        except RedisError as exc:
            # Their deadlines free them anyway (web/safety/admission.py); the stream goes on.
            log.warning("could not free %d admission slots: %s", len(releases), exc)
        except Exception:
            # Called after every batch, outside _on_event's guard: never end the stream's thread.
            log.exception("could not free %d admission slots", len(releases))

    def _route_for(self, task_id: str) -> dict | None:
        with self._routes_lock:
            if task_id in self._routes:
                return self._routes[task_id]
        raw = self.redis.get(keys.route(task_id))
        route = json.loads(raw) if raw else None
        with self._routes_lock:
            self._routes.put(task_id, route)
        return route

    def _on_event(self, event: dict) -> None:
        self.ready.set()
        if event.get("type") == PROBE_EVENT:
            return
        try:
            task_id = delivery.routed_id(event)
            self.dispatch(event, self._route_for(task_id) if task_id else None)
        except Exception:
            # This thread is the stream's only owner: one bad event must never end it.
            log.exception("could not route event %r", event.get("type"))

    def dispatch(self, event: dict, route: dict | None) -> None:
        """Hand one event (with its route, or None) to its learner, then to its owners."""
        decision = delivery.decide(event, route)
        for key, message in decision.sends:
            self.send(key, message)
        if decision.release is not None:
            with self._routes_lock:
                mine = decision.release[0] in self._sent_here
            if mine:
                self._releases.append(decision.release)
                if not self._batches:
                    self._release_batch()
        for owner in self._owners:
            if owner.wants(event, route):
                self._lane.put(owner, event, route)


def init_app(app: Flask, celery: Celery) -> EventHub:
    hub = EventHub(celery, app.extensions["redis"], app.config["ROUTE_TTL_SECONDS"])
    app.extensions["hub"] = hub
    return hub


def get_hub() -> EventHub:
    return current_app.extensions["hub"]
