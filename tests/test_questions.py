"""The real questions beside the lessons load, and the lessons place them.

The format's rules, each refusing what it should, are tested with made-up questions in
tests/unit/test_questions.py.
"""

from __future__ import annotations

import pytest

from config import ROOT
from tests.support.quiz_course import write_course
from web.lessons.experiments import EXPERIMENTS
from web.lessons.library import Library
from web.quiz.questions import Bank

REAL_QUESTIONS = ROOT / "lessons" / "questions"

# The outline's misconceptions: each must be a myth-buster question with a proof. "Decorating
# makes it background" and "a plain call runs in the background" are one myth, asked once.
OUTLINE_MYTHS = (
    "myth-plain-call-runs-in-background",
    "myth-any-object-as-argument",
    "myth-tasks-live-in-app-file",
)


def test_the_fixture_course_loads(tmp_path):
    bank = Bank(write_course(tmp_path) / "questions", EXPERIMENTS)
    assert [q.id for q in bank.myths()] == ["fx-myth"]
    assert {q.id for q in bank.all()} == {"fx-first", "fx-second", "fx-myth"}


@pytest.fixture(scope="module")
def real_bank() -> Bank:
    return Bank(REAL_QUESTIONS, EXPERIMENTS)


@pytest.fixture(scope="module")
def real_lessons():
    return Library(ROOT / "lessons").all()


def test_every_real_questions_file_loads(real_bank):
    files = sorted(p.name for p in REAL_QUESTIONS.glob("*.yaml"))
    assert "myths.yaml" in files
    assert {q.source for q in real_bank.all()} == set(files)


def test_prove_it_starts_a_real_experiment_from_the_questions_values(real_bank):
    proved = [q for q in real_bank.all() if q.prove_params]
    assert proved, "no real question sets prove_params"
    for question in proved:
        experiment = real_bank.prove_experiment(question)
        assert experiment.name == question.prove
        assert {p.name: p.default for p in experiment.params} == question.prove_params


def test_every_outline_myth_is_a_quiz_question_that_can_be_proved(real_bank):
    myths = {q.id: q for q in real_bank.myths()}
    for qid in OUTLINE_MYTHS:
        assert qid in myths, f"the outline's myth {qid} is not in myths.yaml"
    assert len(myths) > len(OUTLINE_MYTHS)  # plus the ones the lessons add
    for question in myths.values():
        assert question.prove in EXPERIMENTS
        assert question.matters


def test_every_prediction_a_lesson_places_exists_and_is_placed_once(real_bank, real_lessons):
    placed = [q for lesson in real_lessons for q in lesson.predictions]
    missing = [q for q in placed if real_bank.get(q) is None]
    assert not missing, f"[[predict]] with no question: {missing}"
    assert len(placed) == len(set(placed)), "a question is placed twice"


def test_every_lesson_has_at_least_one_graded_prediction(real_bank, real_lessons):
    without = [
        lesson.slug
        for lesson in real_lessons
        if not any(real_bank.get(q) for q in lesson.predictions)
    ]
    assert not without, f"lessons with no prediction: {without}"
