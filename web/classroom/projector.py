"""Live classroom screens: a class's task events and changes, pushed to its projectors live.

One path for events, as for learners: the projector is one of the hub's owners
(web/live/delivery.py). The hub hands it every task event whose route names a class, and every
``celerylab-class`` event, in the hub's lane thread, so a classroom never slows the learners'
own events. A task event is counted in Redis (exactly once across processes,
web/classroom/task_tally.py) and pushed to that class's projector sockets open in this process.
Class changes (an answer, a reveal, the lesson, a join) travel the same way: the process that
made the change sends a custom Celery event, ``celerylab-class``, that every process's hub
receives, and each reads the new state from Redis (web/classroom/screens.py) and pushes it to
its screens, and to the class's learners. No second bus, and a projector may be served by any
web process. The worker panel is sampled beside it (web/classroom/worker_panel.py).

Projector sockets are the hub's connections under ``Key.classroom(code)``; the messages are
built in web/live/protocol.py.
"""

from __future__ import annotations

import json
import logging

from flask import Flask, current_app
from kombu.exceptions import OperationalError

from .. import keys
from ..live import protocol
from ..live.delivery import CLASSROOM, Item, Key, Owner
from ..live.hub import EventHub
from ..live.outbox import Connection
from . import screens, task_tally
from .worker_panel import WorkerPanel

log = logging.getLogger(__name__)

CLASS_EVENT = "celerylab-class"


def wants(event: dict, route: dict | None) -> bool:
    """The projector's share of the stream: its classes' task events, and class changes."""
    if route is not None:
        return bool(route.get("classroom"))
    return event.get("type") == CLASS_EVENT


class Projector:
    """The hub's classroom owner in this process, and the sender of class changes."""

    def __init__(self, app: Flask, hub: EventHub):
        self.app = app
        self.hub = hub
        self.db = app.extensions["redis"]
        self.celery = app.extensions["celery"]
        self.recorder = task_tally.Recorder(self.db)
        self._nicknames: dict[str, dict[str, str]] = {}
        self.panel = WorkerPanel(self.db, self.celery, self._open_classes, self.send)
        hub.subscribe(Owner("classroom", wants, self.handle))

    # -- screens -----------------------------------------------------------------------------
    def attach(self, conn: Connection) -> None:
        self.hub.connect(conn)
        self.panel.ensure_running()

    def detach(self, conn: Connection) -> None:
        self.hub.disconnect(conn)

    def _open_classes(self) -> list[str]:
        return self.hub.open_ids(CLASSROOM)

    def send(self, code: str | None, message: dict) -> None:
        """Send to the screens of class ``code`` here (every class's screens if None)."""
        for each in self._open_classes() if code is None else [code]:
            self.hub.send(Key.classroom(each), message)

    # -- events in (the hub's lane thread) ---------------------------------------------------
    def notify(self, code: str, what: str, **fields) -> None:
        """Tell every web process (this one too) that class ``code`` changed."""
        try:
            with self.celery.events.default_dispatcher() as dispatcher:
                dispatcher.send(CLASS_EVENT, code=code, what=what, **fields)
        except (OperationalError, OSError) as exc:
            log.warning("could not announce %s for class %s: %s", what, code, exc)

    def handle(self, batch: list[Item]) -> None:
        entries: dict[str, list[dict]] = {}
        for event, route in batch:
            # One item at a time: a notice for a class that is gone (ClassroomError), or a
            # Redis error on one task, must not drop the other classes' changes in the batch.
            try:
                self._one(event, route, entries)
            except Exception:
                log.exception("the classroom could not handle a %r event", event.get("type"))
        for code, items in entries.items():
            try:
                if self.hub.has(Key.classroom(code)):
                    counters = task_tally.counters(self.db, code)
                    self.send(code, protocol.class_tasks(items, counters))
            except Exception:
                log.exception("could not show class %s its tasks", code)

    def _one(self, event: dict, route: dict | None, entries: dict[str, list[dict]]) -> None:
        if route is None:
            self._notice(event)
            return
        code, learner = route["classroom"], route["learner"]
        message = protocol.task_message(event, route)
        if message["state"] not in protocol.STATES:
            return  # a line the task logged (chapter 9): not a step the class counts
        nickname = self._nickname(code, learner)
        self.recorder.record(code, message, learner, nickname)
        entries.setdefault(code, []).append(task_tally.log_entry(message, nickname))

    def _notice(self, event: dict) -> None:
        code, what = event.get("code"), event.get("what")
        if not isinstance(code, str) or not isinstance(what, str):
            return
        if what == "members":
            self._nicknames.pop(code, None)
        if what == "control" and self._open_classes():
            self.panel.inspect_soon()  # show the worker's new state now, not at the next tick
        with self.app.app_context():
            for key, message in screens.on_notice(code, what, event):
                # Built only for screens or learners with a socket here: skip the rest.
                if key.kind == CLASSROOM and not self.hub.has(key):
                    continue
                self.hub.send(key, message)

    def _nickname(self, code: str, learner: str) -> str:
        names = self._nicknames.setdefault(code, {})
        if learner not in names:
            raw = self.db.hget(keys.classroom(code, "members"), learner)
            # The instructor's own bursts come from a learner id that never joined.
            names[learner] = json.loads(raw)["nickname"] if raw else "instructor"
        return names[learner]

    def stop(self) -> None:
        self.panel.stop()


def init_app(app: Flask) -> Projector:
    projector = Projector(app, app.extensions["hub"])
    app.extensions["projector"] = projector
    return projector


def get_projector() -> Projector:
    return current_app.extensions["projector"]
