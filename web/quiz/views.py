"""The quiz and progress pages, and the JSON endpoints that grade answers and keep progress.

    GET  /quiz                   the myth busters, each with "Prove it" once answered
    GET  /progress               lessons read, predictions made, quiz score, reset
    POST /api/answers            {"question": id, "answer": choice id} or {"question": id,
                                 "skip": true}; add "retry": true to try a missed one again
    GET  /api/progress           the learner's progress (the home page's course map reads it)
    POST /api/progress/read      {"lesson": slug}: the learner reached the end of that lesson
    POST /api/progress/reset     forget this learner's answers and reads

Nothing sent before a question is answered carries its key: pages show prompts and choices
only (in the learner's own order, lettered by position), and a question's ``reveal``,
``answer`` and every choice's ``why`` leave the server in the answer's response.
"""

from __future__ import annotations

from flask import Blueprint, current_app, get_template_attribute, jsonify, render_template

from .. import signals
from ..errors import LabError, read_json
from ..extensions import get_redis
from ..learners import current_learner
from ..lessons.library import get_library
from . import course_progress, grading
from .questions import Choice, Question, get_bank

bp = Blueprint("quiz", __name__)


def ordered(question: Question, salt: str = "") -> tuple[Choice, ...]:
    """The choices in the current learner's own order (a retry passes its salt)."""
    return question.shuffled(current_learner(), current_app.config["SECRET_KEY"], salt)


class LessonQuiz:
    """What a page template needs about questions; asks Redis only if a template does."""

    def __init__(self):
        self._answers: dict[str, dict] | None = None

    def question(self, qid: str) -> Question | None:
        return get_bank().get(qid)

    def choices(self, qid: str, salt: str = "") -> list[tuple[str, Choice]]:
        """(letter, choice) pairs in this learner's order: what the page draws."""
        question = self.question(qid)
        return grading.lettered(ordered(question, salt)) if question else []

    def graded(self, qid: str) -> dict | None:
        """The learner's graded response to ``qid``, or None while it is unanswered."""
        if self._answers is None:
            self._answers = grading.answers(get_redis(), current_learner())
        question, record = self.question(qid), self._answers.get(qid)
        return grading.graded(question, record, ordered(question)) if question and record else None

    def locked(self, qids: list[str]) -> list[str]:
        """The predictions among ``qids`` whose following text is still hidden."""
        return [q for q in qids if self.locks(q)]

    def locks(self, qid: str) -> bool:
        """True while the text after this prediction stays hidden (it exists, unanswered)."""
        return self.question(qid) is not None and self.graded(qid) is None


@bp.app_context_processor
def inject_quiz() -> dict:
    return {"quiz": LessonQuiz()}


@bp.get("/quiz")
def quiz_page():
    bank = get_bank()
    myths = bank.myths()
    return render_template(
        "quiz.html", myths=myths, proofs={q.id: bank.prove_experiment(q) for q in myths}
    )


@bp.get("/progress")
def progress_page():
    db, learner, bank = get_redis(), current_learner(), get_bank()
    mine = course_progress.summary(db, learner, get_library().all(), bank)
    retry_cards = []
    for item in course_progress.missed(db, learner, bank):
        question = bank.get(item["question"])
        last = item["retry"]
        if last and last["correct"]:
            # Done: show the try that was right, in the order it was answered in.
            shown = ordered(question, grading.retry_salt(last["attempts"] - 1))
            answered = grading.graded(question, last, shown)
        else:
            shown = ordered(question, grading.retry_salt(last["attempts"] if last else 0))
            answered = None
        retry_cards.append((question, grading.lettered(shown), answered, last))
    return render_template("progress.html", progress=mine, retry_cards=retry_cards)


@bp.post("/api/answers")
def answer():
    bank = get_bank()
    # A bad answer is a LabError (grading.parse says what was wrong): the app's handler answers.
    submission = grading.parse(read_json(example=grading.EXAMPLE), bank)
    record = grading.submit(get_redis(), current_learner(), submission)
    question = submission.question
    if submission.retry:
        # A retry is the learner's own practice: it reaches no classroom tally.
        shown = ordered(question, grading.retry_salt(record["attempts"] - 1))
    else:
        # Listeners (a classroom's live tallies) hear about every first answer, by choice id.
        signals.answer_recorded.send(
            current_app._get_current_object(),
            learner=record["learner"],
            question=question.id,
            kind=question.kind,
            choice=record["answer"],
            correct=record["correct"],
            at=record["time"],
        )
        shown = ordered(question)
    result = grading.graded(question, record, shown)
    # The words come from the same template macro that draws an answered question on a page.
    result["html"] = str(get_template_attribute("prediction.html", "verdict")(question, result))
    return jsonify(result)


@bp.get("/api/progress")
def progress_json():
    mine = course_progress.summary(get_redis(), current_learner(), get_library().all(), get_bank())
    return jsonify(mine)


@bp.post("/api/progress/read")
def mark_read():
    example = '{"lesson": "delay-vs-direct-call"}'
    body = read_json(example=example)
    slug = body.get("lesson")
    if set(body) != {"lesson"}:
        raise LabError(f"Send a JSON object like {example}.", "bad_body")
    if not isinstance(slug, str) or get_library().get(slug) is None:
        raise LabError(f"There is no lesson {str(slug)[:60]!r}.", "unknown_lesson")
    course_progress.mark_read(get_redis(), current_learner(), slug)
    return jsonify(lesson=slug, read=True)


@bp.post("/api/progress/reset")
def reset():
    course_progress.reset(get_redis(), current_learner())
    return jsonify(reset=True)
