"""Celery's event stream, read straight from Redis pub/sub when the broker is Redis.

Celery's event receiver (``app.events.Receiver``) consumes the stream through kombu's virtual
transport: for every event it builds a kombu ``Message``, runs it through a ``Consumer``, its
callbacks and the transport's delivery bookkeeping. Every web process reads every event the
worker sends, and at a class of 300 that machinery was about 40 % of a web process's CPU
(py-spy, bench/README.md "Where the time goes").

On Redis the stream itself is simple: kombu publishes each event message, a JSON envelope
whose ``body`` is the event (base64 by default), on a pub/sub channel named after the event
exchange (``/{db}.celeryev/<routing key>``). This module subscribes to that same channel and
decodes the envelope with kombu's own ``decode_body`` and serializer (JSON only, as the site
accepts), then hands each event to the Celery receiver's own ``event_from_message`` and
``process``: clocks, timestamps and handlers behave exactly as with ``capture``. It reads the
same bus Celery's receiver does; it is not a second one. Any other broker (or a kombu setting
this does not know, such as ``global_keyprefix``) gets Celery's ``capture`` unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery.events.receiver import EventReceiver
from kombu.exceptions import ContentDisallowed, DecodeError
from kombu.serialization import loads as kombu_loads
from kombu.utils.json import loads as envelope_loads

log = logging.getLogger(__name__)

# Long enough to cost nothing while idle, short enough that ``should_stop`` is seen soon.
WAIT_SECONDS = 1.0
# Events handled per batch at most: a long burst is still handled in slices, as it arrives.
BATCH = 200


def redis_topic(channel, exchange: str) -> str | None:
    """The pub/sub pattern kombu publishes ``exchange``'s fanout messages on, or None if unknown.

    ``channel`` is a kombu Redis channel. The pattern is kombu's own prefix (``/{db}.``, filled
    in once the channel has its connection pool) and, with ``fanout_patterns``, the routing key
    as a glob (kombu binds the receiver's ``#`` as ``*``).
    """
    if getattr(channel, "global_keyprefix", ""):
        return None
    channel.pool  # noqa: B018 (fills in the db number of keyprefix_fanout)
    prefix = channel.keyprefix_fanout
    if "{" in prefix:
        return None
    if channel.fanout_patterns:
        return f"{prefix}{exchange}/*"
    return f"{prefix}{exchange}"


def direct_reader(
    receiver: EventReceiver,
    connection,
    on_ready: Callable[[], None],
    before_batch: Callable[[list[dict]], None] | None = None,
    after_batch: Callable[[], None] | None = None,
):
    """A ``DirectReader`` for ``receiver`` on ``connection``, or None: use ``capture``."""
    if connection.transport.driver_type != "redis":
        return None
    channel = connection.default_channel
    topic = redis_topic(channel, receiver.exchange.name)
    if not topic:
        return None
    return DirectReader(receiver, channel, topic, on_ready, before_batch, after_batch)


class DirectReader:
    """Read ``receiver``'s exchange from Redis pub/sub and ``process`` each event it holds."""

    def __init__(
        self,
        receiver: EventReceiver,
        channel,
        topic: str,
        on_ready: Callable[[], None],
        before_batch: Callable[[list[dict]], None] | None = None,
        after_batch: Callable[[], None] | None = None,
    ):
        self.receiver = receiver
        self.channel = channel
        self.topic = topic
        self.on_ready = on_ready
        # Called with every batch of events read at once, before any is processed (the hub
        # looks up all their routes in one round trip instead of one each).
        self.before_batch = before_batch
        # Called once a batch is processed (the hub frees the admission slots of every task
        # the batch ended in one round trip).
        self.after_batch = after_batch
        self.accept = {"application/json"}

    def run(self, should_stop: Callable[[], bool]) -> None:
        """Read until ``should_stop()`` or the receiver's own ``should_stop`` (as ``capture``)."""
        client = self.channel.Client(connection_pool=self.channel.pool)
        pubsub = client.pubsub()
        try:
            pubsub.psubscribe(self.topic)
            while not (should_stop() or self.receiver.should_stop):
                reply = pubsub.parse_response(block=False, timeout=WAIT_SECONDS)
                batch: list[dict] = []
                while reply is not None and len(batch) < BATCH:
                    batch.extend(self._events_in(reply))
                    # Whatever else already arrived is read without waiting again.
                    reply = pubsub.parse_response(block=False, timeout=0)
                if reply is not None:
                    batch.extend(self._events_in(reply))
                self._process(batch)
        finally:
            pubsub.close()

    def _events_in(self, reply) -> list[dict]:
        kind = reply[0]
        if kind in (b"psubscribe", "psubscribe"):
            self.on_ready()
            return []
        if kind not in (b"pmessage", "pmessage") or len(reply) < 4:
            return []
        try:
            return [b for b in self.decode(reply[3]) if isinstance(b, dict) and "type" in b]
        except (ContentDisallowed, DecodeError, ValueError, TypeError, KeyError) as exc:
            # What kombu's consumer would do with a message it cannot decode: log, drop.
            log.warning("dropped an event message that does not decode: %s", exc)
            return []

    def _process(self, batch: list[dict]) -> None:
        if not batch:
            return
        if self.before_batch is not None:
            self.before_batch(batch)
        receiver = self.receiver
        try:
            for body in batch:
                try:
                    receiver.process(*receiver.event_from_message(body))
                except (TypeError, KeyError) as exc:  # a body without Celery's fields
                    log.warning("dropped an event that is not one: %s", exc)
        finally:
            if self.after_batch is not None:
                self.after_batch()

    def decode(self, payload) -> list:
        """The events in one published message (the worker sends task events in batches)."""
        message = envelope_loads(payload)
        properties = message.get("properties") or {}
        raw = self.channel.decode_body(message["body"], properties.get("body_encoding"))
        body = kombu_loads(
            raw,
            message.get("content-type"),
            message.get("content-encoding"),
            accept=self.accept,
        )
        return body if isinstance(body, list) else [body]
