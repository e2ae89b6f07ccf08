"""web/quiz/grading.py: what an answer body may say, and what a learner is told once they
have answered, in the letters of the order they saw (first answers and retries).

Storing answers (the first counts, retries apart) needs Redis: tests/test_quiz.py and
tests/test_quiz_shuffle.py.
"""

from __future__ import annotations

import pytest

from web.errors import LabError
from web.quiz.grading import graded, lettered, parse, retry_salt
from web.quiz.questions import parse_question

CHOICES = {key: {"text": f"Choice {key}.", "why": f"Why {key}."} for key in "abcd"}


def question(qid: str, kind: str = "prediction"):
    raw = {
        "id": qid,
        "kind": kind,
        "prompt": "Which?",
        "choices": CHOICES,
        "answer": "c",
        "reveal": "Because.",
    }
    if kind == "myth":
        raw |= {"myth": "A belief.", "matters": "It matters.", "prove": "lab.show"}
    return parse_question(raw, "01.yaml", 0, 1, {"lab.show": _Experiment()})


class _Experiment:
    """Enough of an experiment for a myth's ``prove`` (it sets no parameters)."""

    params = ()

    def clean(self, params: dict) -> dict:
        return params


# A bank is anything with ``get(question id)``.
BANK = {"guess": question("guess"), "myth": question("myth", "myth")}


def body(**fields) -> dict:
    # What read_json hands the view (reading the JSON itself: tests/unit/test_errors.py).
    return fields


def test_an_answer_a_skip_and_a_retry_are_read():
    answered = parse(body(question="guess", answer="b"), BANK)
    assert (answered.question.id, answered.answer, answered.skipped, answered.retry) == (
        "guess",
        "b",
        False,
        False,
    )
    skipped = parse(body(question="guess", skip=True), BANK)
    assert (skipped.answer, skipped.skipped) == (None, True)
    retried = parse(body(question="myth", answer="a", retry=True), BANK)
    assert retried.retry is True and retried.question.kind == "myth"
    assert parse(body(question="guess", answer="a", skip=False, retry=False), BANK).answer == "a"


BAD_BODIES = [
    pytest.param(body(question="guess", answer="a", hint=1), "unknown_field", "'hint'", id="extra"),
    pytest.param(body(**{"x" * 99: 1}), "unknown_field", f"'{'x' * 40}'", id="long-field"),
    pytest.param(body(answer="a"), "unknown_question", "no question 'None'", id="no-question"),
    pytest.param(body(question=["guess"], answer="a"), "unknown_question", "", id="question-list"),
    pytest.param(
        body(question="q" * 99, answer="a"), "unknown_question", f"'{'q' * 60}'", id="unknown"
    ),
    pytest.param(body(question="guess"), "invalid_answer", "you sent 'None'", id="no-answer"),
    pytest.param(body(question="guess", answer="z"), "invalid_answer", "'z'", id="not-a-choice"),
    pytest.param(body(question="guess", answer=2), "invalid_answer", "sent '2'", id="a-number"),
    pytest.param(
        body(question="guess", answer="a" * 99), "invalid_answer", f"'{'a' * 20}'", id="long"
    ),
    pytest.param(
        body(question="guess", skip=True, answer="a"), "invalid_answer", "not both", id="both"
    ),
    pytest.param(body(question="guess", skip="yes"), "invalid_answer", "skip must be", id="skip"),
    pytest.param(body(question="guess", skip=1), "invalid_answer", "skip must be", id="skip-1"),
    pytest.param(
        body(question="myth", skip=True), "invalid_answer", "Only a prediction", id="skip-myth"
    ),
    pytest.param(
        body(question="guess", skip=True, retry=True),
        "invalid_answer",
        "A retry needs an answer",
        id="skip-a-retry",
    ),
    pytest.param(
        body(question="guess", answer="a", retry="yes"), "invalid_answer", "retry", id="retry"
    ),
    pytest.param(
        body(question="guess", answer="a", retry=1), "invalid_answer", "retry", id="retry-1"
    ),
]


@pytest.mark.parametrize(("raw", "code", "says"), BAD_BODIES)
def test_a_body_the_site_will_not_take_is_refused_with_a_code_and_a_message(raw, code, says):
    with pytest.raises(LabError) as error:
        parse(raw, BANK)
    assert error.value.code == code
    assert says in str(error.value)
    assert error.value.as_dict() == {"error": code, "message": str(error.value)}


def record(answer: str | None, **extra) -> dict:
    correct = answer == "c"
    return {"answer": answer, "correct": correct, "skipped": answer is None, "time": 1.5, **extra}


def test_the_verdict_names_the_letters_the_learner_saw():
    q = BANK["guess"]
    seen = q.shuffled("ann", "secret")
    letter = {c.key: "abcd"[i] for i, c in enumerate(seen)}
    told = graded(q, record("a"), seen)
    assert [c["key"] for c in told["choices"]] == [c.key for c in seen]
    assert [c["letter"] for c in told["choices"]] == ["a", "b", "c", "d"]
    assert (told["answer_letter"], told["correct_letter"]) == (letter["a"], letter["c"])
    assert [c["correct"] for c in told["choices"]] == [c.key == "c" for c in seen]
    assert {c["key"]: c["why"] for c in told["choices"]}["b"] == "Why b."
    assert (told["correct"], told["correct_answer"], told["retry"]) == (False, "c", False)


def test_a_verdict_after_show_me_anyway_names_no_answer():
    told = graded(BANK["guess"], record(None), BANK["guess"].shuffled("ann"))
    assert told["skipped"] is True and told["answer"] is None and told["answer_letter"] is None
    assert told["correct"] is False and told["correct_letter"] in "abcd"


def test_a_learner_is_told_the_same_letters_every_time():
    q = BANK["guess"]
    first = graded(q, record("c"), q.shuffled("ann", "secret"))
    assert graded(q, record("c"), q.shuffled("ann", "secret")) == first
    others = {
        graded(q, record("c"), q.shuffled(f"l{n}", "secret"))["correct_letter"] for n in range(40)
    }
    assert others == {"a", "b", "c", "d"}, "the right answer sits at one letter for everybody"


def test_each_retry_is_shuffled_afresh_and_its_verdict_says_it_is_a_retry():
    q = BANK["guess"]
    assert [retry_salt(n) for n in range(3)] == ["retry-1", "retry-2", "retry-3"]
    orders = {tuple(c.key for c in q.shuffled("ann", "secret", retry_salt(n))) for n in range(12)}
    assert len(orders) > 1, "every retry showed the same order"
    # Attempt n is shown again on reload in the same order: the salt is the attempt number.
    assert q.shuffled("ann", "secret", retry_salt(2)) == q.shuffled("ann", "secret", retry_salt(2))
    told = graded(q, record("c", retry=True, attempts=2), q.shuffled("ann", "s", retry_salt(1)))
    assert told["retry"] is True and told["correct"] is True


def test_lettered_pairs_each_position_with_its_letter():
    seen = BANK["guess"].shuffled("ann")
    assert [(ltr, c.key) for ltr, c in lettered(seen)] == [
        (letter, c.key) for letter, c in zip("abcd", seen, strict=True)
    ]
