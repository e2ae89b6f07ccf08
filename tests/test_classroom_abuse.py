"""A class under attack: codes cannot be tried for, members are capped and removable, and the
projector shows only what is true."""

from __future__ import annotations

import json

import pytest
import websocket

from tests.support.classroom_people import Instructor, join
from tests.support.learners import Learner, Session, receive_until
from web import keys

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def small_classes(own_stack):
    stack = own_stack(CELERY_LAB_MAX_FAILED_JOINS_PER_MINUTE=5, CELERY_LAB_MAX_CLASS_MEMBERS=3)
    stack.start_worker(concurrency=2)
    stack.web, stack.base_url = stack.start_web()
    return stack


@pytest.fixture
def teacher(stack):
    who = Instructor(stack.base_url, stack.instructor_token)
    yield who
    who.close()


def test_trying_codes_is_limited_and_says_nothing_about_which_exist(small_classes):
    base = small_classes.base_url
    instructor = Instructor(base, small_classes.instructor_token)
    closed = instructor.open_class()
    assert instructor.post(f"/api/classroom/{closed}/close", {})[0] == 200
    prober = Learner(base)
    try:
        # A closed class and a code that names nothing get the very same answer.
        answers = [
            prober.post("/api/classroom/join", {"code": c, "nickname": "x"})
            for c in (closed, "ZZZZZ", "YYYYY", "XXXXX", "WWWWW")
        ]
        assert {(s, json.dumps(b, sort_keys=True)) for s, b in answers} == {
            (404, json.dumps(answers[0][1], sort_keys=True))
        }
        assert answers[0][1]["error"] == "no_such_class"
        # Past the limit, this address may try no more codes this minute, with any cookie.
        other = Learner(base)
        status, body = other.post("/api/classroom/join", {"code": "VVVVV", "nickname": "x"})
        assert status == 429 and body["error"] == "join_limited", body
        other.close()
    finally:
        prober.close()
        instructor.close()


def test_a_class_takes_no_more_members_than_its_cap(small_classes):
    base = small_classes.base_url
    instructor = Instructor(base, small_classes.instructor_token)
    code = instructor.open_class()
    people = [Learner(base) for _ in range(4)]
    try:
        for i, who in enumerate(people[:3]):
            join(who, code, f"L{i}")
        status, body = people[3].post("/api/classroom/join", {"code": code, "nickname": "L3"})
        assert (status, body["error"]) == (409, "class_full")
        assert join(people[0], code, "L0-again")["nickname"] == "L0-again"  # a member may rename
        assert small_classes.redis().hlen(keys.classroom(code, "members")) == 3
    finally:
        for who in people:
            who.close()
        instructor.close()


def test_the_instructor_removes_a_member_and_the_projector_forgets_them(stack, teacher):
    code = teacher.open_class()
    projector = teacher.projector(code)
    mallory, ana = Learner(stack.base_url), Learner(stack.base_url)
    try:
        join(mallory, code, "Mallory")
        join(ana, code, "Ana")
        receive_until(projector, lambda m: m["type"] == "members" and "Mallory" in m["members"])
        # Only the instructor may remove anyone.
        remove = f"/api/classroom/{code}/members/remove"
        assert ana.post(remove, {"nickname": "Mallory"})[0] == 403
        status, body = teacher.post(remove, {"nickname": "Mallory"})
        assert status == 200, body
        receive_until(
            projector,
            lambda m: m["type"] == "members" and "Mallory" not in m["members"] and m["members"],
        )
        status, _ = teacher.post(remove, {"nickname": "Nobody"})
        assert status == 404
        assert mallory.get_json("/api/classroom/me")[1] == {"in_class": False}
        # Mallory's next task is hers alone: it never reaches the class.
        sent = mallory.press("lesson1.delay", {"x": 1, "y": 1})["task_id"]
        mine = ana.press("lesson1.delay", {"x": 2, "y": 2})["task_id"]
        seen = receive_until(
            projector,
            lambda m: (
                m["type"] == "class-tasks"
                and any(e["task_id"] == mine and e["state"] == "succeeded" for e in m["events"])
            ),
        )
        shown = {e["task_id"] for m in seen if m["type"] == "class-tasks" for e in m["events"]}
        assert sent not in shown
    finally:
        mallory.close()
        ana.close()


def test_a_replayed_cookie_of_a_learner_who_left_is_not_shown_as_the_instructor(stack, teacher):
    code = teacher.open_class()
    projector = teacher.projector(code)
    leaver, ana = Learner(stack.base_url), Learner(stack.base_url)
    try:
        join(leaver, code, "Leaver")
        join(ana, code, "Ana")
        old_cookie = leaver.cookie  # says "in class", as it did before leaving
        assert leaver.post("/api/classroom/leave", {})[0] == 200
        # The old cookie replayed on a socket of its own, as a page that kept it would press.
        ws = websocket.create_connection(
            stack.base_url.replace("http", "ws") + "/ws",
            timeout=30,
            header=[f"Cookie: {old_cookie}"],
            origin=stack.base_url,
        )
        leaver.sockets.append(ws)
        replaying = Session(ws)
        replaying.until(lambda m: m["type"] == "hello")
        replayed = replaying.run_with("lesson1.delay", {"x": 5, "y": 5})["task_id"]
        mine = ana.press("lesson1.delay", {"x": 2, "y": 2})["task_id"]
        seen = receive_until(
            projector,
            lambda m: (
                m["type"] == "class-tasks"
                and any(e["task_id"] == mine and e["state"] == "succeeded" for e in m["events"])
            ),
        )
        events = [e for m in seen if m["type"] == "class-tasks" for e in m["events"]]
        assert replayed not in {e["task_id"] for e in events}
        assert "instructor" not in {e.get("who") for e in events}
        assert not stack.redis().hexists(keys.classroom(code, "tasks"), replayed)
    finally:
        leaver.close()
        ana.close()


def test_a_deeply_nested_frame_on_the_projector_socket_gets_an_error_frame(stack, teacher):
    code = teacher.open_class()
    projector = teacher.projector(code)
    projector.send("[" * 4000)  # under the 4 KiB message limit, too deep for json
    reply = receive_until(projector, lambda m: m["type"] == "error")[-1]
    assert reply["error"] in ("bad_json", "unknown_action")
    projector.send(json.dumps({"action": "ping"}))
    receive_until(projector, lambda m: m["type"] == "pong")
