"""A class on the shared site: the instructor's access, joining, the projector's live feed.

These never pause or resize the session's worker (other tests share it): the controls that
change the worker are in test_classroom_worker.py, on a stack of their own.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import pytest
import websocket

import lifecycle
from tests.support.classroom_people import Instructor, fetch, join
from tests.support.learners import Learner, receive_until
from tests.support.stack import poll
from web import keys, signals
from web.classroom import task_tally
from web.classroom.projector import CLASS_EVENT
from web.live.delivery import Key


@pytest.fixture
def ana(stack, code):
    """A learner who has joined the class as Ana."""
    who = Learner(stack.base_url)
    join(who, code, "Ana")
    yield who
    who.close()


def projector_until(ws, predicate, timeout: float = 30) -> list[dict]:
    return receive_until(ws, predicate, timeout)


def projector_until_succeeded(ws, task_id: str) -> list[dict]:
    """The projector's messages up to the one that shows ``task_id`` succeeded."""
    return projector_until(
        ws,
        lambda m: (
            m["type"] == "class-tasks"
            and any(e["task_id"] == task_id and e["state"] == "succeeded" for e in m["events"])
        ),
    )


# -- the instructor's access -----------------------------------------------------------------
def test_the_printed_link_signs_the_instructor_in_and_strips_the_token(stack, instructor):
    assert instructor.landed_on == stack.base_url + "/classroom/"
    assert stack.instructor_token not in instructor.cookie
    status, page = instructor.get("/classroom/")
    assert status == 200 and b"Open a new class" in page


def test_a_wrong_token_signs_nobody_in(stack):
    stranger = Instructor(stack.base_url, "not-the-token")
    try:
        assert stranger.landed_on is None
        assert stranger.get("/classroom/")[0] == 403
    finally:
        stranger.close()


def test_a_script_may_use_the_token_as_a_bearer_header(stack):
    import urllib.request

    request = urllib.request.Request(
        stack.base_url + "/api/classroom/classes",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Bearer {stack.instructor_token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        assert len(json.loads(response.read())["code"]) == 5


INSTRUCTOR_ROUTES = [
    ("GET", "/classroom/"),
    ("GET", "/classroom/{code}"),
    ("GET", "/classroom/{code}/qr.svg"),
    ("GET", "/classroom/{code}/results.csv"),
    ("GET", "/classroom/{code}/exercises.json"),
    ("GET", "/api/classroom/{code}"),
    ("POST", "/api/classroom/classes"),
    ("POST", "/api/classroom/{code}/close"),
    ("POST", "/api/classroom/{code}/lesson"),
    ("POST", "/api/classroom/{code}/reveal"),
    ("POST", "/api/classroom/{code}/pause"),
    ("POST", "/api/classroom/{code}/resume"),
    ("POST", "/api/classroom/{code}/pool"),
    ("POST", "/api/classroom/{code}/burst"),
    ("POST", "/api/classroom/{code}/purge"),
    ("POST", "/api/classroom/{code}/members/remove"),
]
VALID_BODIES = {
    "lesson": {"lesson": "delay-vs-direct-call"},
    "reveal": {"question": "lesson5-direct-wait", "shown": True},
    "pool": {"size": 1},
    "burst": {"count": 5, "seconds": 1},
    "purge": {"confirm": True},
}


@pytest.mark.parametrize(
    ("method", "path"), INSTRUCTOR_ROUTES, ids=[f"{m} {p}" for m, p in INSTRUCTOR_ROUTES]
)
def test_a_learner_is_refused_every_instructor_route(stack, learner, code, method, path):
    db = stack.redis()
    before = (db.zcard(keys.classes()), db.hgetall(keys.classroom(code)), db.llen("celery_lab"))
    url = path.format(code=code)
    if method == "GET":
        status, body = fetch(learner, url)
        assert status == 403
        assert code.encode() not in body and b"learner" not in body.lower()
    else:
        status, body = learner.post(url, VALID_BODIES.get(url.rsplit("/", 1)[-1], {}))
        assert status == 403 and body["error"] == "forbidden"
    assert (
        db.zcard(keys.classes()),
        db.hgetall(keys.classroom(code)),
        db.llen("celery_lab"),
    ) == before


def test_every_instructor_route_is_in_that_list(app):
    learner_routes = {
        "/join",
        "/join/<code>",
        "/api/classroom/join",
        "/api/classroom/leave",
        "/api/classroom/me",
        "/classroom/instructor",
        "/classroom/sign-out",  # anyone may drop their own instructor cookie
        "/classroom/<code>/ws",
    }
    found = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/classroom", "/api/classroom", "/join"))
    }
    listed = {p.replace("{code}", "<code>") for _, p in INSTRUCTOR_ROUTES}
    assert found - learner_routes == listed


SOCKET_ACTIONS = [
    "snapshot",
    "pause",
    "resume",
    "pool",
    "burst",
    "purge",
    "reveal",
    "lesson",
    "close",
]


@pytest.mark.parametrize("action", SOCKET_ACTIONS)
def test_a_learner_cannot_open_the_projector_socket(stack, learner, code, action):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(
            f"{stack.base_url.replace('http', 'ws')}/classroom/{code}/ws",
            timeout=30,
            header=[f"Cookie: {learner.cookie}"],
            origin=stack.base_url,
        )
    assert refused.value.status_code == 403
    # Nor can they ask for an instructor action over their own socket.
    ws = learner.socket()
    ws.send(json.dumps({"action": action, "code": code, "count": 5}))
    reply = receive_until(ws, lambda m: m["type"] in ("error", "pong", "sent"), timeout=10)[-1]
    assert reply["error"] == "unknown_action"


# -- joining ---------------------------------------------------------------------------------
def test_a_learner_joins_with_the_code_and_a_nickname(stack, learner, code, instructor):
    ws = instructor.projector(code)
    me = join(learner, code.lower(), "  Ana  ")
    assert len(me.pop("rejoin")) == 14  # the key to come back with (test_classroom_rejoin.py)
    assert me == {
        "in_class": True,
        "code": code,
        "nickname": "Ana",
        "lesson": None,
        "title": None,
        "url": None,
    }
    names = projector_until(ws, lambda m: m["type"] == "members")[-1]
    assert names["members"] == ["Ana"]


BAD_JOINS = [
    pytest.param({"code": "", "nickname": "Ana"}, 400, "letters and digits", id="no-code"),
    pytest.param({"code": "ABC", "nickname": "Ana"}, 400, "letters and digits", id="short-code"),
    pytest.param({"code": "ABCDEFGH", "nickname": "Ana"}, 400, "letters and digits", id="long"),
    pytest.param({"code": "ZZZZ0", "nickname": "Ana"}, 400, "letters and digits", id="zero"),
    pytest.param({"code": 12345, "nickname": "Ana"}, 400, "letters and digits", id="number"),
    pytest.param({"code": "ZZZZZ", "nickname": "Ana"}, 404, "no open class", id="unknown"),
    pytest.param({"code": "{code}", "nickname": ""}, 400, "Choose a nickname", id="no-name"),
    pytest.param({"code": "{code}", "nickname": "x" * 25}, 400, "at most 24", id="long-name"),
    pytest.param({"code": "{code}", "nickname": "<script>"}, 400, "letters", id="markup"),
    pytest.param({"code": "{code}", "nickname": "=1+1"}, 400, "letters", id="formula"),
    pytest.param({"code": "{code}", "nickname": ["Ana"]}, 400, "Choose", id="list-name"),
]


@pytest.mark.parametrize(("body", "status", "says"), BAD_JOINS)
def test_a_bad_join_says_why_and_joins_nothing(stack, learner, code, body, status, says):
    body = {k: v.format(code=code) if isinstance(v, str) else v for k, v in body.items()}
    got, reply = learner.post("/api/classroom/join", body)
    assert (got, says in reply["message"]) == (status, True), reply
    assert stack.redis().hlen(keys.classroom(code, "members")) == 0


def test_a_nickname_is_taken_once_per_class_and_a_closed_class_takes_nobody(
    stack, code, instructor
):
    ana, other = Learner(stack.base_url), Learner(stack.base_url)
    try:
        join(ana, code, "Ana")
        assert join(ana, code, "Ana")["nickname"] == "Ana"  # joining again is fine
        status, reply = other.post("/api/classroom/join", {"code": code, "nickname": "ANA"})
        assert status == 409 and "already" in reply["message"]
        assert instructor.post(f"/api/classroom/{code}/close", {})[0] == 200
        status, reply = other.post("/api/classroom/join", {"code": code, "nickname": "Bo"})
        # The same answer as for a code that names nothing: codes cannot be tried for classes.
        assert (status, reply["error"]) == (404, "no_such_class"), reply
        assert ana.post("/api/classroom/leave", {})[1] == {"in_class": False}
    finally:
        ana.close()
        other.close()


# -- the projector's live feed ---------------------------------------------------------------
def test_a_learners_task_shows_on_the_projector_with_their_nickname(code, instructor, ana):
    projector = instructor.projector(code)
    task_id = ana.session().start("lesson5.delay", seconds=1)
    seen = projector_until_succeeded(projector, task_id)
    events = [e for m in seen if m["type"] == "class-tasks" for e in m["events"]]
    assert {e["who"] for e in events} == {"Ana"}
    # Each state once (events from the web and the worker may arrive in either order).
    assert sorted(e["state"] for e in events if e["state"] != "progress") == [
        "received",
        "sent",
        "started",
        "succeeded",
    ]
    counters = poll(
        lambda: (c := instructor_state(instructor, code)["counters"])["succeeded"] == 1 and c,
        10,
        message="the counters",
    )
    assert (counters["sent"], counters["waiting"], counters["running"]) == (1, 0, 0)


def instructor_state(instructor, code: str) -> dict:
    status, body = instructor.get(f"/api/classroom/{code}")
    assert status == 200
    return json.loads(body)


def test_learners_never_see_each_others_events_or_nicknames(stack, code, instructor):
    ana, bo = Learner(stack.base_url), Learner(stack.base_url)
    try:
        join(ana, code, "Ana")
        join(bo, code, "Bo")
        ana_ws, bo_ws = ana.session(), bo.session()
        mine = ana_ws.start("lesson5.delay", seconds=1)
        theirs = bo_ws.start("lesson5.delay", seconds=1)
        bo_ws.events(theirs, until=("succeeded",))
        ana_ws.events(mine, until=("succeeded",))
        # Everything Bo's socket received, from before his own reply on.
        assert bo_ws.task_ids() == {theirs}
        assert "Ana" not in json.dumps(bo_ws.seen)
        status, me = bo.post("/api/classroom/join", {"code": code, "nickname": "Bo"})
        assert "Ana" not in json.dumps(me)
    finally:
        ana.close()
        bo.close()


def test_follow_along_reaches_the_learners_socket(code, instructor, ana):
    ws = ana.socket()
    status, _ = instructor.post(f"/api/classroom/{code}/lesson", {"lesson": "delay-vs-direct-call"})
    assert status == 200
    notice = receive_until(ws, lambda m: m["type"] == "classroom")[-1]
    assert notice["what"] == "lesson" and notice["url"] == "/lessons/delay-vs-direct-call"
    assert json.loads(fetch(ana, "/api/classroom/me")[1])["lesson"] == ("delay-vs-direct-call")


def test_a_lesson_moved_while_projectors_open_reaches_every_one(code, instructor):
    # The instructor picks a lesson the moment the projector page loads, its socket still
    # opening (several screens at once, so the snapshots take a while). Whether the change
    # lands before a projector's snapshot or after, every screen must end on the lesson
    # picked: a change is never lost in between. The hello is still each socket's first message.
    lessons = itertools.cycle(["what-is-a-task", "delay-vs-direct-call"])
    for _ in range(10):
        wanted = next(lessons)
        with ThreadPoolExecutor(8) as pool:
            opening = [pool.submit(instructor.projector, code, False) for _ in range(8)]
            wait(opening, return_when=FIRST_COMPLETED)
            status, _ = instructor.post(f"/api/classroom/{code}/lesson", {"lesson": wanted})
            assert status == 200
            screens = [each.result() for each in opening]
        for ws in screens:
            assert_screen_ends_on(ws, wanted)
            ws.close()
            instructor.sockets.remove(ws)


class Screen:
    """Stands in for a projector's socket in this process: what the hub asked it to send."""

    def __init__(self, code: str):
        self.key = Key.classroom(code)
        self.sent: list[dict] = []

    def send(self, message: dict) -> bool:
        self.sent.append(message)
        return True


def test_a_notice_for_a_class_that_is_gone_does_not_drop_another_class_s_change(app, code):
    """The projector takes its events in batches: one it cannot handle (a class that ended
    long ago) is logged, and the rest of the batch still reaches its screens."""
    hub, projector = app.extensions["hub"], app.extensions["projector"]
    screen = Screen(code)
    hub.connect(screen)
    try:
        projector.handle(
            [
                ({"type": CLASS_EVENT, "code": "GONE99", "what": "lesson"}, None),
                ({"type": CLASS_EVENT, "code": code, "what": "lesson"}, None),
            ]
        )
    finally:
        hub.disconnect(screen)
    assert [m["type"] for m in screen.sent] == ["class"]
    assert screen.sent[0]["class"]["code"] == code


def assert_screen_ends_on(ws, lesson: str) -> None:
    """The projector's messages start with the hello and, in time, show ``lesson``."""
    shown = {}

    def shows_lesson(message):
        if not shown:
            assert message["type"] == "hello", message
        if message["type"] in ("hello", "class"):
            shown["lesson"] = message["class"]["lesson"]
        return shown.get("lesson") == lesson

    receive_until(ws, shows_lesson, timeout=10)


def test_the_answer_is_revealed_only_when_the_instructor_chooses(stack, code, instructor):
    projector = instructor.projector(code)
    question = next(q for q in instructor.snapshot["questions"] if q["id"] == "lesson5-direct-wait")
    assert question["answer"] is None and question["revealed"] is False
    status, shown = instructor.post(
        f"/api/classroom/{code}/reveal", {"question": "lesson5-direct-wait", "shown": True}
    )
    assert status == 200 and shown["answer"] == "b"
    pushed = projector_until(projector, lambda m: m["type"] == "tally")[-1]["question"]
    assert (pushed["id"], pushed["revealed"], pushed["answer"]) == (
        "lesson5-direct-wait",
        True,
        "b",
    )


BAD_CONTROLS = [
    pytest.param("pool", {"size": 0}, "from 1 to 128", id="pool-zero"),
    pytest.param("pool", {"size": 1000}, "from 1 to 128", id="pool-huge"),
    pytest.param("pool", {"size": "8"}, "whole number", id="pool-text"),
    pytest.param("pool", {"size": True}, "whole number", id="pool-bool"),
    pytest.param("pool", {}, "whole number", id="pool-missing"),
    pytest.param("burst", {"count": 0}, "count must be", id="burst-zero"),
    pytest.param("burst", {"count": 100000}, "count must be", id="burst-huge"),
    pytest.param("burst", {"count": 5, "seconds": 60}, "seconds must be", id="burst-long"),
    pytest.param("burst", {"count": 2.5}, "count must be", id="burst-fraction"),
    pytest.param("purge", {}, "confirm", id="purge-unconfirmed"),
    pytest.param("purge", {"confirm": "yes"}, "confirm", id="purge-not-true"),
    pytest.param("lesson", {"lesson": "no-such-lesson"}, "no lesson", id="lesson-unknown"),
    pytest.param("reveal", {"question": "nope"}, "no question", id="reveal-unknown"),
    pytest.param(
        "reveal",
        {"question": "lesson5-direct-wait", "shown": "yes"},
        "true or false",
        id="reveal-not-bool",
    ),
    pytest.param("pool", b"not json", "JSON object", id="not-json"),
]


@pytest.mark.parametrize(("action", "body", "says"), BAD_CONTROLS)
def test_a_bad_control_says_why_and_changes_nothing(stack, instructor, code, action, body, says):
    db = stack.redis()
    before = (
        db.llen("celery_lab"),
        db.hgetall(keys.classroom(code)),
        db.smembers(keys.classroom(code, "revealed")),
    )
    status, reply = instructor.post(f"/api/classroom/{code}/{action}", body)
    assert status == 400 and says in reply["message"], reply
    assert (
        db.llen("celery_lab"),
        db.hgetall(keys.classroom(code)),
        db.smembers(keys.classroom(code, "revealed")),
    ) == before


def test_a_control_on_an_unknown_class_is_a_404(instructor):
    status, reply = instructor.post("/api/classroom/ZZZZZ/pause", {})
    assert status == 404 and "no class" in reply["message"]


def test_the_results_export_has_a_row_per_learner(code, instructor, ana):
    projector = instructor.projector(code)
    task_id = ana.session().start("lesson5.delay", seconds=1)
    projector_until_succeeded(projector, task_id)
    status, body = instructor.get(f"/classroom/{code}/results.csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert status == 200 and len(rows) == 1
    assert (rows[0]["nickname"], rows[0]["tasks_sent"]) == ("Ana", "1")
    poll(
        lambda: csv_row(instructor, code)["tasks_succeeded"] == "1",
        10,
        message="the export to count the success",
    )


def csv_row(instructor, code: str) -> dict:
    return next(
        csv.DictReader(io.StringIO(instructor.get(f"/classroom/{code}/results.csv")[1].decode()))
    )


def test_two_web_processes_count_each_event_once_and_share_class_changes(stack, code, instructor):
    # Events reach every web process; a projector on one and a learner on another still see
    # one task counted once, and a reveal on one process reaches a projector on the other.
    _, other_base = stack.start_web()
    ana = Learner(other_base)
    watcher = Instructor(other_base, stack.instructor_token)
    try:
        join(ana, code, "Ana")
        projector = watcher.projector(code)
        task_id = ana.session().start("lesson5.delay", seconds=1)
        projector_until_succeeded(projector, task_id)
        counters = instructor_state(instructor, code)["counters"]
        assert (counters["sent"], counters["succeeded"], counters["running"]) == (1, 1, 0)
        status, _ = instructor.post(
            f"/api/classroom/{code}/reveal", {"question": "lesson5-direct-wait"}
        )
        assert status == 200
        pushed = projector_until(projector, lambda m: m["type"] == "tally")[-1]["question"]
        assert pushed["revealed"] is True
    finally:
        ana.close()
        watcher.close()


def test_an_answer_recorded_in_any_web_process_moves_the_projectors_tally(
    stack, app, code, instructor, ana
):
    # The quiz announces a stored answer with signals.answer_recorded; here an in-process app
    # plays that web process, and the projector is served by the session's gunicorn.
    (learner_id,) = stack.redis().hkeys(keys.classroom(code, "members"))
    projector = instructor.projector(code)
    with app.test_request_context():
        signals.answer_recorded.send(
            app,
            learner=learner_id,
            question="lesson5-direct-wait",
            kind="prediction",
            choice="c",
            correct=False,
            at=time.time(),
        )
    pushed = projector_until(projector, lambda m: m["type"] == "tally")[-1]["question"]
    assert (pushed["id"], pushed["tally"]["counts"], pushed["answer"]) == (
        "lesson5-direct-wait",
        {"a": 0, "b": 0, "c": 1},
        None,
    )
    with app.test_request_context():  # someone in no class: no tally moves
        signals.answer_recorded.send(
            app,
            learner="0" * 32,
            question="lesson5-direct-wait",
            kind="prediction",
            choice="a",
            correct=False,
            at=time.time(),
        )
    assert stack.redis().hlen(keys.classroom(code, "answers:lesson5-direct-wait")) == 1


def test_a_learners_answer_moves_the_class_tally(code, instructor, ana):
    projector = instructor.projector(code)
    status, reply = ana.post("/api/answers", {"question": "lesson5-direct-wait", "answer": "a"})
    assert status == 200, reply
    pushed = projector_until(projector, lambda m: m["type"] == "tally", timeout=10)[-1]["question"]
    assert pushed["id"] == "lesson5-direct-wait"
    assert pushed["tally"]["counts"]["a"] == 1 and pushed["tally"]["total"] == 1
    assert pushed["answer"] is None  # not revealed yet


def test_the_class_tally_script_moves_tasks_by_the_lifecycles_rule(stack):
    """The generated Lua, run by the real Redis, agrees with lifecycle.advances on every pair."""
    pairs = list(itertools.product([None, *lifecycle.STATES], lifecycle.STATES))
    script = lifecycle.LUA + (
        "local out = {}\n"
        "for i = 1, #ARGV, 2 do\n"
        "  local old = ARGV[i]\n"
        "  if old == '' then old = false end\n"
        "  out[#out + 1] = lifecycle_advances(old, ARGV[i + 1]) and 1 or 0\n"
        "end\n"
        "return out\n"
    )
    args = [a for old, new in pairs for a in (old or "", new)]
    moved = stack.redis().eval(script, 0, *args)
    assert [bool(m) for m in moved] == [lifecycle.advances(old, new) for old, new in pairs]


def test_the_class_tally_counts_a_retried_task_once_and_ignores_late_events(stack):
    db = stack.redis()
    code = "LIFECYCLE1"
    db.hset(keys.classroom(code), "status", "open")
    recorder = task_tally.Recorder(db)
    sequence = ["received", "sent", "started", "sent", "retry", "received", "started", "succeeded"]
    for at, state in enumerate(sequence):
        message = {"task_id": "t1", "state": state, "timestamp": at, "fields": {}}
        assert recorder.record(code, message, "learner-1", "Ana")
    late = {"task_id": "t1", "state": "started", "timestamp": 99, "fields": {}}
    recorder.record(code, late, "learner-1", "Ana")
    counted = task_tally.counters(db, code)
    assert counted["sent"] == 1
    assert counted["retried"] == 1
    assert counted["succeeded"] == 1
    assert counted["running"] == counted["waiting"] == counted["retrying"] == 0
    assert db.hget(keys.classroom(code, "tasks"), "t1") == "succeeded"
