"""Routing decisions (web/live/delivery.py): who gets which event, decided without I/O."""

from __future__ import annotations

import pytest

from tests.support.events import event, route
from web.live import delivery
from web.live.delivery import Decision, Key, Lane, Owner


def test_a_task_event_goes_to_the_learner_its_route_names_and_no_one_else():
    decision = delivery.decide(event("task-started"), route("ana"))
    assert [key for key, _ in decision.sends] == [Key.learner("ana")]
    ((_, message),) = decision.sends
    assert (message["type"], message["task_id"], message["state"]) == ("task", "t-1", "started")
    assert decision.release is None


def test_an_event_without_a_route_goes_to_no_learner():
    # Another site's task, or one whose route expired: nobody here asked for it.
    assert delivery.decide(event("task-succeeded"), None) == Decision()


@pytest.mark.parametrize("kind", ["task-succeeded", "task-failed", "task-rejected", "task-revoked"])
def test_a_final_event_frees_the_learners_admission_slot(kind):
    decision = delivery.decide(event(kind, "t-9"), route("ana", address="10.0.0.7"))
    assert decision.release == ("t-9", "ana", "10.0.0.7")


@pytest.mark.parametrize("kind", ["task-sent", "task-received", "task-retried", "task-log"])
def test_a_task_still_under_way_keeps_its_slot(kind):
    assert delivery.decide(event(kind), route()).release is None


def test_a_playground_event_goes_to_the_learner_as_a_run_message():
    decision = delivery.decide(
        event("playground-output", "run-1", stream="view", text="hi"), route()
    )
    ((key, message),) = decision.sends
    assert key == Key.learner("ana")
    assert message["type"] == "run" and message["kind"] == "output" and message["text"] == "hi"
    assert decision.release is None


@pytest.mark.parametrize(
    "synthetic",
    [
        pytest.param(event("worker-heartbeat"), id="worker-event"),
        pytest.param(event("celerylab-class", code="ABC123", what="members"), id="class-event"),
        pytest.param(event("playground-unheard-of"), id="unknown-run-kind"),
        pytest.param(event("task-started", uuid=""), id="empty-uuid"),
        pytest.param(event("task-started", uuid=["not", "a", "string"]), id="list-uuid"),
        pytest.param({"type": "task-started"}, id="no-uuid"),
        pytest.param({"uuid": "t-1"}, id="no-type"),
    ],
)
def test_events_that_name_no_task_are_never_routed(synthetic):
    assert delivery.routed_id(synthetic) is None
    assert delivery.decide(synthetic, route()) == Decision()


def test_task_and_run_events_are_routed_by_their_uuid():
    assert delivery.routed_id(event("task-sent", "t-5")) == "t-5"
    assert delivery.routed_id(event("playground-ended", "run-5")) == "run-5"


def test_keys_say_what_a_socket_belongs_to():
    assert Key.learner("ABC123") != Key.classroom("ABC123")  # a learner id is never a class
    assert Key.classroom("ABC123").kind == delivery.CLASSROOM


def test_the_lane_hands_each_owner_its_events_in_order_in_one_call():
    calls = []
    first = Owner("first", lambda e, r: True, lambda items: calls.append(("first", items)))
    second = Owner("second", lambda e, r: True, lambda items: calls.append(("second", items)))
    a, b, c = event("task-sent", "a"), event("task-sent", "b"), event("task-sent", "c")
    Lane.run_batch([(first, a, None), (second, b, None), (first, c, None)])
    assert calls == [("first", [(a, None), (c, None)]), ("second", [(b, None)])]


def test_one_owner_failing_does_not_stop_the_others(caplog):
    def explode(items):
        raise KeyError("broken owner")

    seen = []
    broken = Owner("broken", lambda e, r: True, explode)
    fine = Owner("fine", lambda e, r: True, seen.extend)
    Lane.run_batch([(broken, event("task-sent"), None), (fine, event("task-sent"), None)])
    assert len(seen) == 1
    assert "event owner broken could not handle 1 events" in caplog.text
