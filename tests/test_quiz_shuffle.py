"""Each learner sees the choices in an order of their own, answers are kept by choice id, every
choice's why arrives only after answering, missed questions can be retried apart, and the
table of contents hides headings behind an unanswered prediction."""

from __future__ import annotations

import json
import re

from tests.support.learners import learner_of
from tests.support.quiz_course import ANSWERS, WRONG
from web import keys, signals
from web.classroom import rooms


def order_on_page(html: str, qid: str) -> list[str]:
    card = re.search(rf'<section class="quiz-question[^"]*" id="q-{qid}".*?</section>', html, re.S)
    return re.findall(r'<label class="choice[^"]*" data-choice="([a-z0-9]+)"', card.group(0))


def letters_on_page(html: str, qid: str) -> list[str]:
    card = re.search(rf'<section class="quiz-question[^"]*" id="q-{qid}".*?</section>', html, re.S)
    return re.findall(r'<span class="choice-key">([a-z])</span>', card.group(0))


def test_the_order_is_stable_for_a_learner_and_differs_between_learners(course_app):
    orders = []
    for _ in range(12):
        learner = course_app.test_client()
        first = learner.get("/lessons/first-steps").get_data(as_text=True)
        again = learner.get("/lessons/first-steps").get_data(as_text=True)
        assert order_on_page(first, "fx-first") == order_on_page(again, "fx-first")  # reload
        assert letters_on_page(first, "fx-first") == ["a", "b", "c"]  # letters are positions
        orders.append(tuple(order_on_page(first, "fx-first")))
    assert len(set(orders)) > 1, "twelve learners all saw one order"


# The order itself (an HMAC of learner, question and salt) is tested without a site in
# tests/unit/test_questions.py and tests/unit/test_grading.py.


def test_whys_arrive_only_after_answering_and_name_the_letters_seen(stack, visitor):
    page = visitor.get("/lessons/first-steps").get_data(as_text=True)
    assert "WHY-FIRST" not in page and "choice-whys" not in page
    seen = order_on_page(page, "fx-first")
    reply = visitor.post("/api/answers", json={"question": "fx-first", "answer": WRONG["fx-first"]})
    assert reply.status_code == 200
    body = reply.json
    assert [c["key"] for c in body["choices"]] == seen  # in the learner's order
    assert body["answer_letter"] == "abc"[seen.index(WRONG["fx-first"])]
    assert body["correct_letter"] == "abc"[seen.index(ANSWERS["fx-first"])]
    for secret in ("WHY-FIRST-A-SECRET", "WHY-FIRST-B-SECRET", "WHY-FIRST-C-SECRET"):
        assert secret in body["html"]
    assert f"the answer is <strong>{body['correct_letter']}</strong>" in body["html"]
    # Drawn again on reload, with every why.
    page = visitor.get("/lessons/first-steps").get_data(as_text=True)
    assert "WHY-FIRST-C-SECRET" in page and "WHY-SECOND" not in page


def test_answers_are_stored_and_tallied_by_choice_id_whatever_the_letters(stack, course_app):
    db = stack.redis()
    code = rooms.create(db)["code"]
    heard = []

    def listen(sender, **event):
        heard.append(event)

    signals.answer_recorded.connect(listen)
    try:
        picks = {}
        for n in range(6):
            learner = course_app.test_client()
            learner.get("/")
            choice = "abc"[n % 3]
            picks[learner_of(learner)] = choice
            assert (
                learner.post(
                    "/api/answers", json={"question": "fx-first", "answer": choice}
                ).status_code
                == 200
            )
            stored = json.loads(db.hget(keys.learner_answers(learner_of(learner)), "fx-first"))
            assert stored["answer"] == choice
    finally:
        signals.answer_recorded.disconnect(listen)
    mine = [e for e in heard if e["learner"] in picks]
    assert sorted(e["choice"] for e in mine) == sorted(picks.values())
    for e in mine:
        rooms.record_answer(db, code, e["learner"], e["question"], e["choice"])
    bank = course_app.extensions["questions"]
    tally = rooms.tallies(db, code, [bank.get("fx-first")])["fx-first"]
    assert tally["counts"] == {"a": 2, "b": 2, "c": 2}


def test_a_missed_question_can_be_retried_apart_from_the_first_answer(stack, visitor):
    visitor.get("/")
    assert (
        visitor.post(
            "/api/answers", json={"question": "fx-first", "answer": WRONG["fx-first"]}
        ).json["correct"]
        is False
    )
    assert visitor.post(
        "/api/answers", json={"question": "fx-second", "answer": ANSWERS["fx-second"]}
    ).json["correct"]
    page = visitor.get("/progress").get_data(as_text=True)
    assert 'data-retry="yes"' in page and 'id="q-fx-first"' in page
    assert 'id="q-fx-second"' not in page  # right first time: nothing to retry
    assert 'data-missed="1"' in page and 'data-right="0"' in page
    first_order = order_on_page(page, "fx-first")
    # A right first answer cannot be retried; a retry needs an answer.
    refused = visitor.post(
        "/api/answers", json={"question": "fx-second", "answer": "a", "retry": True}
    )
    assert refused.status_code == 400 and refused.json["error"] == "not_missed"
    assert (
        visitor.post("/api/answers", json={"question": "fx-first", "skip": True, "retry": True})
    ).status_code == 400
    assert (
        visitor.post("/api/answers", json={"question": "fx-first", "answer": "a", "retry": "yes"})
    ).status_code == 400
    # A wrong retry: counted apart, and the next attempt comes reshuffled (eventually differs).
    wrong_again = visitor.post(
        "/api/answers", json={"question": "fx-first", "answer": WRONG["fx-first"], "retry": True}
    )
    assert wrong_again.status_code == 200 and wrong_again.json["retry"] is True
    assert wrong_again.json["correct"] is False and "Try it again" in wrong_again.json["html"]
    orders = {tuple(first_order)}
    for _ in range(6):
        page = visitor.get("/progress").get_data(as_text=True)
        orders.add(tuple(order_on_page(page, "fx-first")))
        visitor.post(
            "/api/answers",
            json={"question": "fx-first", "answer": WRONG["fx-first"], "retry": True},
        )
    assert len(orders) > 1, "every retry showed the same order"
    right = visitor.post(
        "/api/answers", json={"question": "fx-first", "answer": ANSWERS["fx-first"], "retry": True}
    )
    assert right.status_code == 200 and right.json["correct"] is True
    assert "Right this time" in right.json["html"]
    again = visitor.post(
        "/api/answers", json={"question": "fx-first", "answer": ANSWERS["fx-first"], "retry": True}
    )
    assert again.status_code == 400 and again.json["error"] == "already_answered"
    # The first answer and its score never changed; the retry is counted on its own.
    first = json.loads(stack.redis().hget(keys.learner_answers(learner_of(visitor)), "fx-first"))
    assert first["answer"] == WRONG["fx-first"] and first["correct"] is False
    mine = visitor.get("/api/progress").json
    assert mine["lessons"][0]["predictions"]["correct"] == 1
    assert mine["retries"] == {"missed": 1, "retried": 1, "right": 1}
    # Resetting forgets retries too.
    visitor.post("/api/progress/reset", json={})
    assert not stack.redis().exists(keys.learner_retries(learner_of(visitor)))


def test_the_toc_leaves_out_headings_behind_an_unanswered_prediction(stack, visitor):
    def toc(html: str) -> str:
        return re.search(r'<nav class="toc".*?</nav>', html, re.S).group(0)

    page = visitor.get("/lessons/first-steps").get_data(as_text=True)
    assert "After the first prediction" not in toc(page)
    visitor.post("/api/answers", json={"question": "fx-first", "answer": "a"})
    page = visitor.get("/lessons/first-steps").get_data(as_text=True)
    assert "After the first prediction" in toc(page)
