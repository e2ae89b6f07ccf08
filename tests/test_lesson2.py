"""Lesson 2: the live connection to Redis and the workers, and Flask config read in a task."""

from __future__ import annotations

import json
import shutil
import socket

import pytest

from launcher import commands
from tests.support.learners import Learner, learner_id, shown
from tests.support.stack import Stack, poll
from web import keys

PASSWORD = "s3cret-broker-pw"


def connection(learner) -> dict:
    body = learner.press("lesson2.connection", {})
    assert body["type"] == "sent" and body["mode"] == "direct"
    return body


def test_the_connection_shows_the_broker_the_worker_its_pool_and_the_queue(learner, stack):
    body = connection(learner)
    show = shown(body)
    assert show["Broker (password hidden)"] == stack.url
    assert show["Queue this app sends to"] == "celery_lab"
    assert isinstance(show["Messages waiting in the queue"], int)

    name = f"lab@{socket.gethostname()}"
    assert name in body["workers"]
    pongs = show["Workers that answered celery.control.ping()"]
    pong = next(r for r in pongs if r["worker"] == name)
    assert pong["reply"] == {"ok": "pong"}
    assert 0 < pong["rtt_ms"] < 1000

    pool = next(
        p
        for p in show["Each worker's pool (celery.control.inspect().stats())"]
        if p["worker"] == name
    )
    assert pool["pid"] == stack.worker().popen.pid
    assert pool["concurrency"] == 16  # tests.support.stack starts the worker with -c 16
    assert pool["implementation"] == "worker.pool:ResizableThreadPool"
    assert "answered the ping through Redis" in body["explain"]
    assert "up to 16 at once" in body["explain"]


@pytest.fixture
def guarded_stack():
    """Its own Redis that requires a password, and a web server, but no worker (yet).

    Not conftest's ``own_stack``: that starts Redis as run.py does, with no password.
    """
    stack = Stack()
    stack.url = f"redis://:{PASSWORD}@127.0.0.1:{stack.redis_port}/0"
    stack.env["REDIS_URL"] = stack.url
    command = commands.redis_command(
        commands.find_redis_server(), stack.redis_port, stack.data_dir
    ) + ["--requirepass", PASSWORD]
    stack.redis_process = stack._start("redis", command)
    client = stack.redis()
    poll(lambda: Stack._pings(client), 10, message="the password-protected Redis to answer")
    stack.web, stack.base_url = stack.start_web()
    yield stack
    stack.stop()
    shutil.rmtree(stack.dir, ignore_errors=True)


def test_with_no_worker_nobody_answers_tasks_wait_and_a_new_worker_answers(guarded_stack):
    stack = guarded_stack
    learner = Learner(stack.base_url)
    try:
        body = connection(learner)
        # The broker URL carries a password; the learner sees it hidden, nowhere in clear.
        assert shown(body)["Broker (password hidden)"] == (
            f"redis://:***@127.0.0.1:{stack.redis_port}/0"
        )
        assert PASSWORD not in json.dumps(body)
        assert body["workers"] == [] and body["queue_depth"] == 0
        assert "No worker answered the ping" in body["explain"]

        assert learner.press("lesson1.delay", {"x": 2, "y": 3})["type"] == "sent"
        body = connection(learner)
        assert body["queue_depth"] == 1
        assert "1 message waiting" in body["explain"]

        stack.start_worker()
        body = poll(
            lambda: (b := connection(learner))["workers"] and b,
            30,
            interval=0.2,
            message="the new worker to answer the ping",
        )
        assert body["workers"] == [f"lab@{socket.gethostname()}"]
        poll(
            lambda: connection(learner)["queue_depth"] == 0,
            30,
            interval=0.2,
            message="the worker to take the waiting task",
        )
    finally:
        learner.close()


@pytest.mark.parametrize("setting", ["SITE_NAME", "ROUTE_TTL_SECONDS"])
def test_a_task_reads_the_flask_config_inside_the_worker(learner, stack, app, setting):
    session = learner.session()
    reply = session.run_with("lesson2.config", {"setting": setting}, ref=None)
    assert reply["type"] == "sent"
    task_id = reply["task_id"]
    configured = app.config[setting]
    assert shown(reply)[f"This web process's app.config[{setting!r}]"] == repr(configured)

    done = session.final(task_id)
    assert done["state"] == "succeeded" and done["fields"]["pid"] == stack.worker().popen.pid

    result = session.sync(task_id)["tasks"][0]["result"]
    assert result == {
        "setting": setting,
        "value": configured,
        "app": "web",
        "pid": stack.worker().popen.pid,
        "hostname": socket.gethostname(),
    }


def test_without_an_app_context_the_same_body_raises_flasks_real_error(learner):
    body = learner.press("lesson2.no_context", {"setting": "SITE_NAME"})
    assert body["type"] == "sent"
    assert body["error_raised"].startswith("RuntimeError: Working outside of application context.")
    assert "without FlaskTask" in body["explain"]


BAD_SETTINGS = [
    pytest.param({"setting": "SECRET_KEY"}, "Setting must be one of", id="secret-key"),
    pytest.param({"setting": "REDIS_URL"}, "Setting must be one of", id="redis-url"),
    pytest.param({"setting": "site_name"}, "Setting must be one of", id="wrong-case"),
    pytest.param({"setting": ""}, "Setting must be one of", id="empty"),
    pytest.param({"setting": 5}, "Setting must be one of", id="a-number"),
    pytest.param({"setting": ["SITE_NAME"]}, "Setting must be one of", id="a-list"),
    pytest.param({}, "Setting is missing", id="missing"),
    pytest.param({"setting": "SITE_NAME", "key": "x"}, "Unknown parameter 'key'", id="extra"),
    pytest.param("SITE_NAME", "JSON object", id="string-body"),
]


@pytest.mark.parametrize("experiment", ["lesson2.config", "lesson2.no_context"])
@pytest.mark.parametrize(("body", "says"), BAD_SETTINGS)
def test_a_bad_setting_is_a_400_that_says_why_and_nothing_is_sent(
    stack, learner, app, experiment, body, says
):
    who = learner_id(stack, learner, "lesson2.config", {"setting": "SITE_NAME"})
    before = stack.redis().llen(keys.learner_tasks(who))
    reply = learner.press(experiment, body)
    assert reply["type"] == "error" and says in reply["message"]
    assert app.config["SECRET_KEY"] not in json.dumps(reply)
    assert stack.redis().llen(keys.learner_tasks(who)) == before
    assert learner.press(experiment, {"setting": "SITE_NAME"})["type"] == "sent"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        pytest.param({"timeout": 60}, "takes: nothing", id="a-parameter"),
        pytest.param([1], "JSON object", id="array-body"),
    ],
)
def test_the_connection_check_takes_no_parameters(learner, body, says):
    reply = learner.press("lesson2.connection", body)
    assert reply["type"] == "error" and says in reply["message"]


def test_a_bad_setting_over_the_websocket_gets_an_error_and_the_socket_stays_up(learner):
    session = learner.session()
    reply = session.run_with("lesson2.config", {"setting": "INSTRUCTOR_TOKEN"}, ref=None)
    assert reply["type"] == "error" and reply["field"] == "setting"
    assert session.ping()
