"""The course's own exercise files load, and every exercise's solution changes something.

The format's rules, each refusing what it should, are tested with made-up exercises in
tests/unit/test_exercises_catalogue.py.
"""

from __future__ import annotations

from config import ROOT
from web.your_turn.exercises import load


def test_the_course_exercises_load():
    found = load(ROOT / "lessons" / "exercises")
    assert {e.lesson for e in found} >= set(range(1, 8))
    for exercise in found:
        assert exercise.solution() != exercise.start()
