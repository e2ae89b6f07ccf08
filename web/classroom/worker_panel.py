"""The projector's worker panel: queue depth and what the workers say, sampled for every screen.

Sampling, not event delivery: every half second one web process at a time (a SET NX on the
tick's key elects it) stores the queue's depth in a Redis list (the live chart), and every 2 s
what the workers say about themselves (``inspect``), kept as JSON. Every process pushes both
(and each open class's counters, when they changed) to its screens, so the chart is the same on
every projector and survives a restart of the site. The sampler thread runs while this process
has a projector open, and rests after ``IDLE_STOP`` seconds without one.

Asking the workers waits up to 0.8 s for their replies, longer than a tick: it runs beside the
sampler (one at a time) so that the chart keeps its pace.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable

from redis.exceptions import RedisError

from .. import keys
from ..live import protocol, workers
from . import task_tally

log = logging.getLogger(__name__)

TICK = 0.5
INSPECT_EVERY = 4  # ticks
DEPTH_SAMPLES = 240  # two minutes of half-second samples
IDLE_STOP = 30.0  # seconds without a screen before the sampler rests


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


def stored_panel(db) -> dict | None:
    panel = db.get(keys.workers_panel())
    return json.loads(panel) if panel else None


class WorkerPanel:
    """This process's sampler thread, pushing through ``send(code or None, message)``."""

    def __init__(
        self,
        db,
        celery,
        screens: Callable[[], list[str]],
        send: Callable[[str | None, dict], None],
    ):
        self.db = db
        self.celery = celery
        self._screens = screens  # the classes with a projector open here
        self._send = send
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._inspecting = threading.Event()
        self._stop = threading.Event()

    def ensure_running(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="worker-panel", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        idle_since = None
        last: dict[str, object] = {}
        while not self._stop.is_set():
            if not self._screens():
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > IDLE_STOP:
                    return
            else:
                idle_since = None
            try:
                self._tick(last)
            except (RedisError, OSError) as exc:
                self._send(None, protocol.workers_error(f"Redis did not answer: {exc}"))
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
                self.inspect_soon()
        latest = self.db.lindex(keys.workers_depth(), -1)
        panel = self.db.get(keys.workers_panel())
        depth = json.loads(latest) if latest else None
        if panel != last.get("panel"):
            last["panel"] = panel
            self._send(None, protocol.workers(depth, json.loads(panel) if panel else None))
        else:
            self._send(None, protocol.workers(depth))
        for code in self._screens():
            counters = task_tally.counters(self.db, code)
            if counters != last.get(code):
                last[code] = counters
                self._send(code, protocol.counters(counters))

    def inspect_soon(self) -> None:
        """Ask the workers now (a control was pressed), unless a question is already out."""
        if not self._inspecting.is_set():
            self._inspecting.set()
            threading.Thread(target=self._inspect, name="worker-panel-inspect", daemon=True).start()

    def _inspect(self) -> None:
        try:
            self.db.set(keys.workers_panel(), json.dumps(read_panel(self.celery)), ex=30)
        except (RedisError, OSError) as exc:
            log.warning("could not store the worker panel: %s", exc)
        finally:
            self._inspecting.clear()
