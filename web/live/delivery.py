"""Who gets an event: the hub's routing decision, its owners, and the one lane for their work.

Pure where it can be (``Key``, ``routed_id``, ``decide``: no Redis, no sockets), so that the
routing is tested with synthetic Celery events (tests/unit/test_delivery.py, test_hub.py).

Every Celery event reaches a web process through its hub (web/live/hub.py), once. The hub hands
each event to its owners:

- the learners: ``decide`` says which learner's sockets get which message (a task or playground
  event whose route, written at send time, names the learner), and which admission slot it
  frees. The hub does this in its receiver thread: it is the site's fast path.
- anyone else who registered with ``hub.subscribe(Owner(...))``, e.g. a classroom
  (web/classroom/projector.py) or the playground's class counters (web/your_turn/runs.py). An
  owner's ``wants`` runs in the receiver thread and must be cheap (no I/O); what it wants is
  queued on the hub's one ``Lane`` and ``handle``-d there, in batches, so an owner's Redis
  round trips never slow the learners' own events.

Sockets are registered by what they are, a ``Key``: a learner's pages (``Key.learner(id)``)
or a class's projector screens (``Key.classroom(code)``).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from ..safety.admission import FINAL_STATES
from . import protocol

log = logging.getLogger(__name__)

LEARNER = "learner"
CLASSROOM = "class"

# Under load the lane takes what is waiting too: one call per owner per batch, not per event.
BATCH = 500

Item = tuple[dict, dict | None]  # (a Celery event, its route or None)


@dataclass(frozen=True)
class Key:
    """What an open socket belongs to: a learner (their pages) or a class (its projectors)."""

    kind: str
    id: str

    @classmethod
    def learner(cls, learner: str) -> Key:
        return cls(LEARNER, learner)

    @classmethod
    def classroom(cls, code: str) -> Key:
        return cls(CLASSROOM, code)


@dataclass(frozen=True)
class Decision:
    """What the hub does with one event for the learners: messages to send, a slot to free."""

    sends: list[tuple[Key, dict]] = field(default_factory=list)
    # (task id, learner, address): the admission slot a task's final event frees.
    release: tuple[str, str, str | None] | None = None


@dataclass(frozen=True)
class Owner:
    """One consumer of events besides the learners, registered with ``hub.subscribe``.

    ``wants(event, route)`` is asked in the receiver thread (cheap, no I/O); ``handle(items)``
    gets what it wanted, in arrival order, in the lane's thread.
    """

    name: str
    wants: Callable[[dict, dict | None], bool]
    handle: Callable[[list[Item]], None]


def routed_id(event: dict) -> str | None:
    """The task (or playground run) id whose route says who gets ``event``; None if none."""
    kind, uuid = event.get("type", ""), event.get("uuid")
    if not isinstance(uuid, str) or not uuid or not isinstance(kind, str):
        return None
    if protocol.is_run_event(kind) or protocol.state_for(kind):
        return uuid
    return None


def decide(event: dict, route: dict | None) -> Decision:
    """The learners' share of ``event``: only the learner its route names, never another."""
    if route is None or routed_id(event) is None:
        return Decision()
    to = Key.learner(route["learner"])
    if protocol.is_run_event(event["type"]):
        # A playground run's live message: routed like a task, by the run's id.
        return Decision([(to, protocol.run_message(event))])
    message = protocol.task_message(event, route)
    release = None
    if message["state"] in FINAL_STATES:
        release = (event["uuid"], route["learner"], route.get("address"))
    return Decision([(to, message)], release)


class Lane:
    """The hub's one queue and thread for its owners' work, started when first needed."""

    def __init__(self, name: str = "event-owners"):
        self.name = name
        self._queue: queue.SimpleQueue[tuple[Owner, dict, dict | None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def put(self, owner: Owner, event: dict, route: dict | None) -> None:
        self._queue.put((owner, event, route))
        if self._thread is None or not self._thread.is_alive():
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(None)  # wakes the thread now, not at its next look
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = [self._queue.get(timeout=1.0)]
            except queue.Empty:
                continue
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self.run_batch([item for item in batch if item is not None])

    @staticmethod
    def run_batch(batch: list[tuple[Owner, dict, dict | None]]) -> None:
        """Hand each owner its events of ``batch``, in arrival order, in one call."""
        grouped: dict[str, tuple[Owner, list[Item]]] = {}
        for owner, event, route in batch:
            grouped.setdefault(owner.name, (owner, []))[1].append((event, route))
        for owner, items in grouped.values():
            try:
                owner.handle(items)
            except Exception:
                # This thread serves every owner: one owner's failure must never end it.
                log.exception("event owner %s could not handle %d events", owner.name, len(items))
