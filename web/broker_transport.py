"""kombu's Redis transport, keeping one Redis client per channel instead of one per command.

kombu's Redis channel builds a new ``redis.Redis`` object for every command it sends outside
its consuming loop (``conn_or_acquire``): each task message, each event, each acknowledgement.
With redis-py 8 that object costs about 90 µs of CPU to build (it copies its table of response
callbacks), more than the Redis command itself, and a Celery event published through kombu
costs about 260 µs in all (measured here, bench/README.md "Where the time goes"). Every task
the site runs publishes several: in the web process (the message and ``task-sent``) and in the
worker (``task-received``, ``task-started``, ``task-succeeded``, progress, the acks).

A ``redis.Redis`` object holds no connection of its own: it takes one from the channel's pool
for each command and gives it back, so one per channel is as safe across threads as one per
command. It is dropped with the channel's pools (a reconnect makes new ones).

It is installed as kombu's ``redis`` transport (the name ``redis://`` and ``redis+socket://``
URLs resolve to) in the site's own processes, rather than through Celery's
``broker_transport`` setting, because that setting would also rename the transport
everywhere it is shown: the worker's banner and ``inspect().stats()`` would say
``web.broker_transport:Transport://`` where lessons 10 and 11 teach learners to read
``redis://``. ``rediss://`` and every other scheme keep kombu's own transport.
"""

from __future__ import annotations

from contextlib import contextmanager

import kombu.transport
from kombu.transport import redis as kombu_redis


class QoS(kombu_redis.QoS):
    """kombu's acknowledgement emulation, its two bookkeeping writes sent as one plain pipeline.

    For each message the worker takes, kombu records it as unacknowledged (``ZADD`` to an index,
    ``HSET`` of the message) and, once acknowledged, forgets it (``ZREM``, ``HDEL``), each pair
    in a ``MULTI``/``EXEC`` transaction: eight commands a task, packed and parsed in the
    worker's one consumer thread. Neither pair needs to be atomic. The only reader is the
    restore of messages older than the visibility timeout (``restore_visible``): an entry
    written a moment ago is not old, and restoring one that is being acknowledged checks the
    hash under ``WATCH`` and finds nothing to restore. So each pair goes as a pipeline without
    a transaction, in the same one round trip: four commands fewer a task. The restore itself
    keeps kombu's transaction (it passes its own pipeline in).
    """

    @contextmanager
    def pipe_or_acquire(self, pipe=None, client=None):
        if pipe is not None:
            yield pipe
            return
        with self.channel.conn_or_acquire(client) as client:
            yield client.pipeline(transaction=False)


class PublishBatch(kombu_redis.PublishBatch):
    """kombu's batch of publishes (``Producer.batch``), sent as one ``MULTI``/``EXEC``.

    kombu sends a batch as a plain pipeline, so a connection that breaks part way may leave
    Redis having run only its first commands. In a transaction Redis runs all of them or none,
    one after the other with nothing in between. The site batches what a canvas sends, each
    message with its ``task-sent`` (web/lessons/experiments/canvas.py): no part of a canvas is
    sent without the rest, and the worker cannot report one of its tasks before that task's
    ``task-sent`` is out. Two commands more (``MULTI``, ``EXEC``), in the same round trip.
    """

    def __init__(self, channel, max_size):
        super().__init__(channel, max_size)
        self.pipeline.transaction = True


class Channel(kombu_redis.Channel):
    QoS = QoS
    _shared_client = None

    def create_publish_batch(self, max_size):
        return PublishBatch(self, max_size)

    @contextmanager
    def conn_or_acquire(self, client=None):
        if client:
            yield client
            return
        shared = self._shared_client
        if shared is None or shared.connection_pool is not self.pool:
            shared = self._shared_client = self._create_client()
        yield shared

    def _disconnect_pools(self):
        self._shared_client = None
        super()._disconnect_pools()


class Transport(kombu_redis.Transport):
    Channel = Channel


def install() -> None:
    """Make kombu's ``redis`` name this transport, in this process, from now on."""
    kombu.transport.TRANSPORT_ALIASES["redis"] = f"{__name__}:Transport"
    # kombu caches each name it has resolved; forget the old answer if it gave one already.
    getattr(kombu.transport, "_transport_cache", {}).pop("redis", None)
