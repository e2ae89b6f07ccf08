"""The result backend: Celery's Redis backend, without a subscription for every task sent.

Celery's Redis backend subscribes to a task's result channel the moment the task is sent
(``on_task_call``), in case someone calls ``.get()`` on it later. The site sends hundreds of
tasks a second whose results it never waits for: each subscription costs the sender a Redis
round trip under the producer's lock, and the process's one pub/sub connection collects a
result message for every one of them, unread. ``.get()`` needs none of it: it subscribes
when it starts waiting, then reads the stored result, so a result that landed before is not
missed.

It also stores a result in one round trip instead of two. Celery reads the stored result
first (``GET``, decoded in Python) so that a task that already succeeded is never overwritten
by a late duplicate, then writes and publishes it (a ``MULTI`` pipeline); every task stores
twice (``STARTED``, since the site tracks it, then its outcome), so that was four round trips
of the worker's ten or so per task. Here one Lua script does the same check, write and
publish at once, atomically. Results are JSON only (``result_accept_content``), which is what
lets the script read the stored status.

Celery builds a backend for each thread (``app.backend`` is thread-local), and each built its
own connection pool, so the first task each of the web's websocket threads sent paid for a new
Redis connection (redis-py also reads its own package metadata for each one, ~0.4 ms) on top
of the backend: ~1.5 ms of CPU more than the next press, all at once when a class presses
together. The web keeps one backend per thread, since it calls ``.get()`` from many threads and
a result consumer is not thread-safe, but here they share one pool (pools are thread-safe), and
the driver's name and version are worked out once. (The worker's pool shares one backend
outright: worker/pool.py.)

Chosen for the ``redis``, ``rediss`` and ``redis+socket`` URLs by the loader's
``override_backends`` (web/celery_ext.py); ``result_backend`` itself stays a plain URL.
"""

from __future__ import annotations

import threading

from celery import states
from celery.backends.redis import RedisBackend as CeleryRedisBackend
from celery.exceptions import BackendStoreError
from kombu.utils.encoding import bytes_to_str

# KEYS: the task's result key. ARGV: the encoded result, its expiry in seconds (0: none).
# Returns 0 when a stored SUCCESS was kept (Celery's rule), 1 when the result was written.
_STORE_UNLESS_SUCCEEDED = """
local current = redis.call('GET', KEYS[1])
if current then
  local ok, meta = pcall(cjson.decode, current)
  if ok and type(meta) == 'table' and meta['status'] == 'SUCCESS' then return 0 end
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SETEX', KEYS[1], ttl, ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('PUBLISH', KEYS[1], ARGV[1])
return 1
"""


# The driver identification Celery adds to the connection parameters (redis-py's DriverInfo).
_DRIVER_KEYS = ("driver_info", "lib_name", "lib_version")


class RedisBackend(CeleryRedisBackend):
    _driver_params: dict | None = None  # once per process, by the first backend built
    _pools_lock = threading.Lock()

    def on_task_call(self, producer, task_id):
        """Subscribe to nothing when a task is sent: ``.get()`` subscribes when it waits."""

    def _add_driver_info(self):
        cls = type(self)
        if cls._driver_params is None:
            super()._add_driver_info()
            cls._driver_params = {
                k: self.connparams[k] for k in _DRIVER_KEYS if k in self.connparams
            }
        else:
            self.connparams.update(cls._driver_params)

    def _get_pool(self, **params):
        """One pool per app and connection parameters, shared by every thread's backend."""
        key = repr(sorted(params.items(), key=lambda item: item[0]))
        with self._pools_lock:
            pools = self.app.__dict__.setdefault("_lab_result_pools", {})
            pool = pools.get(key)
            if pool is None:
                pool = pools[key] = super()._get_pool(**params)
            return pool

    def _store_result(self, task_id, result, state, traceback=None, request=None, **kwargs):
        """Celery's ``_store_result``, with its read-check-write done by one script in Redis."""
        meta = self._get_result_meta(
            result=result, state=state, traceback=traceback, request=request
        )
        meta["task_id"] = bytes_to_str(task_id)
        value = self.encode(meta)
        if isinstance(value, str) and len(value) > self._MAX_STR_VALUE_SIZE:
            raise BackendStoreError(
                "value too large for Redis backend", state=state, task_id=task_id
            )
        expires = self.failure_expires if state == states.FAILURE else self.expires
        key = self.get_key_for_task(task_id)
        self.ensure(self._store_unless_succeeded, (key, value, int(expires or 0)))
        return result

    def _store_unless_succeeded(self, key, value, expires: int) -> int:
        script = self.__dict__.get("_store_script")
        if script is None:
            # A Script runs by its SHA and loads itself again if Redis restarted without it.
            script = self._store_script = self.client.register_script(_STORE_UNLESS_SUCCEEDED)
        return script(keys=[key], args=[value, expires])


# URL schemes (before "://", or before "+" in redis+socket://) -> this class.
BACKENDS = {
    "redis": f"{__name__}:RedisBackend",
    "rediss": f"{__name__}:RedisBackend",
}
