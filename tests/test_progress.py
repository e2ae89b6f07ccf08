"""Progress: what a learner has read and answered lasts, shows on the site, and can be reset."""

from __future__ import annotations

import shutil
import urllib.request

import pytest

from tests.support.learners import Learner, learner_of
from tests.support.quiz_course import ANSWERS, WRONG, leaked, write_course
from tests.support.stack import Stack
from web import keys


def lesson_row(progress: dict, slug: str) -> dict:
    return next(row for row in progress["lessons"] if row["slug"] == slug)


def test_a_new_learner_has_read_and_answered_nothing(visitor):
    progress = visitor.get("/api/progress").json
    assert [row["slug"] for row in progress["lessons"]] == ["first-steps", "no-questions"]
    first = lesson_row(progress, "first-steps")
    assert first["read"] is False
    assert first["predictions"] == {"total": 2, "answered": 0, "correct": 0, "shown": 0}
    assert lesson_row(progress, "no-questions")["predictions"]["total"] == 0
    assert progress["myths"] == {"total": 1, "answered": 0, "correct": 0, "shown": 0}
    assert progress["answers"] == []


def test_reading_and_answering_show_on_the_progress_api_and_page(visitor):
    visitor.post("/api/answers", json={"question": "fx-first", "answer": ANSWERS["fx-first"]})
    visitor.post("/api/answers", json={"question": "fx-second", "skip": True})
    visitor.post("/api/answers", json={"question": "fx-myth", "answer": WRONG["fx-myth"]})
    reply = visitor.post("/api/progress/read", json={"lesson": "first-steps"})
    assert reply.status_code == 200 and reply.json == {"lesson": "first-steps", "read": True}

    progress = visitor.get("/api/progress").json
    first = lesson_row(progress, "first-steps")
    assert first["read"] is True and first["read_at"] > 1.7e9
    assert first["predictions"] == {"total": 2, "answered": 1, "correct": 1, "shown": 1}
    assert progress["myths"] == {"total": 1, "answered": 1, "correct": 0, "shown": 0}
    assert [a["question"] for a in progress["answers"]] == ["fx-first", "fx-second", "fx-myth"]

    page = visitor.get("/progress").get_data(as_text=True)
    assert '<tr data-lesson="first-steps" data-read="yes">' in page
    assert "2 of 2 made, 1 right (1 shown without answering)" in page
    assert "0 right out of 1 answered (1 myths in all)." in page


def test_reading_a_lesson_twice_keeps_the_first_time(stack, visitor):
    visitor.post("/api/progress/read", json={"lesson": "no-questions"})
    first = visitor.get("/api/progress").json
    visitor.post("/api/progress/read", json={"lesson": "no-questions"})
    again = visitor.get("/api/progress").json
    assert (
        lesson_row(first, "no-questions")["read_at"] == lesson_row(again, "no-questions")["read_at"]
    )


BAD_READS = [
    pytest.param(b'{"lesson": "no-such-lesson"}', "unknown_lesson", id="unknown-lesson"),
    pytest.param(b'{"lesson": 5}', "unknown_lesson", id="lesson-not-text"),
    pytest.param(b"{}", "bad_body", id="no-lesson"),
    pytest.param(b'{"lesson": "first-steps", "at": 0}', "bad_body", id="extra-field"),
    pytest.param(b'["first-steps"]', "bad_body", id="array-body"),
    pytest.param(b"lesson=first-steps", "bad_json", id="not-json"),
    pytest.param(b"", "bad_json", id="empty-body"),
]


@pytest.mark.parametrize(("body", "code"), BAD_READS)
def test_a_bad_read_mark_is_a_clear_400_and_stores_nothing(stack, visitor, body, code):
    visitor.get("/")
    reply = visitor.post("/api/progress/read", data=body, content_type="application/json")
    assert reply.status_code == 400
    assert reply.json["error"] == code and reply.json["message"]
    assert not stack.redis().exists(keys.learner_read(learner_of(visitor)))


def test_the_progress_api_never_gives_an_answer_away(visitor):
    visitor.post("/api/answers", json={"question": "fx-first", "answer": "a"})
    text = visitor.get("/api/progress").get_data(as_text=True)
    assert not leaked(text)


def test_a_learner_resets_their_own_progress_and_nobody_elses(stack, course_app):
    me, other = course_app.test_client(), course_app.test_client()
    for who in (me, other):
        who.post("/api/answers", json={"question": "fx-myth", "answer": "c"})
        who.post("/api/progress/read", json={"lesson": "first-steps"})
    reply = me.post("/api/progress/reset")
    assert reply.status_code == 200 and reply.json == {"reset": True}

    mine = me.get("/api/progress").json
    assert mine["myths"]["answered"] == 0 and not lesson_row(mine, "first-steps")["read"]
    db = stack.redis()
    assert not db.exists(keys.learner_answers(learner_of(me)), keys.learner_read(learner_of(me)))
    theirs = other.get("/api/progress").json
    assert theirs["myths"]["answered"] == 1 and lesson_row(theirs, "first-steps")["read"]
    # After a reset the first answer counts again.
    assert me.post("/api/answers", json={"question": "fx-myth", "answer": "a"}).status_code == 200


def test_a_reset_from_another_site_is_refused(stack, visitor):
    visitor.post("/api/answers", json={"question": "fx-myth", "answer": "c"})
    reply = visitor.post("/api/progress/reset", headers={"Origin": "http://evil.example"})
    assert reply.status_code == 403
    assert visitor.get("/api/progress").json["myths"]["answered"] == 1


# ---- restarts -------------------------------------------------------------------------------


def start_site(lessons, data_dir=None, var_dir=None) -> Stack:
    """Redis and the web server (no worker: progress needs none), teaching the fixture course."""
    site = Stack(data_dir=data_dir, var_dir=var_dir)
    site.start_redis()
    site.web, site.base_url = site.start_web(
        threads=8, env={"CELERY_LAB_LESSONS_DIR": str(lessons)}
    )
    return site


def test_progress_survives_a_restart_of_redis_and_of_the_site(tmp_path):
    lessons = write_course(tmp_path)
    first = start_site(lessons)
    try:
        who = Learner(first.base_url)  # a browser: its cookie jar is kept across the restart
        assert who.post("/api/answers", {"question": "fx-myth", "answer": "c"})[0] == 200
        assert who.post("/api/answers", {"question": "fx-first", "answer": "a"})[0] == 200
        assert who.post("/api/progress/read", {"lesson": "no-questions"})[0] == 200
        status, before = who.get_json("/api/progress")
        assert status == 200
    finally:
        first.stop()  # web first, then Redis (which writes its append-only file as it goes)
    assert not first.redis_process.alive() and not first.web.alive()

    second = start_site(lessons, data_dir=first.data_dir, var_dir=first.var_dir)
    try:
        who.base_url = second.base_url
        status, after = who.get_json("/api/progress")
        assert (status, after) == (200, before)
        assert after["myths"]["correct"] == 1
        assert lesson_row(after, "no-questions")["read"] is True
        # The first answer still counts after the restart.
        status, reply = who.post("/api/answers", {"question": "fx-myth", "answer": "a"})
        assert status == 400 and reply["error"] == "already_answered"
        page = urllib.request.Request(second.base_url + "/progress")
        with who.opener.open(page, timeout=30) as response:
            assert '<tr data-lesson="no-questions" data-read="yes">' in response.read().decode()
    finally:
        second.stop()
        shutil.rmtree(first.dir, ignore_errors=True)
        shutil.rmtree(second.dir, ignore_errors=True)
