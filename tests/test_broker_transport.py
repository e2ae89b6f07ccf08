"""Messages and events go through kombu's Redis transport with one client per channel.

Real Redis (the session's stack): the site's Celery app publishes for real.
"""

from __future__ import annotations

import threading
import uuid

from kombu.transport import get_transport_cls
from kombu.transport import redis as kombu_redis

from tests.support.stack import poll
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


def test_the_worker_books_a_message_in_and_out_without_a_transaction(app, stack):
    # kombu records each message the worker takes (ZADD to its index, HSET of the message) and
    # forgets it once acknowledged (ZREM, HDEL). Each pair goes in one round trip, but as a
    # plain pipeline: no MULTI/EXEC around it, four commands fewer for every task.
    celery = app.extensions["celery"]
    task_id, marker = str(uuid.uuid4()), f"end-{uuid.uuid4()}"
    with Monitor(stack, marker) as seen:
        result = celery.send_task("sandbox_tasks.basics.add", args=(2, 3), task_id=task_id)
        assert result.get(timeout=30)["sum"] == 5
        tag = poll(lambda: seen.unacked_tag(task_id), 30, message="the worker to take it")
        poll(lambda: seen.before("ZREM", tag), 30, message="the worker to acknowledge it")
    for op in ("ZADD", "ZREM"):
        assert seen.before(op, tag), f"no {op} of the message"
        assert "MULTI" not in seen.before(op, tag), f"{op} of the message ran in a transaction"


class Monitor:
    """Every command Redis runs (``MONITOR``), with the client that sent it, until closed."""

    def __init__(self, stack, marker: str):
        self.stack, self.marker = stack, marker
        self.commands: list[tuple[int, list[str]]] = []
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)

    def _listen(self) -> None:
        with self.stack.redis().monitor() as m:
            self._listening.set()
            for command in m.listen():
                self.commands.append((command["client_port"], command["command"].split(" ")))
                if self.marker in command["command"]:
                    return

    def __enter__(self) -> Monitor:
        self._thread.start()
        assert self._listening.wait(5)
        return self

    def __exit__(self, *exc) -> None:
        self.stack.redis().echo(self.marker)  # the monitor stops when it sees this
        self._thread.join(10)

    def unacked_tag(self, task_id: str) -> str | None:
        """The delivery tag of the HSET that stores ``task_id``'s message as unacknowledged."""
        for _, words in list(self.commands):
            if words[0].upper() == "HSET" and words[1] == "unacked" and task_id in " ".join(words):
                return words[2]
        return None

    def before(self, op: str, tag: str) -> list[str]:
        """For each ``op`` on the unacked index for ``tag``: its client's command just before."""
        last: dict[int, str] = {}
        found = []
        for client, words in list(self.commands):
            if words[0].upper() == op and words[1] == "unacked_index" and tag in words:
                found.append(last.get(client, ""))
            last[client] = words[0].upper()
        return found
