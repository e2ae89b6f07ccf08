"""The worker's consumer: Celery's own, surviving a broker that goes away for a few seconds.

Celery 5.7's ``Consumer.on_connection_error_after_connected`` first calls
``connection.collect()``, which closes the default channel (Redis is down, so that fails and is
ignored) and then drops the transport's ``client``; it then closes the same connection again.
kombu's ``Connection._do_close_self`` never forgets its default channel, so the second close
reaches that stale channel once more, whose restore of unacknowledged messages asks the
transport's (now ``None``) client for a hostname: ``AttributeError: 'NoneType' object has no
attribute 'hostname'``. That is not a connection error, so ``ignore_errors`` lets it through
and the worker dies (compare kombu#582, kombu#970, celery#10205). Here the second close only
forgets the stale channel: the unacknowledged message is still in Redis (kombu's ``unacked``
hash), and kombu hands it out again once its visibility timeout passes, so it is not lost.
"""

from __future__ import annotations

import logging

from celery.worker.consumer import Consumer as CeleryConsumer

log = logging.getLogger(__name__)


class Consumer(CeleryConsumer):
    def on_connection_error_after_connected(self, exc):
        connection = self.connection
        if connection is not None:
            close = connection.close

            def close_after_collect():
                if connection._transport is None:
                    # collect() already closed what it could and dropped the transport.
                    connection._default_channel = None
                    connection._closed = True
                    return
                close()

            connection.close = connection.release = close_after_collect
        super().on_connection_error_after_connected(exc)
