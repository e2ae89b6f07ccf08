"""Messages and events go through kombu's Redis transport with one client per channel.

Real Redis (the session's stack): the site's Celery app publishes for real.
"""

from __future__ import annotations

from kombu.transport import get_transport_cls
from kombu.transport import redis as kombu_redis

from web import broker_transport


def test_the_site_publishes_through_its_transport_for_a_redis_url(app):
    celery = app.extensions["celery"]
    with celery.connection_for_write() as conn:
        assert isinstance(conn.transport, broker_transport.Transport)
        # Celery still sees a Redis broker (a fanout event exchange, its Redis features).
        assert conn.transport.driver_type == "redis"


def test_every_command_of_a_channel_uses_the_same_client(app):
    celery = app.extensions["celery"]
    with celery.connection_for_write() as conn:
        channel = conn.default_channel
        clients = set()
        for _ in range(5):
            with channel.conn_or_acquire() as client:
                assert client.ping()
                clients.add(id(client))
        assert len(clients) == 1, "kombu's own channel builds a new client for each command"


def test_events_published_through_it_arrive(app, stack):
    celery = app.extensions["celery"]
    pubsub = stack.redis().pubsub()
    pubsub.psubscribe("/0.celeryev/*")
    assert pubsub.get_message(timeout=5)["type"] == "psubscribe"
    with celery.events.default_dispatcher(hostname="transport-test") as dispatcher:
        for i in range(3):
            dispatcher.send("task-progress", uuid=f"t-{i}", current=i, total=3)
    got = [pubsub.get_message(timeout=5) for _ in range(3)]
    assert [m["channel"] for m in got] == ["/0.celeryev/task.progress"] * 3
    pubsub.close()


def test_a_reconnected_channel_makes_a_new_client_on_its_new_pool(app):
    celery = app.extensions["celery"]
    with celery.connection_for_write() as conn:
        channel = conn.default_channel
        with channel.conn_or_acquire() as before:
            pass
        channel._disconnect_pools()  # what kombu does when the connection is lost
        with channel.conn_or_acquire() as after:
            assert after.ping()
        assert after is not before
        assert after.connection_pool is channel.pool


def test_the_worker_still_says_redis_wherever_it_names_its_broker(app):
    # Lessons 10 and 11 teach learners to read the worker's banner and its stats.
    stats = app.extensions["celery"].control.inspect(timeout=5).stats() or {}
    assert stats, "no worker answered"
    assert {info["broker"]["transport"] for info in stats.values()} == {"redis"}


def test_any_other_scheme_keeps_kombu_s_own_transport():
    broker_transport.install()
    assert get_transport_cls("rediss") is kombu_redis.Transport
    assert get_transport_cls("redis") is broker_transport.Transport
