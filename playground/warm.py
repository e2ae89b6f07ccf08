"""Warm sandboxes: each slot this process holds keeps one started sandbox waiting for a run.

A cold run spends most of its first second starting Python and importing Celery (the
collector, the worker and the view each do). A warm sandbox has done all that, with its
limits set and its Redis up, before any learner's code exists; pressing Run then only
writes the files and says "go". The sandbox is the same one a cold run gets: nothing in it
is shared with another run, and it is thrown away after one run.

One pool per playground worker process (held on its Celery app): it takes slots (uids) as
runs need them, up to the concurrency, and keeps them for the process's life.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from . import slots
from .runner import Sandbox
from .sandbox import SandboxUnavailable
from .settings import PlaygroundSettings

log = logging.getLogger(__name__)

MAX_IDLE_SECONDS = 300  # an idle sandbox's Redis spends CPU time too: renew it now and then


class SandboxPool:
    def __init__(self, settings: PlaygroundSettings, launcher, warm: bool = True):
        self.settings, self.launcher, self.warm = settings, launcher, warm
        self._idle: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._held = 0

    def lease(self, wait: float = 10.0) -> tuple[slots.Slot, Sandbox]:
        """A slot and a sandbox for one run: a warm one if waiting, else started now."""
        slot, sandbox = self._take(wait)
        fresh = sandbox is not None and sandbox.alive()
        if fresh and time.monotonic() - sandbox.started > MAX_IDLE_SECONDS:
            fresh = False
        if not fresh:
            if sandbox is not None:
                sandbox.close()
            try:
                sandbox = Sandbox(self.launcher, slot.uid)
            except (SandboxUnavailable, OSError):
                self._idle.put((slot, None))  # the slot stays this pool's, for the next run
                raise
        return slot, sandbox

    def _take(self, wait: float):
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._held < self.settings.concurrency:
                slot = slots.acquire(self.settings.concurrency, self.settings.uid_base, wait)
                self._held += 1
                return slot, None
        try:
            return self._idle.get(timeout=wait)
        except queue.Empty:
            raise slots.NoFreeSlot("every playground slot of this worker is busy") from None

    def give_back(self, slot: slots.Slot) -> None:
        """The run is over (its sandbox torn down): warm the slot's next sandbox, or free it."""
        if not self.warm:
            slot.release()
            with self._lock:
                self._held -= 1
            return
        try:
            sandbox = Sandbox(self.launcher, slot.uid)
        except (SandboxUnavailable, OSError) as exc:
            log.warning("cannot warm a sandbox for uid %d: %s", slot.uid, exc)
            sandbox = None  # the next run starts one itself (and says why if it cannot)
        self._idle.put((slot, sandbox))
