"""Bad input to an experiment is refused the same way by both transports, and sends nothing."""

from __future__ import annotations

from web import keys

from .learners import Learner, learner_id


def assert_refused(learner: Learner, name: str, params, says: str, field: str | None = None):
    """Experiment ``name`` refuses ``params`` over HTTP (a 400) and over the websocket (an error
    reply to the same ref, the socket still up), both saying ``says`` (about ``field``, if
    given)."""
    status, reply = learner.post(f"/api/experiments/{name}", params)
    assert status == 400 and says in reply["message"], reply
    session = learner.session()
    error = session.run_with(name, params, ref="r1")
    assert error["type"] == "error" and error["ref"] == "r1" and says in error["message"], error
    if field is not None:
        assert reply["error"] == "invalid_params" and reply["field"] == field, reply
        assert error["field"] == field, error
    assert session.ping()


def assert_refused_sending_nothing(stack, learner: Learner, name: str, params, says: str):
    """``assert_refused``, and the learner's task list is as long after as before."""
    who = learner_id(stack, learner, "lesson5.delay", {"seconds": 1})
    before = stack.redis().llen(keys.learner_tasks(who))
    assert_refused(learner, name, params, says)
    assert stack.redis().llen(keys.learner_tasks(who)) == before
