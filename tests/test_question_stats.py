"""No tells: over every question file (lessons 1-7, the new chapters, the myths), the correct
choice is not the longest more often than chance, answer ids are spread, and each learner's
shuffle puts the correct choice in every position about equally often."""

from __future__ import annotations

from collections import Counter

import pytest

from config import ROOT
from web.lessons.experiments import EXPERIMENTS
from web.quiz.questions import Bank

LEARNERS = [f"learner-{n}" for n in range(200)]
SECRET = "stats-test-secret"


@pytest.fixture(scope="module")
def questions():
    found = Bank(ROOT / "lessons" / "questions", EXPERIMENTS).all()
    assert len(found) >= 30
    return found


def is_longest(question) -> bool:
    right = len(question.choice(question.answer).text)
    return right >= max(len(c.text) for c in question.choices)


def test_the_correct_choice_is_not_the_longest_more_often_than_chance(questions):
    # Chance: a question with n choices has the right one longest 1/n of the time.
    expected = sum(1 / len(q.choices) for q in questions)
    longest = [q.id for q in questions if is_longest(q)]
    assert len(longest) <= expected, f"{len(longest)} > {expected:.1f}: {longest}"


def test_answer_ids_are_spread(questions):
    # The page carries choice ids as the form's values, so the ids themselves must not tell.
    counts = Counter(q.answer for q in questions)
    assert max(counts.values()) <= 0.45 * len(questions), counts
    assert len([k for k, n in counts.items() if n >= 0.2 * len(questions)]) >= 3, counts


def test_every_choice_explains_itself(questions):
    for q in questions:
        assert all(c.why.strip() for c in q.choices), q.id


def test_the_shuffle_spreads_the_correct_position_for_every_question(questions):
    overall = Counter()
    for q in questions:
        positions = Counter(
            [c.key for c in q.shuffled(who, SECRET)].index(q.answer) for who in LEARNERS
        )
        n = len(q.choices)
        # Every position is used, none far above its share (200 learners: 1/n ± a wide margin).
        assert set(positions) == set(range(n)), (q.id, positions)
        assert max(positions.values()) <= len(LEARNERS) * (1.6 / n), (q.id, positions)
        overall.update({p / (n - 1): c for p, c in positions.items()})
    firsts = overall[0.0] / sum(overall.values())
    assert 0.2 < firsts < 0.45, overall


def position_table(questions) -> list[tuple]:
    """(id, position counts a/b/c…, longest?) per question: the table the issue asks for."""
    rows = []
    for q in questions:
        spots = Counter([c.key for c in q.shuffled(w, SECRET)].index(q.answer) for w in LEARNERS)
        rows.append((q.id, [spots[i] for i in range(len(q.choices))], is_longest(q)))
    return rows
