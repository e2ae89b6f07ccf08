"""The task lifecycle: ordering, the retry exception, Celery's names, and the copies handed on."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from celery import states as celery_states
from celery.events.state import TASK_EVENT_TO_STATE
from flask import Flask, render_template

import lifecycle
from config import ROOT
from lifecycle import advances
from web.live import protocol, task_log

PAIRS = list(itertools.product(lifecycle.STATES, lifecycle.STATES))


def test_a_first_event_always_places_the_task():
    assert all(advances(None, state) for state in lifecycle.STATES)


@pytest.mark.parametrize(
    ("current", "new"),
    [("sent", "received"), ("received", "started"), ("started", "progress"),
     ("started", "succeeded"), ("sent", "failed"),
     ("sent", "purged"), ("started", "retry")],
)  # fmt: skip
def test_a_task_moves_forward(current, new):
    assert advances(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [("received", "sent"), ("started", "received"), ("progress", "started"),
     ("started", "started"), ("purged", "sent"),
     ("progress", "progress")],  # a repeated progress changes its fields, not the state
)  # fmt: skip
def test_a_late_event_never_moves_a_task_backwards(current, new):
    assert not advances(current, new)


@pytest.mark.parametrize(
    ("final", "new"), list(itertools.product(sorted(lifecycle.FINAL), lifecycle.STATES))
)
def test_a_final_state_is_final(final, new):
    assert not advances(final, new)


@pytest.mark.parametrize("new", ["received", "started", "progress", "retry", "succeeded"])
def test_a_retried_task_starts_over_with_its_new_delivery(new):
    assert advances("retry", new)


def test_the_resends_own_sent_event_does_not_move_a_retried_task():
    assert not advances("retry", "sent")


def test_a_logged_line_is_not_a_state_and_moves_nothing():
    assert not advances(None, "log")
    assert not advances("started", "log")


def test_a_retried_task_ends_where_its_events_lead_whatever_their_order():
    # The worker's own sequence for one retry: the re-send's task-sent comes before task-retried.
    state = None
    for new in ["sent", "received", "started", "sent", "retry", "received", "started", "succeeded",
                "received"]:  # fmt: skip
        if advances(state, new):
            state = new
    assert state == "succeeded"


def test_every_celery_task_event_and_result_state_is_mapped_the_same_way():
    for event, result_state in TASK_EVENT_TO_STATE.items():
        assert lifecycle.EVENTS[f"task-{event}"] == lifecycle.RESULTS[result_state]
    # Every state a result backend stores, bar IGNORED, which Celery never stores (REJECTED is
    # one, though Celery leaves it out of ALL_STATES).
    stored = set(celery_states.ALL_STATES) | {celery_states.REJECTED}
    assert set(lifecycle.RESULTS) == stored - {celery_states.IGNORED}
    assert set(lifecycle.EVENTS.values()) == set(lifecycle.EVENT_STATES)
    assert set(lifecycle.RESULTS.values()) <= set(lifecycle.EVENT_STATES)


def test_the_projects_own_events_are_mapped():
    assert lifecycle.EVENTS["task-progress"] == "progress"
    assert lifecycle.EVENTS["task-refused"] == "rejected"


def test_the_protocol_and_the_result_view_use_the_lifecycle():
    assert protocol.STATES == lifecycle.EVENT_STATES
    for event, state in lifecycle.EVENTS.items():
        assert protocol.state_for(event) == state
    assert protocol.state_for("task-log") == "log"
    assert task_log._STATE is lifecycle.RESULTS
    assert "PROGRESS" not in task_log._STATE  # no task calls update_state(PROGRESS)


def test_every_state_has_a_label_and_finals_are_last():
    assert set(lifecycle.LABELS) == set(lifecycle.STATES)
    ranks = sorted(lifecycle.RANK[s] for s in lifecycle.FINAL)
    assert ranks == list(range(len(lifecycle.STATES) - len(ranks), len(lifecycle.STATES)))


def test_the_page_data_is_the_python_definition():
    app = Flask(__name__, template_folder=str(ROOT / "site" / "templates"))
    app.context_processor(lifecycle.template_context)
    with app.test_request_context():
        html = render_template("_lifecycle.html")
    raw = re.search(r'<script type="application/json" id="lab-lifecycle">(.*)</script>', html)
    data = json.loads(raw.group(1))
    assert data["states"] == list(lifecycle.STATES)
    assert set(data["final"]) == lifecycle.FINAL
    assert data["labels"] == lifecycle.LABELS
    for current, new in PAIRS:
        assert (new in data["moves"][current]) == advances(current, new), (current, new)


def test_the_lua_table_is_the_python_definition():
    lua = lifecycle.LUA
    table = re.search(r"local lifecycle_moves = \{(.*)\}\n", lua).group(1)
    moves = {
        old: set(re.findall(r"(\w+)=true", news))
        for old, news in re.findall(r"(\w+)=\{([^}]*)\}", table)
    }
    assert moves.keys() == set(lifecycle.STATES)
    for current, new in PAIRS:
        assert (new in moves[current]) == advances(current, new), (current, new)
    assert "lifecycle_advances" in lua
