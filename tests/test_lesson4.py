"""Lesson 4: learner-entered arguments, the exact message that went out, and the result."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import config
from tests.support.learners import shown
from tests.support.refusals import assert_refused_sending_nothing


def wire_payload(body: dict) -> list:
    """The serialized body, as the page shows it: the last line of "On the wire"."""
    wire = next(v for label, v in shown(body).items() if label.startswith("On the wire"))
    assert 'content-type: "application/json"' in wire
    assert 'content-encoding: "utf-8"' in wire
    return json.loads(wire.rsplit("\n", 1)[-1])


@pytest.mark.parametrize(("a", "b"), [(4, 5), (-1000, 1000), (0, 7), (999, -3)])
def test_positional_arguments_travel_in_the_body_and_the_result_arrives(learner, a, b):
    session = learner.session()
    reply = session.run("lesson4.positional", a=a, b=b)
    assert reply["type"] == "sent"
    headers, body = reply["message"]["headers"], reply["message"]["body"]
    assert body[0] == [a, b] and body[1] == {}
    assert set(body[2]) == {"callbacks", "errbacks", "chain", "chord"}
    assert wire_payload(reply) == body  # what the page shows is what was captured
    assert headers["task"] == "sandbox_tasks.arguments.multiply"
    assert headers["id"] == reply["task_id"] and headers["root_id"] == reply["task_id"]
    assert headers["argsrepr"] == repr((a, b)) and headers["kwargsrepr"] == "{}"
    assert headers["retries"] == 0 and headers["eta"] is None and headers["parent_id"] is None
    assert headers["origin"].startswith("gen")  # the web process's node name
    shown_headers = shown(reply)["Headers: what the worker reads before it decodes the body"]
    assert shown_headers.splitlines()[:3] == [
        'lang: "py"',
        'task: "sandbox_tasks.arguments.multiply"',
        f'id: "{reply["task_id"]}"',
    ]
    assert (
        f'routing_key: "{config.QUEUE}"'
        in shown(reply)["On the wire: the serialized body and how it is labelled"]
    )
    done = session.final(reply["task_id"])
    assert done["state"] == "succeeded" and done["fields"]["result"] == str(a * b)


def test_keyword_arguments_travel_by_name_with_an_empty_positional_list(learner):
    session = learner.session()
    reply = session.run("lesson4.keyword", a=6, b=7)
    headers, body = reply["message"]["headers"], reply["message"]["body"]
    assert body[0] == [] and body[1] == {"a": 6, "b": 7}
    assert wire_payload(reply)[:2] == [[], {"a": 6, "b": 7}]
    assert headers["argsrepr"] == "()" and headers["kwargsrepr"] == "{'a': 6, 'b': 7}"
    assert 'kwargs: {"a": 6, "b": 7}' in shown(reply)["Body: [args, kwargs, embed]"]
    assert session.final(reply["task_id"])["fields"]["result"] == "42"


def test_one_argument_short_fails_in_the_web_process_and_nothing_is_sent(learner, stack):
    session = learner.session()
    body = learner.press("lesson4.too_few", {"a": 4})
    assert body["type"] == "sent" and body["mode"] == "direct" and "task_id" not in body
    assert shown(body)["multiply.delay(4) raised"] == (
        "TypeError: multiply() missing 1 required positional argument: 'b'"
    )
    # The next thing this learner's socket hears is the pong: no task event was ever sent.
    heard = session.ping()
    assert [m["type"] for m in heard] == ["pong"]


def test_each_capture_keeps_its_own_message_when_many_are_sent_at_once(learner):
    # Every send in the web process fires the signal; each request must show only its own.
    # One socket per press: a socket's messages are handled one after another, so only
    # separate sockets send at once in the web process (and a Session is one reader's).
    sessions = [learner.session() for _ in range(8)]

    def send(n: int) -> tuple[int, dict]:
        body = learner.press("lesson4.positional", {"a": n, "b": 10}, session=sessions[n])
        assert body["type"] == "sent"
        return n, body

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(send, range(8)))
    for n, body in outcomes:
        assert body["message"]["body"][0] == [n, 10]
        assert body["message"]["headers"]["id"] == body["task_id"]


BAD_INPUT = [
    pytest.param("lesson4.positional", {"a": 1001, "b": 1}, "from -1000 to 1000", id="big"),
    pytest.param("lesson4.positional", {"a": -1001, "b": 1}, "from -1000 to 1000", id="small"),
    pytest.param("lesson4.positional", {"a": "4", "b": "x"}, "whole number", id="word"),
    pytest.param("lesson4.positional", {"a": 4, "b": 2.5}, "whole number", id="fraction"),
    pytest.param("lesson4.positional", {"a": 4, "b": [5]}, "whole number", id="list"),
    pytest.param("lesson4.positional", {"a": 4, "b": None}, "whole number", id="null"),
    pytest.param("lesson4.positional", {"a": 4}, "missing", id="missing"),
    pytest.param("lesson4.keyword", {"a": 4, "b": 5, "c": 6}, "Unknown parameter", id="extra"),
    pytest.param("lesson4.keyword", {"a": False, "b": 5}, "whole number", id="bool"),
    pytest.param("lesson4.too_few", {"a": 4, "b": 5}, "Unknown parameter", id="not-too-few"),
    pytest.param("lesson4.too_few", "4", "JSON object", id="string-body"),
]


@pytest.mark.parametrize(("experiment", "body", "says"), BAD_INPUT)
def test_bad_arguments_are_refused_on_the_experiments_transport_and_send_nothing(
    learner, stack, experiment, body, says
):
    assert_refused_sending_nothing(stack, learner, experiment, body, says)


@pytest.mark.parametrize(("experiment", "body", "says"), BAD_INPUT)
def test_after_refusing_bad_arguments_the_socket_still_sends_good_ones(
    learner, experiment, body, says
):
    session = learner.session()
    reply = learner.press(experiment, body, session=session)
    assert reply["type"] == "error" and says in reply["message"]
    reply = session.run("lesson4.positional", a=2, b=3)
    assert reply["type"] == "sent" and reply["message"]["body"][0] == [2, 3]
