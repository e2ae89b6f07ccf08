"""The worker's pool: threads, like Celery's ``threads`` pool, but it can grow and shrink.

Celery's own threads pool (``celery.concurrency.thread``) sizes one ThreadPoolExecutor at start
and has no ``grow``/``shrink``, so ``control.pool_grow`` fails inside the worker. The instructor's
"grow/shrink the pool" control needs both, and needs them to be *real*:

- ``pool_grow(n)``/``pool_shrink(n)`` (Celery's remote-control commands) call ``grow``/``shrink``
  here, then ``consumer._update_prefetch_count(±n)``. With ``worker_prefetch_multiplier = 1`` and
  ``task_acks_late`` the prefetch count is exactly how many messages the worker holds at once
  (running or about to run), so after a resize the worker takes ``limit`` messages and the rest
  wait in the Redis list, where the queue depth shows them.
- Shrinking cannot stop a running task (a thread cannot be killed), so it queues one "exit"
  marker per thread to remove: a thread that picks one up ends, once its current task is done.

Celery picks this class through the ``worker_pool`` setting (config.py); ``-P`` on the command
line only accepts Celery's own pool names.
"""

from __future__ import annotations

import gc
import queue
import threading
from concurrent.futures import Future

from celery.concurrency.base import BasePool, apply_target
from celery.concurrency.thread import ApplyResult

from . import tracebacks

# Far more threads than this only adds memory: the sandbox tasks mostly sleep, and 2 cores.
MAX_THREADS = 256

_EXIT = object()


class ResizableThreadPool(BasePool):
    """Run tasks in ``limit`` threads; ``grow``/``shrink`` change ``limit`` while running."""

    body_can_be_buffer = True
    signal_safe = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._spawned = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def on_start(self) -> None:
        # Retries and failures build billiard tracebacks in these threads: copy each code
        # object once, not once per traceback (worker/tracebacks.py).
        tracebacks.install()
        # One result backend for every thread, not one each (Celery's default): each would
        # open its own Redis pool and look up backends in the installed packages' metadata,
        # a few ms of CPU per thread, all spent in the first burst of tasks. Redis's client
        # is thread-safe, and tasks in this worker never wait on a result.
        self.app.conf.result_backend_thread_safe = True
        # Made now, in a thread of its own (one with no backend yet, unlike this one may be),
        # so that the pool's threads starting at once do not each make one before it is kept.
        warm = threading.Thread(target=lambda: self.app.backend, name="pool-backend")
        warm.start()
        warm.join()
        with self._lock:
            self._spawn(self.limit)
        # Everything made so far (Celery, kombu, the Flask app, the tasks' modules) lives as
        # long as the worker: out of the garbage collector's sight, a full collection no longer
        # goes through it (~17 ms each time, every thread waiting), web/warmup.py likewise.
        gc.collect()
        gc.freeze()

    def on_stop(self) -> None:
        # Like Celery's threads pool: drop what has not started, let running tasks finish.
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not _EXIT:
                job[0].cancel()
        with self._lock:
            threads = list(self._threads)
        for _ in threads:
            self._jobs.put(_EXIT)
        for thread in threads:
            thread.join()
        super().on_stop()

    # -- resizing ----------------------------------------------------------------------------
    def grow(self, n: int = 1) -> None:
        if n < 1 or self.limit + n > MAX_THREADS:
            raise ValueError(f"the pool can grow to at most {MAX_THREADS} threads")
        with self._lock:
            self.limit += n
            self._spawn(n)

    def shrink(self, n: int = 1) -> None:
        if n < 1 or self.limit - n < 1:
            raise ValueError("the pool cannot shrink below one thread")
        with self._lock:
            self.limit -= n
        for _ in range(n):
            self._jobs.put(_EXIT)

    def _spawn(self, n: int) -> None:
        for _ in range(n):
            self._spawned += 1
            thread = threading.Thread(target=self._work, name=f"pool-{self._spawned}", daemon=True)
            self._threads.add(thread)
            thread.start()

    # -- running tasks -----------------------------------------------------------------------
    def on_apply(
        self, target, args=None, kwargs=None, callback=None, accept_callback=None, **_
    ) -> ApplyResult:
        future: Future = Future()
        self._jobs.put((future, target, args, kwargs, callback, accept_callback))
        return ApplyResult(future)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _EXIT:
                break
            future, target, args, kwargs, callback, accept_callback = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(apply_target(target, args, kwargs, callback, accept_callback))
            except BaseException as exc:  # the future carries it, as concurrent.futures does
                future.set_exception(exc)
        with self._lock:
            self._threads.discard(threading.current_thread())

    def _get_info(self) -> dict:
        info = super()._get_info()
        with self._lock:
            threads = len(self._threads)
        info.update({"max-concurrency": self.limit, "threads": threads})
        return info
