"""Answers are graded on the server, the first one counts, and nothing gives the key away early."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.learners import learner_of, receive_until, transport_of
from tests.support.quiz_course import ANSWERS, SECRETS, WRONG, leaked, write_course
from web import keys
from web.quiz.grading import PROGRESS_TTL_SECONDS
from web.quiz.questions import Bank


def stored(stack, client) -> dict:
    raw = stack.redis().hgetall(keys.learner_answers(learner_of(client)))
    return {qid: json.loads(record) for qid, record in raw.items()}


def answer(client, question: str, choice: str | None = None, **extra):
    body = {"question": question, **({"answer": choice} if choice else {}), **extra}
    return client.post("/api/answers", json=body)


def test_a_right_answer_is_graded_right_and_stored_with_who_what_when(stack, visitor):
    visitor.get("/")
    reply = answer(visitor, "fx-first", ANSWERS["fx-first"])
    assert reply.status_code == 200
    assert reply.json["correct"] is True and reply.json["correct_answer"] == "b"
    assert "Right" in reply.json["html"] and "REVEAL-FIRST-SECRET" in reply.json["html"]
    record = stored(stack, visitor)["fx-first"]
    assert record["learner"] == learner_of(visitor)
    assert (record["question"], record["answer"], record["correct"]) == ("fx-first", "b", True)
    assert record["skipped"] is False and record["time"] > 1.7e9
    ttl = stack.redis().ttl(keys.learner_answers(learner_of(visitor)))
    assert PROGRESS_TTL_SECONDS - 60 < ttl <= PROGRESS_TTL_SECONDS


def test_a_wrong_answer_is_graded_wrong_and_shows_the_reality_and_why_it_matters(stack, visitor):
    reply = answer(visitor, "fx-myth", WRONG["fx-myth"])
    assert reply.status_code == 200
    assert reply.json["correct"] is False and reply.json["correct_answer"] == "c"
    assert reply.json["prove"] == "lesson5.delay"
    html = reply.json["html"]
    assert "Not quite" in html and "REVEAL-MYTH-SECRET" in html and "MATTERS-MYTH-SECRET" in html
    assert stored(stack, visitor)["fx-myth"]["correct"] is False


def test_show_me_anyway_is_recorded_as_shown_never_as_right(stack, visitor):
    reply = answer(visitor, "fx-second", skip=True)
    assert reply.status_code == 200
    assert reply.json["skipped"] is True and reply.json["correct"] is False
    assert "without committing" in reply.json["html"] and "REVEAL-SECOND" in reply.json["html"]
    record = stored(stack, visitor)["fx-second"]
    assert record["skipped"] is True and record["answer"] is None


@pytest.mark.parametrize(
    "second", [{"answer": "b"}, {"answer": "a"}, {"skip": True}], ids=["same", "different", "skip"]
)
def test_the_first_answer_counts_and_a_second_is_a_400(stack, visitor, second):
    assert answer(visitor, "fx-first", "a").status_code == 200
    reply = visitor.post("/api/answers", json={"question": "fx-first", **second})
    assert reply.status_code == 400
    assert reply.json["error"] == "already_answered"
    assert "first response counts" in reply.json["message"]
    record = stored(stack, visitor)["fx-first"]
    assert (record["answer"], record["correct"]) == ("a", False)


BAD_ANSWERS = [
    pytest.param(
        b'{"question": "fx-nope", "answer": "a"}',
        "unknown_question",
        "no question",
        id="unknown-question",
    ),
    pytest.param(b'{"answer": "a"}', "unknown_question", "no question", id="no-question"),
    pytest.param(
        b'{"question": 7, "answer": "a"}', "unknown_question", "no question", id="question-not-text"
    ),
    pytest.param(
        b'{"question": "fx-first", "answer": "z"}',
        "invalid_answer",
        "must be one of this question's choices",
        id="not-a-choice",
    ),
    pytest.param(
        b'{"question": "fx-first", "answer": ["b"]}',
        "invalid_answer",
        "must be one of",
        id="answer-not-text",
    ),
    pytest.param(b'{"question": "fx-first"}', "invalid_answer", "must be one of", id="no-answer"),
    pytest.param(
        b'{"question": "fx-first", "answer": "b", "skip": true}',
        "invalid_answer",
        "not both",
        id="answer-and-skip",
    ),
    pytest.param(
        b'{"question": "fx-first", "skip": "yes"}',
        "invalid_answer",
        "skip must be true",
        id="skip-not-boolean",
    ),
    pytest.param(
        b'{"question": "fx-myth", "skip": true}',
        "invalid_answer",
        "Only a prediction",
        id="skip-a-myth",
    ),
    pytest.param(
        b'{"question": "fx-first", "answer": "b", "correct": true}',
        "unknown_field",
        "Unknown field 'correct'",
        id="extra-field",
    ),
    pytest.param(b"question=fx-first&answer=b", "bad_json", "not valid JSON", id="form-body"),
    pytest.param(b"", "bad_json", "not valid JSON", id="empty-body"),
    pytest.param(b"\xff\xfe", "bad_json", "not valid JSON", id="not-text"),
    pytest.param(b'["fx-first", "b"]', "bad_body", "JSON object", id="array-body"),
    pytest.param(b"null", "bad_body", "JSON object", id="null-body"),
]


@pytest.mark.parametrize(("body", "code", "says"), BAD_ANSWERS)
def test_a_bad_answer_is_a_clear_400_and_stores_nothing(stack, visitor, body, code, says):
    visitor.get("/")
    reply = visitor.post("/api/answers", data=body, content_type="application/json")
    assert reply.status_code == 400
    assert reply.json["error"] == code and says in reply.json["message"]
    assert not leaked(reply.get_data(as_text=True))
    assert stored(stack, visitor) == {}
    # ...and the same learner can still answer properly.
    assert answer(visitor, "fx-first", "b").status_code == 200


def test_a_body_over_the_size_limit_is_refused_as_json(stack, visitor):
    reply = visitor.post(
        "/api/answers",
        data=b'{"question": "' + b"x" * 70_000 + b'"}',
        content_type="application/json",
    )
    assert reply.status_code == 413 and reply.json["error"] == "request_entity_too_large"
    assert stored(stack, visitor) == {}


def test_an_answer_from_another_site_is_refused(stack, visitor):
    visitor.get("/")
    reply = visitor.post(
        "/api/answers",
        json={"question": "fx-first", "answer": "b"},
        headers={"Origin": "http://evil.example"},
    )
    assert reply.status_code == 403
    assert stored(stack, visitor) == {}


def scripts_of(client, html: str) -> list[str]:
    texts = []
    for src in re.findall(r'<script src="([^"]+)"', html):
        with client.get(src) as script:
            texts.append(script.get_data(as_text=True))
    return texts


def test_nothing_sent_before_answering_carries_the_answer_key(visitor):
    pages = {
        path: visitor.get(path)
        for path in ("/", "/lessons/first-steps", "/lessons/no-questions", "/quiz", "/progress")
    }
    for path, page in pages.items():
        html = page.get_data(as_text=True)
        assert page.status_code == 200, path
        assert not leaked(html), f"{path} gives away {leaked(html)}"
        for script in scripts_of(visitor, html):
            assert not any(secret in script for secret in SECRETS)
    lesson = pages["/lessons/first-steps"].get_data(as_text=True)
    assert 'value="a"' in lesson and 'value="b"' in lesson and 'value="c"' in lesson
    quiz = pages["/quiz"].get_data(as_text=True)
    assert "Decorating a function makes every call run in the background." in quiz
    progress = visitor.get("/api/progress")
    assert not leaked(progress.get_data(as_text=True))
    assert progress.json["answers"] == []
    # Answering one question opens that one only.
    answer(visitor, "fx-first", "a")
    for path in ("/lessons/first-steps", "/quiz", "/api/progress"):
        text = visitor.get(path).get_data(as_text=True)
        assert "REVEAL-SECOND-SECRET" not in text and "REVEAL-MYTH-SECRET" not in text
        assert "MATTERS-MYTH-SECRET" not in text
    assert "correct_answer" not in visitor.get("/api/progress").get_data(as_text=True)


def test_the_text_after_a_prediction_stays_hidden_until_it_is_answered(visitor):
    def after(qid: str) -> str:
        page = visitor.get("/lessons/first-steps").get_data(as_text=True)
        return re.search(
            rf'<div class="after-prediction" data-after="{qid}"( hidden)?>', page
        ).group(0)

    assert after("fx-first").endswith(" hidden>") and after("fx-second").endswith(" hidden>")
    answer(visitor, "fx-first", "b")
    assert not after("fx-first").endswith(" hidden>") and after("fx-second").endswith(" hidden>")
    page = visitor.get("/lessons/first-steps").get_data(as_text=True)
    assert "REVEAL-FIRST-SECRET" in page and "choice chosen correct" in page  # drawn answered
    answer(visitor, "fx-second", skip=True)
    assert not after("fx-second").endswith(" hidden>")


def test_a_lesson_without_questions_renders_and_hides_nothing(visitor):
    page = visitor.get("/lessons/no-questions").get_data(as_text=True)
    # No section waits behind a prediction (the task card's <template> has hidden parts of its own).
    assert "GAMMA-PLAIN" in page and "after-prediction" not in page and "data-after=" not in page


def test_a_prediction_whose_question_is_not_written_yet_is_a_notice_not_an_error(stack, tmp_path):
    from web import create_app

    lessons = write_course(tmp_path)
    (lessons / "03-unfinished.md").write_text(
        "---\ntitle: Unfinished\n---\n[[predict not-written-yet]]\n\nAfter: DELTA-AFTER.\n"
    )
    application = create_app({"TESTING": True, "LESSONS_DIR": str(lessons)})
    try:
        page = application.test_client().get("/lessons/unfinished")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "has not been written yet" in html
        assert '<div class="after-prediction" data-after="not-written-yet">' in html
    finally:
        application.extensions["hub"].stop()


def test_the_quiz_page_offers_prove_it_for_each_myth_once_answered(visitor):
    page = visitor.get("/quiz").get_data(as_text=True)
    card = page[page.index('<section class="quiz-question myth"') : page.index("</article>")]
    assert '<div class="prove" hidden>' in card
    assert 'data-experiment="lesson5.delay"' in card
    assert re.search(r'name="seconds"[^>]*value="1"', card)  # the myth's own starting value
    answer(visitor, "fx-myth", "c")
    page = visitor.get("/quiz").get_data(as_text=True)
    assert '<div class="prove">' in page and "MATTERS-MYTH-SECRET" in page


# ---- the real myths, on the real site and the real worker -----------------------------------

FINAL = ("succeeded", "failed", "rejected")


def test_every_real_myth_proves_itself_on_the_real_worker(stack, learner):
    """Press every myth's "Prove it": each experiment runs, and each task reaches an end."""
    from config import ROOT
    from web.lessons.experiments import EXPERIMENTS

    myths = Bank(ROOT / "lessons" / "questions", EXPERIMENTS).myths()
    ws = learner.socket()

    def own(experiment: str):
        return learner.session() if transport_of(experiment) == "websocket" else None

    with ThreadPoolExecutor(max_workers=len(myths)) as pool:
        replies = list(
            pool.map(
                # Each press on its transport; a socket's presses each on a socket of their own.
                lambda q: (q, learner.press(q.prove, dict(q.prove_params), session=own(q.prove))),
                myths,
            )
        )
    waiting = set()
    for question, body in replies:
        assert body["type"] == "sent", (question.id, body)
        assert body["experiment"] == question.prove
        assert body.get("explain") or body.get("show"), question.id
        if body.get("task_id"):
            waiting.add(body["task_id"])
    assert waiting, "no myth's proof sent a task"
    finished = set()

    def all_done(message: dict) -> bool:
        if message.get("type") == "task" and message.get("state") in FINAL:
            finished.add(message["task_id"])
        return waiting <= finished

    messages = receive_until(ws, all_done, timeout=60)
    workers = {
        m["fields"].get("hostname")
        for m in messages
        if m.get("type") == "task" and m.get("state") == "received"
    }
    assert any(h and h.startswith("lab@") for h in workers)  # the real worker took them
