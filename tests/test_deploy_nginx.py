"""The deployment guide's nginx config, run in front of two web processes (docs/deploy.md).

nginx is Debian's, a child of this test with its own prefix and `daemon off`; the config is
docs/nginx.conf itself (tests/support/proxy.py). Through it: a learner's task streams back to
the page, both web processes serve, and the Origin check still refuses another site.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websocket
from playwright.sync_api import Page, expect

from launcher import commands
from tests.support.classroom_people import Instructor
from tests.support.learner_page import commit, experiment, open_lesson
from tests.support.learners import Learner
from tests.support.proxy import Nginx
from tests.support.stack import poll

PUBLIC = "https://lab.example.org"


@pytest.fixture(scope="module")
def proxied(stack):
    """nginx with the guide's config, in front of two web processes of the session's site.

    The web processes share the session's Redis, cookie key and instructor token (its var
    directory and environment), and the guide's CELERY_LAB_PUBLIC_URL: the address learners
    would use if this nginx had a certificate and a name (the test reaches it on loopback).
    """
    prefix = Path(tempfile.mkdtemp(prefix="celerylab-nginx-"))
    port = commands.free_port()
    public = {"CELERY_LAB_PUBLIC_URL": PUBLIC}
    webs = [stack.start_web(threads=32, env=public) for _ in range(2)]
    nginx = Nginx(prefix, [base.removeprefix("http://") for _, base in webs], port)
    nginx.webs = [base for _, base in webs]
    yield nginx
    nginx.stop()
    for process, _ in webs:
        process.signal(signal.SIGINT)  # gunicorn's quick shutdown: nothing is left to finish
        process.popen.wait(10)
        process.stop()
    shutil.rmtree(prefix, ignore_errors=True)


@pytest.mark.browser
def test_a_learners_task_streams_back_through_the_proxy(page: Page, proxied):
    open_lesson(page, proxied.base_url, "what-is-a-task")  # the websocket is live through nginx
    commit(page, "lesson1-direct-call", "a")
    commit(page, "lesson1-no-worker", "c")
    delay = experiment(page, "lesson1.delay")
    delay.get_by_role("button").click()
    card = page.locator(".task").first
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15000)
    for state in ("sent", "received", "started", "succeeded"):
        expect(card.locator(f'.lifecycle [data-state="{state}"]')).to_have_class(re.compile("done"))
    # Round robin spread the page's requests over both web processes.
    expected = {base.removeprefix("http://") for base in proxied.webs}
    poll(lambda: proxied.upstreams_used() >= expected, 10, message="both web processes used")


def test_the_origin_check_holds_through_the_proxy(proxied):
    learner = Learner(proxied.base_url)
    try:
        # The same site through the proxy: the browser's Origin matches the Host nginx passes.
        assert learner.post("/api/experiments/lesson1.direct", {"x": 1, "y": 2})[0] == 200
        assert learner.session().ping()[-1] == {"type": "pong"}
        for origin in ("http://evil.example", "http://127.0.0.1:1"):
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                learner.socket(origin=origin)
            assert refused.value.status_code == 403
            assert post_from(learner, origin, "/api/experiments/lesson1.direct") == 403
    finally:
        learner.close()


def post_from(learner: Learner, origin: str, path: str) -> int:
    """POST as a page from ``origin`` would (with the learner's cookie); return the status."""
    request = urllib.request.Request(
        learner.base_url + path,
        data=json.dumps({"x": 1, "y": 2}).encode(),
        headers={"Content-Type": "application/json", "Origin": origin},
    )
    try:
        with learner.opener.open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code


def test_the_instructor_signs_in_through_the_proxy_and_the_join_link_is_the_public_one(
    stack, proxied
):
    instructor = Instructor(proxied.base_url, stack.instructor_token)
    try:
        assert instructor.landed_on == proxied.base_url + "/classroom/"
        code = instructor.open_class()
        # Whichever web process answers, the link it hands out is the public address, not the
        # address this request came in on.
        for _ in range(2):
            status, body = instructor.get(f"/api/classroom/{code}")
            assert status == 200
            assert json.loads(body)["join_url"] == f"{PUBLIC}/join/{code}"
    finally:
        instructor.close()
