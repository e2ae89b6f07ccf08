"""In-process signals that let one part of the site react to another without importing it.

``answer_recorded`` is sent by the quiz (web/quiz/grading.py) after an answer is stored, with
keyword arguments ``learner``, ``question`` (id), ``kind`` ("prediction" or "myth"), ``choice``,
``correct`` (bool) and ``at`` (Unix seconds). The classroom listens to update live tallies.
"""

from blinker import Namespace

_signals = Namespace()

answer_recorded = _signals.signal("answer-recorded")
