"""The result backend: Celery's Redis backend, without a subscription for every task sent.

Celery's Redis backend subscribes to a task's result channel the moment the task is sent
(``on_task_call``), in case someone calls ``.get()`` on it later. The site sends hundreds of
tasks a second whose results it never waits for: each subscription costs the sender a Redis
round trip under the producer's lock, and the process's one pub/sub connection collects a
result message for every one of them, unread. ``.get()`` needs none of it: it subscribes
when it starts waiting, then reads the stored result, so a result that landed before is not
missed. Chosen for the ``redis``, ``rediss`` and ``redis+socket`` URLs by the loader's
``override_backends`` (web/celery_ext.py); ``result_backend`` itself stays a plain URL.
"""

from __future__ import annotations

from celery.backends.redis import RedisBackend as CeleryRedisBackend


class RedisBackend(CeleryRedisBackend):
    def on_task_call(self, producer, task_id):
        """Subscribe to nothing when a task is sent: ``.get()`` subscribes when it waits."""


# URL schemes (before "://", or before "+" in redis+socket://) -> this class.
BACKENDS = {
    "redis": f"{__name__}:RedisBackend",
    "rediss": f"{__name__}:RedisBackend",
}
