"""Bad input to an experiment is refused on its transport, and sends nothing."""

from __future__ import annotations

from web import keys

from .learners import Learner, learner_id, transport_of


def assert_refused(learner: Learner, name: str, params, says: str, field: str | None = None):
    """Experiment ``name`` refuses ``params`` on its own transport (a 400 over HTTP, an error
    reply to the same ref on the websocket, the socket still up), saying ``says`` (about
    ``field``, if given)."""
    session = learner.session()
    reply = learner.press(name, params, session=session)
    assert reply["type"] == "error" and says in reply["message"], reply
    if transport_of(name) == "websocket":
        assert reply["ref"] == "t", reply
    if field is not None:
        assert reply["error"] == "invalid_params" and reply["field"] == field, reply
    assert session.ping()


def assert_refused_sending_nothing(stack, learner: Learner, name: str, params, says: str):
    """``assert_refused``, and the learner's task list is as long after as before."""
    who = learner_id(stack, learner, "lesson5.delay", {"seconds": 1})
    before = stack.redis().llen(keys.learner_tasks(who))
    assert_refused(learner, name, params, says)
    assert stack.redis().llen(keys.learner_tasks(who)) == before
