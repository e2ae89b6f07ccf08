"""Questions are data: predictions and myths from ``lessons/questions/*.yaml``, checked strictly.

Each file is a YAML list. ``NN.yaml`` holds lesson NN's questions (a lesson places one with
``[[predict <id>]]``); ``myths.yaml`` holds the myth-buster quiz. A question::

    - id: lesson5-direct-wait          # unique across every file
      kind: prediction                 # or: myth
      prompt: "Markdown: the question."
      choices:                         # two or more; keys are stable choice ids
        a:
          text: "Markdown: the choice."
          why: "Markdown: why it is right or wrong (the page adds 'Right:'/'Wrong:')."
        b: {text: "…", why: "…"}
      answer: b                        # a key of choices; never sent before the learner answers
      reveal: |                        # markdown shown after answering
        What really happens.
      prove: lesson5.direct            # optional: the experiment that demonstrates it
      prove_params: {seconds: 2}       # optional: that experiment's starting values
      myth: "Markdown"                 # myths only (required): the belief being busted
      matters: "Markdown"              # myths only (required): why it matters

Choice ids (``a``, ``b``, …) are never shown: each learner sees the choices in an order of
their own (``order``: an HMAC of learner id and question id, so stable across reloads and
different between learners) and the letter on the page is the position. Answers are stored,
graded and tallied by choice id. Every choice's ``why`` is shown after answering (never
before), so a learner who picked a wrong choice is told what is wrong with it. Write each
distractor as a misconception real developers hold, and keep the correct choice no longer
than the others on average (tests/test_question_stats.py measures both).

A myth must name ``prove``. Anything else (an unknown key, an answer that is not a choice, a
duplicate id, ``prove`` naming no experiment, parameters the experiment refuses) is a
``QuestionError`` naming the file and the question, raised when the files are first read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from flask import Flask, current_app

from ..lessons.content import block_html, checked_mapping, inline_html, load_items
from ..lessons.experiments import EXPERIMENTS, Experiment, ExperimentError

KINDS = ("prediction", "myth")
REQUIRED = ("id", "kind", "prompt", "choices", "answer", "reveal")
OPTIONAL = ("prove", "prove_params", "myth", "matters")
MYTH_ONLY = ("myth", "matters")
_FILENAME = re.compile(r"^(?:(\d\d)|myths)\.yaml$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
_CHOICE_KEY = re.compile(r"^[a-z0-9]{1,8}$")


class QuestionError(ValueError):
    """A questions file that breaks the format; the message names the file and the question."""


@dataclass(frozen=True)
class Choice:
    key: str  # the stable id answers are stored and tallied by; never shown to a learner
    text: str
    why: str

    @cached_property
    def html(self) -> str:
        return inline_html(self.text)

    @cached_property
    def why_html(self) -> str:
        return inline_html(self.why)


def order(question_id: str, learner: str, keys: tuple[str, ...], secret: str = "", salt: str = ""):
    """The learner's own order of ``keys``: stable for (learner, question, salt), else mixed.

    Each key is ranked by an HMAC of learner, question, salt and key, so nobody can work out
    another learner's order, and a retry (a new ``salt``) reshuffles.
    """
    secret_bytes = secret.encode() or b"celery-lab"

    def rank(key: str) -> bytes:
        message = "\x1f".join((learner, question_id, salt, key)).encode()
        return hmac.new(secret_bytes, message, hashlib.sha256).digest()

    return tuple(sorted(keys, key=rank))


LETTERS = string.ascii_lowercase


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    prompt: str
    choices: tuple[Choice, ...]
    answer: str
    reveal: str
    source: str
    lesson: int | None = None
    prove: str | None = None
    prove_params: Mapping = field(default_factory=dict)
    myth: str = ""
    matters: str = ""

    @property
    def choice_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.choices)

    def choice(self, key: str) -> Choice | None:
        return next((c for c in self.choices if c.key == key), None)

    def shuffled(self, learner: str, secret: str = "", salt: str = "") -> tuple[Choice, ...]:
        """The choices in this learner's order; the letter shown is the position in it."""
        keys = order(self.id, learner, self.choice_keys, secret, salt)
        return tuple(self.choice(k) for k in keys)

    def grade(self, answer: str) -> bool:
        return answer == self.answer

    # Markdown is rendered once and kept: questions never change while a process runs.
    @cached_property
    def prompt_html(self) -> str:
        return inline_html(self.prompt)

    @cached_property
    def choices_html(self) -> tuple[tuple[str, str], ...]:
        """(choice id, html) in file order: for views (the projector) that label by id."""
        return tuple((c.key, c.html) for c in self.choices)

    @cached_property
    def myth_html(self) -> str:
        return inline_html(self.myth)

    @cached_property
    def reveal_html(self) -> str:
        return block_html(self.reveal)

    @cached_property
    def matters_html(self) -> str:
        return block_html(self.matters) if self.matters else ""


def _text(raw: dict, key: str, where: str) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise QuestionError(f"{where}: {key!r} must be non-empty text")
    return value.strip()


def _choices(raw: dict, where: str) -> tuple[Choice, ...]:
    choices = raw["choices"]
    if not isinstance(choices, dict) or len(choices) < 2:
        raise QuestionError(
            f"{where}: 'choices' must map at least two ids (a, b, …) to {{text: …, why: …}}"
        )
    if len(choices) > len(LETTERS):
        raise QuestionError(f"{where}: at most {len(LETTERS)} choices")
    cleaned = []
    for key, body in choices.items():
        # YAML reads an unquoted yes/no/on/off key as a boolean: say so instead of guessing.
        if not isinstance(key, str) or not _CHOICE_KEY.match(key):
            raise QuestionError(
                f"{where}: choice key {key!r} must be short lower-case letters "
                "or digits (quote it if YAML read it as a number or yes/no)"
            )
        if not isinstance(body, dict) or set(body) != {"text", "why"}:
            raise QuestionError(
                f"{where}: choice {key!r} must be a mapping with exactly 'text' and 'why' "
                "(the why says why this choice is right or wrong)"
            )
        for part in ("text", "why"):
            if not isinstance(body[part], str) or not body[part].strip():
                raise QuestionError(f"{where}: choice {key!r} needs non-empty {part!r}")
        cleaned.append(Choice(key, body["text"].strip(), body["why"].strip()))
    return tuple(cleaned)


def _prove_params(raw: dict, where: str, experiments: Mapping[str, Experiment]) -> dict:
    name = raw.get("prove")
    if name is None:
        if "prove_params" in raw:
            raise QuestionError(f"{where}: 'prove_params' needs 'prove'")
        return {}
    if not isinstance(name, str) or name not in experiments:
        raise QuestionError(
            f"{where}: 'prove' names no experiment: {name!r} "
            f"(known: {', '.join(sorted(experiments)) or 'none'})"
        )
    given = raw.get("prove_params", {})
    if not isinstance(given, dict):
        raise QuestionError(f"{where}: 'prove_params' must be a mapping of parameter to value")
    experiment = experiments[name]
    params = {p.name: p.default for p in experiment.params} | given
    try:
        return experiment.clean(params)
    except ExperimentError as exc:
        raise QuestionError(f"{where}: 'prove_params' for {name}: {exc}") from None


def parse_question(
    raw, source: str, index: int, lesson: int | None, experiments: Mapping[str, Experiment]
) -> Question:
    """Check one YAML item and build its Question, or raise QuestionError saying what is wrong."""
    where = checked_mapping(raw, source, index, "question", REQUIRED, OPTIONAL, QuestionError)
    qid = raw["id"]
    if not isinstance(qid, str) or not _ID.match(qid):
        raise QuestionError(f"{where}: id must be lower-case letters, digits and dashes")
    kind = raw["kind"]
    if kind not in KINDS:
        raise QuestionError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind == "myth":
        for key in (*MYTH_ONLY, "prove"):
            if key not in raw:
                raise QuestionError(f"{where}: a myth needs {key!r}")
    elif lesson is None:
        raise QuestionError(f"{where}: myths.yaml holds myths only; put predictions in NN.yaml")
    else:
        extra = [k for k in MYTH_ONLY if k in raw]
        if extra:
            raise QuestionError(f"{where}: only a myth has {extra[0]!r}")
    choices = _choices(raw, where)
    answer = raw["answer"]
    if answer not in {c.key for c in choices}:
        raise QuestionError(
            f"{where}: answer {answer!r} is not one of the choices "
            f"({', '.join(c.key for c in choices)})"
        )
    return Question(
        id=qid,
        kind=kind,
        prompt=_text(raw, "prompt", where),
        choices=choices,
        answer=answer,
        reveal=_text(raw, "reveal", where),
        source=source,
        lesson=lesson,
        prove=raw.get("prove"),
        prove_params=_prove_params(raw, where, experiments),
        myth=_text(raw, "myth", where) if kind == "myth" else "",
        matters=_text(raw, "matters", where) if kind == "myth" else "",
    )


def load(directory: Path, experiments: Mapping[str, Experiment]) -> list[Question]:
    """Read every questions file in ``directory`` (none is fine), checking ids are unique."""

    def parse(raw, source: str, index: int, name: re.Match) -> Question:
        lesson = int(name.group(1)) if name.group(1) else None
        return parse_question(raw, source, index, lesson, experiments)

    return load_items(
        directory,
        filename=_FILENAME,
        misnamed="name question files NN.yaml (lesson number) or myths.yaml",
        noun="question",
        parse=parse,
        error=QuestionError,
    )


class Bank:
    """Every question of a directory, read and checked on first use, kept for the process."""

    def __init__(self, directory: Path, experiments: Mapping[str, Experiment] = EXPERIMENTS):
        self.directory = directory
        self.experiments = experiments
        self._by_id: dict[str, Question] | None = None

    def all(self) -> list[Question]:
        if self._by_id is None:
            self._by_id = {q.id: q for q in load(self.directory, self.experiments)}
        return list(self._by_id.values())

    def get(self, qid: str) -> Question | None:
        self.all()
        return self._by_id.get(qid)

    def myths(self) -> list[Question]:
        return [q for q in self.all() if q.kind == "myth"]

    def prove_experiment(self, question: Question) -> Experiment | None:
        """The experiment behind "Prove it", its inputs starting at the question's values."""
        if question.prove is None:
            return None
        experiment = self.experiments[question.prove]
        params = tuple(
            dataclasses.replace(p, default=question.prove_params[p.name]) for p in experiment.params
        )
        return dataclasses.replace(experiment, params=params)


def init_app(app: Flask) -> None:
    directory = app.config.get("QUESTIONS_DIR") or Path(app.config["LESSONS_DIR"]) / "questions"
    app.extensions["questions"] = Bank(Path(directory))


def get_bank() -> Bank:
    return current_app.extensions["questions"]
