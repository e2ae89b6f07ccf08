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

It also bounds what the worker holds. Prefetch does not limit ETA (countdown) tasks: Celery
raises the prefetch count for each one it holds, so a worker would take every countdown task in
the queue at once and keep them, unacknowledged, until they are due and a thread is free; any
still waiting when the visibility timeout passes is handed out again, and runs twice. With
``worker_eta_task_limit`` the worker holds at most as many messages as it can finish within
the visibility timeout (the longest countdown, then as many rounds of the longest task as fit);
the rest wait in Redis, where no clock runs on them.

And it lends its own event dispatcher to the tasks it runs. Celery's ``Task.send_event`` (how
lesson 5's slow task reports progress) asks ``app.events.default_dispatcher`` for a new
dispatcher and a producer from the pool for each event: ~310 µs of CPU here, against ~200 µs
through a dispatcher kept open (bench/README.md "Progress joins the worker's batches"), and a
class of 300 pressing the slow task sends 600 progress events a second. The consumer's
dispatcher buffers task events and sends them in batches from its loop (``task.multi``), in
order with the task's ``task-started`` and ``task-succeeded``; a task's own events join them.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from celery.events.dispatcher import EventDispatcher
from celery.worker.consumer import Consumer as CeleryConsumer

log = logging.getLogger(__name__)


# Every sandbox parameter is bounded (web/lessons/experiments): no task runs longer than this,
# and no countdown (a learner's, or a retry's) is longer than that.
LONGEST_TASK = 30
LONGEST_COUNTDOWN = 30
MARGIN = 10


def eta_task_limit(concurrency: int, visibility_timeout: float) -> int:
    """How many messages a worker may hold and still start each within the visibility timeout."""
    rounds = int((visibility_timeout - LONGEST_COUNTDOWN - MARGIN) // LONGEST_TASK)
    return max(1, concurrency) * max(1, rounds)


class Consumer(CeleryConsumer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        conf = self.app.conf
        if conf.worker_eta_task_limit is None:
            concurrency = getattr(self.controller, "concurrency", None) or conf.worker_concurrency
            visibility = (conf.broker_transport_options or {}).get("visibility_timeout", 3600)
            conf.worker_eta_task_limit = eta_task_limit(concurrency, visibility)
            log.info("holding at most %d messages at once", conf.worker_eta_task_limit)
        _lend_dispatcher(self)

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


def task_events(consumer: CeleryConsumer, hostname: str | None) -> EventDispatcher | None:
    """``consumer``'s event dispatcher for a task of the worker named ``hostname``, if it sends
    task events; None otherwise."""
    if not hostname or consumer.hostname != hostname:
        return None
    dispatcher = getattr(consumer, "event_dispatcher", None)
    if dispatcher is None or not dispatcher.enabled:
        return None  # not connected yet, or reconnecting: Celery's own way
    if dispatcher.groups and "task" not in dispatcher.groups:  # a worker without -E
        return None
    return dispatcher


def _lend_dispatcher(consumer: CeleryConsumer) -> None:
    """Let ``Task.send_event`` in this worker's tasks use ``consumer``'s dispatcher.

    ``Task.send_event`` is the only caller of ``default_dispatcher`` in Celery, and it names
    the task's worker: anything else (another hostname, events turned off) gets Celery's own.
    The consumer's dispatcher is read at each call, since a reconnect replaces it.
    """
    events = consumer.app.events
    celerys = events.default_dispatcher

    @contextmanager
    def default_dispatcher(hostname=None, enabled=True, buffer_while_offline=False):
        lent = task_events(consumer, hostname) if enabled else None
        if lent is None:
            with celerys(hostname, enabled, buffer_while_offline) as dispatcher:
                yield dispatcher
        else:
            yield lent  # the consumer's: it stays open

    events.default_dispatcher = default_dispatcher
