"""Live classroom screens: class task events, tallies and the worker panel, pushed as they happen.

One path for events, as for learners: every web process's event hub hands each event to
``Projector.on_event``. A task event whose route names a class is counted in Redis (exactly
once across processes, web/classroom/task_tally.py) and pushed to that class's projector
sockets open in this process. Class changes (an answer, a reveal, the lesson, a join) travel the
same way: the process that made the change sends a custom Celery event, ``celerylab-class``,
that every process's hub receives, and each reads the new state from Redis and pushes it to
its screens.
No second bus, and a projector may be served by any web process.

The hub's receiver thread only drops items in an inbox: counting and pushing happen in this
module's feed thread, so a classroom never slows the learners' own events.

The worker panel is sampled every half second by one web process at a time (a SET NX on the
tick's key elects it): queue depth into a Redis list (the live chart), and every 2 s what the
workers say about themselves (``inspect``), kept as JSON. Every process pushes both to its
screens, so the chart is the same on every projector, and survives a restart of the site.

Messages on the projector socket (``/classroom/<code>/ws``, instructor only), one JSON object
per frame, always with ``type``:

- ``hello``: the whole picture on connect (web/classroom/screens.py ``snapshot``): ``class``,
  ``members`` (nicknames), ``counters``, ``events`` (recent), ``questions`` (with tallies; the
  ``answer`` only once revealed), ``lessons``, ``workers`` (``panel`` and ``depth`` history).
- ``class-tasks``: ``{"events": [{task_id, who, experiment, task, state, at, progress?,
  eta?, error?}], "counters": {...}}`` as the class's task events arrive.
- ``counters``: ``{"counters": {sent, waiting, reserved, running, retrying, succeeded, failed,
  retried, purged}}`` when they changed (checked every half second).
- ``workers``: ``{"depth": [time, n], "panel"?: {at, workers: [{worker, pool, concurrency,
  active, reserved, scheduled, consuming, ...}], error?}}`` every half second.
- ``tally``: ``{"question": {...}}``; ``members``: ``{"members": [nicknames]}``; ``class``:
  ``{"class": {...}}`` (lesson or status changed); ``control``: ``{"message": "..."}``.
- ``pong`` and ``error``, as on the learners' socket. The socket takes ``{"action": "ping"}``
  and ``{"action": "snapshot"}``; controls are HTTP POSTs (web/classroom/api.py).

A learner in a class gets ``{"type": "classroom", "what": "lesson"|"closed", "code", "lesson",
"title", "url"}`` on their own socket when the instructor moves or closes the class.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time

from flask import Flask, current_app
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from .. import keys
from ..live import protocol, workers
from ..live.hub import EventHub
from ..live.outbox import Connection
from . import task_tally

log = logging.getLogger(__name__)

CLASS_EVENT = "celerylab-class"
TICK = 0.5
INSPECT_EVERY = 4  # ticks
DEPTH_SAMPLES = 240  # two minutes of half-second samples
IDLE_STOP = 30.0  # seconds without a screen before the sampler rests


class Projector:
    """Owns this process's projector sockets, the feed thread and the worker sampler."""

    def __init__(self, app: Flask, hub: EventHub):
        self.app = app
        self.hub = hub
        self.db = app.extensions["redis"]
        self.celery = app.extensions["celery"]
        self.recorder = task_tally.Recorder(self.db)
        self._screens: dict[str, set[Connection]] = {}
        self._lock = threading.Lock()
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: dict[str, threading.Thread] = {}
        self._nicknames: dict[str, dict[str, str]] = {}
        self._inspecting = threading.Event()
        self._stop = threading.Event()
        self.on_notice = None  # set by the views: (code, what, event) -> list of messages
        hub.add_listener(self.on_event)

    # -- threads -----------------------------------------------------------------------------
    def _ensure(self, name: str, target) -> None:
        with self._lock:
            thread = self._threads.get(name)
            if thread is None or not thread.is_alive():
                thread = threading.Thread(target=target, name=f"classroom-{name}", daemon=True)
                self._threads[name] = thread
                thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in list(self._threads.values()):
            thread.join(timeout=5)

    # -- screens -----------------------------------------------------------------------------
    def attach(self, code: str, conn: Connection) -> None:
        with self._lock:
            self._screens.setdefault(code, set()).add(conn)
        self._ensure("feed", self._feed)
        self._ensure("sampler", self._sample)

    def detach(self, code: str, conn: Connection) -> None:
        with self._lock:
            screens = self._screens.get(code)
            if screens is not None:
                screens.discard(conn)
                if not screens:
                    del self._screens[code]

    def screen_count(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._screens.values())

    def send(self, code: str | None, message: dict) -> None:
        """Send to the screens of class ``code`` here (every class's screens if None)."""
        with self._lock:
            conns = [c for k, s in self._screens.items() if code in (None, k) for c in s]
        for conn in conns:
            if not conn.send(message):
                self.detach(conn.learner, conn)

    # -- events in ---------------------------------------------------------------------------
    def on_event(self, event: dict, route: dict | None) -> None:
        """Called by the hub's receiver thread for every event: take ours, return at once."""
        if route is not None and route.get("classroom"):
            self._inbox.put((event, route))
        elif event.get("type") == CLASS_EVENT:
            self._inbox.put((event, None))
        else:
            return
        if "feed" not in self._threads or not self._threads["feed"].is_alive():
            self._ensure("feed", self._feed)

    def notify(self, code: str, what: str, **fields) -> None:
        """Tell every web process (this one too) that class ``code`` changed."""
        try:
            with self.celery.events.default_dispatcher() as dispatcher:
                dispatcher.send(CLASS_EVENT, code=code, what=what, **fields)
        except (OperationalError, OSError) as exc:
            log.warning("could not announce %s for class %s: %s", what, code, exc)

    def _feed(self) -> None:
        while not self._stop.is_set():
            try:
                batch = [self._inbox.get(timeout=1.0)]
            except queue.Empty:
                continue
            # Under load, take what is waiting too: one push per class per batch, not per event.
            while len(batch) < 500:
                try:
                    batch.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            try:
                self._handle(batch)
            except (RedisError, OSError, KeyError, ValueError, TypeError):
                log.exception("classroom feed could not handle %d events", len(batch))

    def _handle(self, batch: list) -> None:
        entries: dict[str, list[dict]] = {}
        for event, route in batch:
            if route is None:
                self._notice(event)
                continue
            code, learner = route["classroom"], route["learner"]
            message = protocol.task_message(event, route)
            if message["state"] not in protocol.STATES:
                continue  # a line the task logged (chapter 9): not a step the class counts
            nickname = self._nickname(code, learner)
            self.recorder.record(code, message, learner, nickname)
            entries.setdefault(code, []).append(task_tally.log_entry(message, nickname))
        for code, items in entries.items():
            if self._has_screens(code):
                self.send(
                    code,
                    {
                        "type": "class-tasks",
                        "events": items,
                        "counters": task_tally.counters(self.db, code),
                    },
                )

    def _notice(self, event: dict) -> None:
        code, what = event.get("code"), event.get("what")
        if not isinstance(code, str) or not isinstance(what, str):
            return
        if what == "members":
            self._nicknames.pop(code, None)
        if what == "control" and self.screen_count():
            self._inspect_soon()  # show the worker's new state now, not at the next 2 s tick
        if self.on_notice is None:
            return
        with self.app.app_context():
            for target, message in self.on_notice(code, what, event):
                if target == "screens":
                    if self._has_screens(code):
                        self.send(code, message)
                else:  # a learner id: their own sockets, in this process
                    self.hub.deliver(target, message)

    def _has_screens(self, code: str) -> bool:
        with self._lock:
            return bool(self._screens.get(code))

    def _nickname(self, code: str, learner: str) -> str:
        names = self._nicknames.setdefault(code, {})
        if learner not in names:
            raw = self.db.hget(keys.classroom(code, "members"), learner)
            # The instructor's own bursts come from a learner id that never joined.
            names[learner] = json.loads(raw)["nickname"] if raw else "instructor"
        return names[learner]

    # -- the worker panel --------------------------------------------------------------------
    def _sample(self) -> None:
        idle_since = None
        last: dict[str, object] = {}
        while not self._stop.is_set():
            if self.screen_count() == 0:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > IDLE_STOP:
                    return
            else:
                idle_since = None
            try:
                self._tick(last)
            except (RedisError, OSError) as exc:
                self.send(None, {"type": "workers", "error": f"Redis did not answer: {exc}"})
            self._stop.wait(TICK - time.time() % TICK)

    def _tick(self, last: dict) -> None:
        tick = int(time.time() / TICK)
        if self.db.set(keys.workers_tick(tick), os.getpid(), nx=True, ex=5):
            depth = workers.queue_depth(self.db)
            pipe = self.db.pipeline()
            pipe.rpush(keys.workers_depth(), json.dumps([round(time.time(), 2), depth]))
            pipe.ltrim(keys.workers_depth(), -DEPTH_SAMPLES, -1)
            pipe.expire(keys.workers_depth(), 3600)
            pipe.execute()
            if tick % INSPECT_EVERY == 0:
                self._inspect_soon()
        latest = self.db.lindex(keys.workers_depth(), -1)
        panel = self.db.get(keys.workers_panel())
        message = {"type": "workers", "depth": json.loads(latest) if latest else None}
        if panel != last.get("panel"):
            message["panel"] = json.loads(panel) if panel else None
            last["panel"] = panel
        self.send(None, message)
        with self._lock:
            codes = list(self._screens)
        for code in codes:
            counters = task_tally.counters(self.db, code)
            if counters != last.get(code):
                last[code] = counters
                self.send(code, {"type": "counters", "counters": counters})

    def _inspect_soon(self) -> None:
        if not self._inspecting.is_set():
            self._inspecting.set()
            threading.Thread(target=self._inspect, name="classroom-inspect", daemon=True).start()

    def _inspect(self) -> None:
        try:
            self.db.set(keys.workers_panel(), json.dumps(read_panel(self.celery)), ex=30)
        except (RedisError, OSError) as exc:
            log.warning("could not store the worker panel: %s", exc)
        finally:
            self._inspecting.clear()


def read_panel(celery) -> dict:
    """Ask the real workers how they are: pool, concurrency, active, reserved, consuming."""
    try:
        described = workers.describe(celery, timeout=0.8)
        queues = workers.consuming(celery, timeout=0.8)
    except workers.WorkersUnavailable as exc:
        return {"at": time.time(), "workers": [], "error": str(exc)}
    for worker in described:
        worker["consuming"] = queues.get(worker["worker"])
        if worker.get("implementation", "").endswith(":ResizableThreadPool"):
            worker["pool"] = "threads"  # worker/pool.py: Celery's threads, made resizable
    return {"at": time.time(), "workers": described}


def depth_history(db) -> list:
    return [json.loads(x) for x in db.lrange(keys.workers_depth(), 0, -1)]


def init_app(app: Flask) -> Projector:
    projector = Projector(app, app.extensions["hub"])
    app.extensions["projector"] = projector
    return projector


def get_projector() -> Projector:
    return current_app.extensions["projector"]
