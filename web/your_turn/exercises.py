"""Exercises are data: ``lessons/exercises/NN.yaml``, checked strictly when first read.

Each file is a YAML list; ``NN.yaml`` holds the exercises of lesson (or chapter) NN, and each
gets a "Your turn" panel on that page. An exercise::

    - id: 01-add-on-worker            # unique; lower-case letters, digits, dots, dashes
      title: The worker adds          # short
      goal: "Markdown: one sentence, what the learner must make happen."
      hint: "Markdown: a nudge."
      check: add_on_worker            # a check in playground/exercises.py (CHECKS)
      files:                          # the starting files: tasks.py, and celery_app.py, app.py
        tasks.py: |
          ...
      view: |                         # the view's starting code (it sees ``lab_inputs``)
        ...
      solution:                       # the files it changes (others stay as they start), view
        files: {tasks.py: "..."}
        view: "..."

Anything else (an unknown key, a missing one, a file the playground cannot take, a check that
does not exist, a duplicate id) is an ``ExerciseError`` naming the file and the exercise.
The check reads only what the run really did (playground/exercises.py), never the code.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import redis
from flask import Flask, current_app

from playground.exercises import CHECKS, Trial

from .. import keys
from ..lessons.content import block_html, checked_mapping, inline_html, load_items

FILE_NAMES = ("tasks.py", "celery_app.py", "app.py")
REQUIRED = ("id", "title", "goal", "hint", "check", "files", "view", "solution")
_FILENAME = re.compile(r"^(\d\d)\.yaml$")
_ID = re.compile(r"^[a-z0-9][a-z0-9.-]{0,47}$")
MAX_TEXT = 16 * 1024
TTL = 400 * 24 * 3600  # like the other progress keys (web/keys.py)
CLASS_TTL = 30 * 24 * 3600


class ExerciseError(ValueError):
    """An exercises file that breaks the format; the message names the file and exercise."""


@dataclass(frozen=True)
class Exercise:
    id: str
    lesson: int
    title: str
    goal: str
    hint: str
    check: str
    files: dict  # name -> starting text, in FILE_NAMES order
    view: str
    solution_files: dict  # every file, the solution's or the starting one
    solution_view: str

    @cached_property
    def goal_html(self) -> str:
        return inline_html(self.goal)

    @cached_property
    def hint_html(self) -> str:
        return block_html(self.hint)

    def start(self) -> dict:
        return {"files": dict(self.files), "view": self.view}

    def solution(self) -> dict:
        return {"files": dict(self.solution_files), "view": self.solution_view}


def _text(value, what: str, where: str, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or (not empty_ok and not value.strip()):
        raise ExerciseError(f"{where}: {what} must be {'' if empty_ok else 'non-empty '}text")
    if len(value.encode()) > MAX_TEXT:
        raise ExerciseError(f"{where}: {what} is longer than {MAX_TEXT // 1024} KB")
    return value


def _files(value, what: str, where: str) -> dict:
    if not isinstance(value, dict) or not value:
        raise ExerciseError(f"{where}: {what} must map file names to their text")
    for name in value:
        if name not in FILE_NAMES:
            raise ExerciseError(
                f"{where}: {what} names {name!r}; the playground takes {', '.join(FILE_NAMES)}"
            )
    return {n: _text(value[n], f"{what}[{n!r}]", where, True) for n in FILE_NAMES if n in value}


def parse_exercise(raw, source: str, index: int, lesson: int) -> Exercise:
    """Check one YAML item and build its Exercise, or raise ExerciseError saying what is wrong."""
    where = checked_mapping(raw, source, index, "exercise", REQUIRED, (), ExerciseError)
    if not isinstance(raw["id"], str) or not _ID.match(raw["id"]):
        raise ExerciseError(f"{where}: id must be lower-case letters, digits, dots and dashes")
    if raw["check"] not in CHECKS:
        raise ExerciseError(
            f"{where}: check {raw['check']!r} is not one of {', '.join(sorted(CHECKS))}"
        )
    files = _files(raw["files"], "files", where)
    if "tasks.py" not in files:
        raise ExerciseError(f"{where}: files must include tasks.py (the worker imports it)")
    solution = raw["solution"]
    if not isinstance(solution, dict) or set(solution) - {"files", "view"} or not solution:
        raise ExerciseError(f"{where}: solution must be a mapping with files and/or view")
    changed = _files(solution.get("files", {"tasks.py": files["tasks.py"]}), "solution", where)
    extra = sorted(set(changed) - set(files))
    if extra:
        raise ExerciseError(f"{where}: the solution changes {extra[0]!r}, which does not start")
    return Exercise(
        id=raw["id"],
        lesson=lesson,
        title=_text(raw["title"], "title", where),
        goal=_text(raw["goal"], "goal", where),
        hint=_text(raw["hint"], "hint", where),
        check=raw["check"],
        files=files,
        view=_text(raw["view"], "view", where, True),
        solution_files={**files, **changed},
        solution_view=_text(solution.get("view", raw["view"]), "solution view", where, True),
    )


def load(directory: Path) -> list[Exercise]:
    """Read every exercises file in ``directory`` (none is fine), checking ids are unique."""
    return load_items(
        directory,
        filename=_FILENAME,
        misnamed="name exercise files NN.yaml (the lesson number)",
        noun="exercise",
        parse=lambda raw, source, index, name: parse_exercise(raw, source, index, int(name[1])),
        error=ExerciseError,
    )


def _field(exercise: str, part: str) -> str:
    return f"{exercise}:{part}"


class Catalogue:
    """Every exercise of a directory, read on first use; what learners did with them.

    The playground's run task finds this object in ``app.extensions["exercises"]`` and calls
    ``begin`` before a run and ``record`` after it (sandbox_tasks/playground.py).
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self._by_id: dict[str, Exercise] | None = None

    def all(self) -> list[Exercise]:
        if self._by_id is None:
            self._by_id = {e.id: e for e in load(self.directory)}
        return list(self._by_id.values())

    def get(self, exercise_id: str) -> Exercise | None:
        self.all()
        return self._by_id.get(exercise_id)

    def for_lesson(self, number: int) -> list[Exercise]:
        return [e for e in self.all() if e.lesson == number]

    # -- runs ---------------------------------------------------------------------------------
    def begin(self, exercise_id: str) -> Trial | None:
        exercise = self.get(exercise_id)
        return Trial(exercise.id, exercise.check) if exercise else None

    def record(self, db: redis.Redis, learner: str, verdict: dict) -> None:
        """Count the attempt; the first pass is the solve (noting if the solution came first)."""
        key, ex = keys.learner_exercises(learner), verdict["exercise"]
        db.hincrby(key, _field(ex, "attempts"), 1)
        if verdict["passed"] and db.hsetnx(key, _field(ex, "solved"), round(time.time(), 3)):
            if db.hexists(key, _field(ex, "solution")):
                db.hset(key, _field(ex, "after_solution"), "1")
            code = db.get(keys.learner_class(learner))
            if code:
                solved = keys.classroom(
                    code if isinstance(code, str) else code.decode(), f"solved:{ex}"
                )
                db.sadd(solved, learner)
                db.expire(solved, CLASS_TTL)
        db.expire(key, TTL)

    def mark_shown(self, db: redis.Redis, learner: str, exercise_id: str, what: str) -> None:
        """Note the first time the learner asked for the hint or the solution."""
        key = keys.learner_exercises(learner)
        db.hsetnx(key, _field(exercise_id, what), round(time.time(), 3))
        db.expire(key, TTL)

    def progress(self, db: redis.Redis, learner: str) -> dict[str, dict]:
        """Per exercise: attempts, solved, hint/solution shown, solved only after the solution."""
        raw = db.hgetall(keys.learner_exercises(learner))
        text = {(k if isinstance(k, str) else k.decode()): v for k, v in raw.items()}
        out = {}
        for e in self.all():
            out[e.id] = {
                "attempts": int(text.get(_field(e.id, "attempts"), 0)),
                "solved": _field(e.id, "solved") in text,
                "hint_shown": _field(e.id, "hint") in text,
                "solution_shown": _field(e.id, "solution") in text,
                "solution_first": _field(e.id, "after_solution") in text,
            }
        return out

    def forget(self, db: redis.Redis, learner: str) -> None:
        db.delete(keys.learner_exercises(learner))


def init_app(app: Flask) -> None:
    directory = app.config.get("EXERCISES_DIR") or Path(app.config["LESSONS_DIR"]) / "exercises"
    app.extensions["exercises"] = Catalogue(Path(directory))


def get_catalogue() -> Catalogue:
    return current_app.extensions["exercises"]
