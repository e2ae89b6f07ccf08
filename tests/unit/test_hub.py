"""The hub's delivery (web/live/hub.py): learners' sockets and owners, fed synthetic events.

``dispatch`` is the part of the receiver after the route lookup; these tests give it the route,
so neither Redis nor a broker is needed. Real sockets and the real stream: tests/test_stream.py.
"""

from __future__ import annotations

import threading

import pytest

from tests.support.events import event, route
from tests.support.stack import poll
from web.classroom import projector
from web.live.delivery import CLASSROOM, LEARNER, Key, Owner
from web.live.hub import EventHub


class Socket:
    """Stands in for web/live/outbox.py's Connection: what the hub asked it to send."""

    def __init__(self, key: Key, open_: bool = True):
        self.key = key
        self.open = open_
        self.sent: list[dict] = []

    def send(self, message: dict) -> bool:
        if self.open:
            self.sent.append(message)
        return self.open


@pytest.fixture
def hub():
    hub = EventHub(celery=None, redis_client=None, route_ttl=60)
    yield hub
    hub.stop()


def test_a_learner_gets_their_own_task_and_never_another_learners(hub):
    ana, ben = Socket(Key.learner("ana")), Socket(Key.learner("ben"))
    hub.connect(ana)
    hub.connect(ben)
    hub.dispatch(event("task-started", "ana-task"), route("ana"))
    assert [m["task_id"] for m in ana.sent] == ["ana-task"]
    assert ben.sent == []


def test_every_open_page_of_a_learner_gets_the_event(hub):
    pages = [Socket(Key.learner("ana")) for _ in range(3)]
    for page in pages:
        hub.connect(page)
    hub.dispatch(event("task-received"), route("ana"))
    assert [len(p.sent) for p in pages] == [1, 1, 1]


def test_an_event_without_a_route_reaches_no_socket(hub):
    ana = Socket(Key.learner("ana"))
    hub.connect(ana)
    hub.dispatch(event("task-started"), None)
    assert ana.sent == []


def test_a_class_code_that_looks_like_a_learner_id_gets_no_learner_events(hub):
    screen = Socket(Key.classroom("ana"))
    hub.connect(screen)
    hub.dispatch(event("task-started"), route("ana", classroom="ana"))
    assert screen.sent == []


def test_a_closed_socket_is_forgotten(hub):
    gone = Socket(Key.learner("ana"), open_=False)
    hub.connect(gone)
    hub.dispatch(event("task-started"), route("ana"))
    assert hub.connection_count() == 0 and not hub.has(Key.learner("ana"))


def test_sockets_are_counted_and_listed_by_kind(hub):
    hub.connect(Socket(Key.learner("ana")))
    hub.connect(Socket(Key.classroom("ABC123")))
    hub.connect(Socket(Key.classroom("XYZ789")))
    assert hub.connection_count() == 1  # /api/health's "sockets": learners' pages
    assert hub.connection_count(CLASSROOM) == 2
    assert sorted(hub.open_ids(CLASSROOM)) == ["ABC123", "XYZ789"]
    assert hub.open_ids(LEARNER) == ["ana"]


def test_owners_get_what_they_want_outside_the_receiver_thread(hub):
    got, threads = [], []
    done = threading.Event()

    def handle(items):
        threads.append(threading.current_thread().name)
        got.extend(items)
        done.set()

    hub.subscribe(Owner("odd", lambda e, r: e["uuid"].endswith("1"), handle))
    hub.dispatch(event("task-sent", "t-2"), route())
    hub.dispatch(event("task-sent", "t-1"), route())
    assert done.wait(5)
    assert [e["uuid"] for e, _ in got] == ["t-1"]
    assert threads == ["event-owners"] and threading.current_thread().name not in threads


def test_a_slow_owner_does_not_hold_up_a_learners_event(hub):
    release = threading.Event()
    hub.subscribe(Owner("slow", lambda e, r: True, lambda items: release.wait(10)))
    ana = Socket(Key.learner("ana"))
    hub.connect(ana)
    try:
        for n in range(5):
            hub.dispatch(event("task-progress", f"t-{n}"), route("ana"))
        assert len(ana.sent) == 5  # delivered at once, while the owner is still busy
    finally:
        release.set()


def test_the_classroom_takes_its_classes_tasks_and_class_changes_only(hub):
    # web/classroom/projector.py's share of the stream, as the hub asks it.
    assert projector.wants(event("task-started"), route("ana", classroom="ABC123"))
    assert projector.wants(event(projector.CLASS_EVENT, code="ABC123", what="members"), None)
    assert not projector.wants(event("task-started"), route("ana"))  # in no class
    assert not projector.wants(event("task-started"), None)
    assert not projector.wants(event("worker-heartbeat"), None)


def test_class_events_reach_the_class_owner_and_no_learner(hub):
    got = []
    hub.subscribe(Owner("classroom", projector.wants, got.extend))
    ana = Socket(Key.learner("ana"))
    hub.connect(ana)
    notice = event(projector.CLASS_EVENT, code="ABC123", what="lesson")
    hub.dispatch(notice, None)
    hub.dispatch(event("task-sent", "t-8"), route("ana", classroom="ABC123"))
    hub.dispatch(event("task-sent", "t-9"), route("ana"))
    poll(lambda: len(got) == 2, 5, message="the class owner to get its two events")
    assert [e["type"] for e, _ in got] == [projector.CLASS_EVENT, "task-sent"]
    assert [m["task_id"] for m in ana.sent] == ["t-8", "t-9"]  # her own, class or not
