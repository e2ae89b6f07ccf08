"""One runner for experiments: each transport serves its own experiments with the same shapes.

A direct call is ``POST /api/experiments/<name>``; every other experiment is the websocket's
``run`` action (``Experiment.transport``). Each refuses the other kind with ``wrong_transport``,
sending nothing. Real stack (Redis, worker, gunicorn).
"""

from __future__ import annotations

import time

import config
from tests.support.learners import learner_id
from tests.support.redis_monitor import RedisMonitor
from tests.support.stack import poll
from web import keys

ADD = {"x": 2, "y": 3}
# create_app's default (web/__init__.py), which the session's stack runs with.
RATE_LIMIT_PER_SECOND = 20


def test_bad_params_get_the_same_error_shape_on_each_transport(learner):
    status, over_http = learner.post("/api/experiments/lesson5.direct", {"seconds": -1})
    over_socket = learner.session().run_with("lesson5.delay", {"seconds": -1}, ref="mine")
    assert status == 400
    assert over_socket["ref"] == "mine"
    assert over_http["type"] == "error" and over_http["ref"] is None
    assert sorted(over_http) == sorted(over_socket)
    assert over_http["error"] == over_socket["error"] == "invalid_params"
    assert over_http["field"] == over_socket["field"] == "seconds"


def test_unknown_experiment_is_404_over_http_and_an_error_frame_with_ref(learner):
    status, over_http = learner.post("/api/experiments/nope", {})
    over_socket = learner.session().run_with("nope", {}, ref="r1")
    assert status == 404
    assert over_http["error"] == over_socket["error"] == "unknown_experiment"
    assert over_socket["ref"] == "r1"
    assert over_http["message"] == over_socket["message"]


def test_each_transport_answers_its_presses_with_the_same_shape(learner):
    session = learner.session()
    status, over_http = learner.post("/api/experiments/lesson1.direct", ADD)
    over_socket = session.run_with("lesson1.delay", ADD, ref="press-1")
    assert status == 200
    assert over_http["type"] == over_socket["type"] == "sent"
    assert over_http["ref"] is None and over_socket["ref"] == "press-1"
    assert over_http["mode"] == "direct" and over_socket["mode"] == "task"
    assert {"type", "ref", "mode", "experiment", "elapsed_ms"} <= set(over_http) & set(over_socket)
    assert session.final(over_socket["task_id"])["state"] == "succeeded"


def test_a_task_press_posted_is_refused_naming_the_websocket_and_sends_nothing(stack, learner):
    mine = keys.learner_tasks(learner_id(stack, learner, "lesson5.delay", {"seconds": 1}))
    before = stack.redis().llen(mine)
    status, reply = learner.post("/api/experiments/lesson1.delay", ADD)
    assert status == 400
    assert reply["type"] == "error" and reply["error"] == "wrong_transport", reply
    assert reply["transport"] == "websocket"
    assert '"action": "run"' in reply["message"] and "/ws" in reply["message"]
    assert stack.redis().llen(mine) == before
    # Bad parameters on the wrong transport: still the transport is what is wrong.
    status, reply = learner.post("/api/experiments/lesson1.delay", {"x": "no"})
    assert status == 400 and reply["error"] == "wrong_transport"
    assert learner.press("lesson1.delay", ADD)["type"] == "sent"
    assert stack.redis().llen(mine) == before + 1


def test_a_direct_call_over_the_socket_is_refused_naming_http(learner):
    session = learner.session()
    reply = session.run_with("lesson5.direct", {"seconds": 1}, ref="d1")
    assert reply["type"] == "error" and reply["error"] == "wrong_transport", reply
    assert reply["ref"] == "d1" and reply["transport"] == "http"
    assert "POST" in reply["message"] and "/api/experiments/lesson5.direct" in reply["message"]
    assert session.ping()
    # Nothing was held: both held-call places are free for two direct calls at once.
    assert learner.press("lesson5.direct", {"seconds": 1})["type"] == "sent"


def test_both_transports_share_one_rate_limit(learner):
    """Presses over the socket use up the second's allowance for HTTP too (counted once each)."""
    limit = RATE_LIMIT_PER_SECOND
    session = learner.session()

    def one_second_flood():
        second = int(time.time())
        for i in range(limit):
            session.send({"action": "run", "experiment": "nope", "params": {}, "ref": f"f{i}"})
        session.until(lambda m: m.get("ref") == f"f{limit - 1}")
        status, body = learner.post("/api/experiments/nope", {})
        # Only a flood that stayed inside one clock second proves anything: else try again.
        return (status, body) if int(time.time()) == second else None

    status, body = poll(one_second_flood, 20, interval=0.05, message="a flood within one second")
    assert status == 429
    assert body["error"] == "rate_limited" and body["retry_after"] == 1


def test_a_press_past_the_limit_is_refused_in_its_admission_and_leaves_nothing_behind(
    stack, learner
):
    """Bad presses count too; the press after them is refused without a task, route or slot."""
    me = learner_id(stack, learner, "lesson1.delay", ADD)
    db = stack.redis()
    session = learner.session()
    tasks, slots = keys.learner_tasks(me), keys.outstanding("learner", me)

    def one_second_of_bad_presses_then_a_good_one():
        second = int(time.time())
        before = (db.llen(tasks), db.llen(config.QUEUE))
        for i in range(RATE_LIMIT_PER_SECOND):
            bad = {"action": "run", "experiment": "lesson1.delay", "params": {"x": "no"}}
            session.send({**bad, "ref": f"bad{i}"})
        session.until(lambda m: m.get("ref") == f"bad{RATE_LIMIT_PER_SECOND - 1}")
        held = db.zcard(slots)
        reply = session.run_with("lesson1.delay", ADD, ref="over")
        after = (db.llen(tasks), db.llen(config.QUEUE))
        if int(time.time()) != second:
            return None  # the second turned mid-way: nothing is proven, try again
        return reply, before, after, held

    reply, before, after, held = poll(
        one_second_of_bad_presses_then_a_good_one, 20, interval=0.05, message="one second"
    )
    assert reply["error"] == "rate_limited" and reply["retry_after"] == 1, reply
    assert reply["ref"] == "over" and "Slow down" in reply["message"]
    assert after == before  # no route recorded, no task message queued
    assert db.zcard(slots) <= held  # and no admission slot taken (others may have finished)


def test_a_press_is_counted_admitted_and_routed_in_one_round_trip(stack, learner):
    """The second's count of a ``.delay()`` press is taken inside its admission script."""
    me = learner_id(stack, learner, "lesson1.delay", ADD)
    with RedisMonitor(stack.url) as monitor:
        reply = learner.press("lesson1.delay", ADD)
        assert reply["type"] == "sent", reply

        def counted():
            lines = [(lua, cmd) for lua, cmd in monitor.lines() if f"ratelimit:{me}:" in cmd]
            return lines if any(cmd.startswith("EXPIRE") for _, cmd in lines) else None

        lines = poll(counted, 10, interval=0.05, message="the press's count")
    # The web's one command naming the counter is the admission script's call, and the count
    # is taken inside it: no round trip of its own.
    assert [cmd.split()[0] for lua, cmd in lines if not lua] == ["EVALSHA"], lines
    assert [cmd.split()[0] for lua, cmd in lines if lua] == ["INCR", "EXPIRE"], lines


def test_the_page_names_each_experiments_transport(learner):
    with learner.opener.open(learner.base_url + "/lessons/delay-vs-direct-call") as response:
        page = response.read().decode()
    assert 'data-experiment="lesson5.direct" data-mode="direct" data-transport="http"' in page
    assert 'data-experiment="lesson5.delay" data-mode="task" data-transport="websocket"' in page
