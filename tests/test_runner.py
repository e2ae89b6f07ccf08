"""One runner for experiments: the websocket's ``run`` and POST /api/experiments give one reply.

Real stack (Redis, worker, gunicorn): each transport's answer is compared with the other's.
"""

from __future__ import annotations

import time

from tests.support.stack import poll

ADD = {"x": 2, "y": 3}
# create_app's default (web/__init__.py), which the session's stack runs with.
RATE_LIMIT_PER_SECOND = 20


def without_ref(reply: dict) -> dict:
    return {k: v for k, v in reply.items() if k not in ("ref", "elapsed_ms", "task_id")}


def test_bad_params_get_the_same_error_either_way(learner):
    status, over_http = learner.post("/api/experiments/lesson5.delay", {"seconds": -1})
    over_socket = learner.session().run_with("lesson5.delay", {"seconds": -1}, ref="mine")
    assert status == 400
    assert over_socket["ref"] == "mine"
    assert over_http["type"] == "error" and over_http["ref"] is None
    assert without_ref(over_http) == without_ref(over_socket)


def test_unknown_experiment_is_404_over_http_and_an_error_frame_with_ref(learner):
    status, over_http = learner.post("/api/experiments/nope", {})
    over_socket = learner.session().run_with("nope", {}, ref="r1")
    assert status == 404
    assert over_http["error"] == over_socket["error"] == "unknown_experiment"
    assert over_socket["ref"] == "r1"
    assert over_http["message"] == over_socket["message"]


def test_a_press_answers_the_same_shape_and_its_task_streams(learner):
    session = learner.session()
    status, over_http = learner.post("/api/experiments/lesson1.delay", ADD)
    over_socket = session.run_with("lesson1.delay", ADD, ref="press-1")
    assert status == 200
    assert over_http["type"] == over_socket["type"] == "sent"
    assert over_socket["ref"] == "press-1"
    assert sorted(over_http) == sorted(over_socket)
    for task_id in (over_http["task_id"], over_socket["task_id"]):
        assert session.final(task_id)["state"] == "succeeded"


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
