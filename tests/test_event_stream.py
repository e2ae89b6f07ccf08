"""The hub reads Celery's event stream straight from Redis pub/sub, as Celery's receiver would.

Real Redis and worker (the session's stack). Messages are published by kombu itself, so the
envelopes are exactly the ones a worker sends.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from celery.events.event import get_exchange
from kombu import Connection, Producer

from sandbox_tasks.basics import add
from tests.support.stack import poll
from web.live import event_stream

TASK_EVENTS = {"task-sent", "task-received", "task-started", "task-succeeded"}


@pytest.fixture
def events(app):
    """A DirectReader on its own receiver, in a thread; yields the events it handed on."""
    celery = app.extensions["celery"]
    seen: list[dict] = []
    ready = threading.Event()
    stop = threading.Event()
    with celery.connection_for_read() as conn:
        receiver = celery.events.Receiver(conn, handlers={"*": seen.append})
        reader = event_stream.direct_reader(receiver, conn, ready.set)
        assert reader is not None, "on Redis the hub reads the stream directly"
        thread = threading.Thread(target=reader.run, args=(stop.is_set,), daemon=True)
        thread.start()
        assert ready.wait(10), "the reader never subscribed"
        yield celery, reader, seen
        stop.set()
        thread.join(timeout=5)
        assert not thread.is_alive()


def publish(celery, body, serializer="json", routing_key="task.probe"):
    """Publish ``body`` on the event exchange the way kombu publishes any event message."""
    with celery.connection_for_write() as conn:
        # Celery's event exchange (a fanout one on Redis), declared as the dispatcher does.
        exchange = get_exchange(conn, name=celery.conf.event_exchange)
        Producer(conn.default_channel, exchange=exchange).publish(
            body, routing_key=routing_key, serializer=serializer
        )


def probe(celery, seen, **fields):
    """Send one event of our own and wait until the reader hands it on."""
    marker = str(uuid.uuid4())
    publish(celery, {"type": "celerylab-probe", "marker": marker, **fields})
    poll(lambda: any(e.get("marker") == marker for e in seen), 10, message="the probe event")
    return next(e for e in seen if e.get("marker") == marker)


def test_a_real_task_s_lifecycle_arrives_with_celery_s_own_bookkeeping(app, events):
    celery, _, seen = events
    with app.app_context():
        result = add.delay(2, 3)
        assert result.get(timeout=30)["sum"] == 5

    def mine():
        return {e["type"] for e in seen if e.get("uuid") == result.id}

    poll(lambda: TASK_EVENTS <= mine(), 10, message="every lifecycle event of the task")
    succeeded = next(
        e for e in seen if e.get("uuid") == result.id and e["type"] == "task-succeeded"
    )
    # What EventReceiver.event_from_message adds: a local arrival time and a Lamport clock.
    assert succeeded["local_received"] >= succeeded["timestamp"] - 5
    assert isinstance(succeeded["clock"], int)
    assert succeeded["hostname"].startswith("lab@")


def test_the_reader_subscribes_once_to_the_event_exchange_pattern(app, stack, events):
    _, reader, _ = events
    assert reader.topic == "/0.celeryev/*"
    patterns = stack.redis().execute_command("PUBSUB", "NUMPAT")
    assert patterns >= 1


def test_a_batch_of_events_in_one_message_is_handed_on_one_by_one(events):
    celery, _, seen = events
    batch = [{"type": "celerylab-probe", "marker": f"batch-{i}"} for i in range(3)]
    publish(celery, batch)
    poll(
        lambda: {f"batch-{i}" for i in range(3)} <= {e.get("marker") for e in seen},
        10,
        message="all three events of the batch",
    )


def test_a_message_that_is_not_json_is_dropped_and_the_stream_goes_on(events, stack):
    celery, reader, seen = events
    publish(celery, {"type": "celerylab-probe", "marker": "pickled"}, serializer="pickle")
    stack.redis().publish("/0.celeryev/task.junk", b"\xff not an envelope")
    stack.redis().publish("/0.celeryev/task.junk", b'{"body": 3}')
    assert probe(celery, seen)["type"] == "celerylab-probe"
    assert not any(e.get("marker") == "pickled" for e in seen), "JSON only, as the site accepts"


def test_any_other_broker_gets_celery_s_own_capture(app):
    receiver = app.extensions["celery"].events.Receiver(Connection("memory://"))
    assert event_stream.direct_reader(receiver, Connection("memory://"), lambda: None) is None


def test_redis_replies_are_parsed_in_c_by_hiredis(app):
    """Every web process reads every event of every learner; redis-py's own parser is Python.

    With hiredis installed (requirements.in) redis-py parses replies in C: on a class of 300 the
    click -> first event p99 fell by about a third (bench/README.md). A lock refreshed without
    it, or a redis-py that stops picking it up, fails here rather than quietly in the bench.
    """
    celery = app.extensions["celery"]
    with celery.connection_for_read() as conn:
        pool = conn.default_channel.pool
        connection = pool.get_connection()
        try:
            assert type(connection._parser).__name__ == "_HiredisParser"
        finally:
            pool.release(connection)
