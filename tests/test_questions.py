"""Questions are data beside the lessons, and a file that breaks the format says where and why."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from config import ROOT
from tests.support.quiz_course import write_course
from web.lessons.experiments import EXPERIMENTS
from web.lessons.library import Library
from web.quiz.questions import Bank, QuestionError, load

REAL_QUESTIONS = ROOT / "lessons" / "questions"

GOOD = """
- id: good-one
  kind: prediction
  prompt: "Pick **one**."
  choices:
    a: {text: "First `code`.", why: "Wrong, *because*."}
    b: {text: "Second.", why: "Right."}
  answer: b
  reveal: |
    Because *reasons*.
  prove: lesson5.delay
  prove_params: {seconds: 2}
"""

# The outline's misconceptions: each must be a myth-buster question with a proof. "Decorating
# makes it background" and "a plain call runs in the background" are one myth, asked once.
OUTLINE_MYTHS = (
    "myth-plain-call-runs-in-background",
    "myth-any-object-as-argument",
    "myth-tasks-live-in-app-file",
)


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(textwrap.dedent(text))
    return directory


def test_a_good_file_loads_with_its_choices_in_order_and_its_markdown_rendered(tmp_path):
    [question] = load(write(tmp_path, "03.yaml", GOOD), EXPERIMENTS)
    assert question.id == "good-one" and question.kind == "prediction" and question.lesson == 3
    assert question.choice_keys == ("a", "b")
    assert question.grade("b") and not question.grade("a")
    assert question.prompt_html == "Pick <strong>one</strong>."
    assert dict(question.choices_html)["a"] == "First <code>code</code>."
    assert question.choice("a").why_html == "Wrong, <em>because</em>."
    assert "<em>reasons</em>" in question.reveal_html
    assert question.prove == "lesson5.delay" and question.prove_params == {"seconds": 2}


def test_prove_it_starts_from_the_questions_values_and_the_experiments_other_defaults(tmp_path):
    bank = Bank(write(tmp_path, "03.yaml", GOOD), EXPERIMENTS)
    experiment = bank.prove_experiment(bank.get("good-one"))
    assert experiment.name == "lesson5.delay"
    assert [(p.name, p.default) for p in experiment.params] == [("seconds", 2)]
    assert EXPERIMENTS["lesson5.delay"].params[0].default != 2  # the original is untouched


def test_a_missing_questions_directory_is_an_empty_bank(tmp_path):
    bank = Bank(tmp_path / "nowhere", EXPERIMENTS)
    assert bank.all() == [] and bank.myths() == [] and bank.get("anything") is None


def test_the_fixture_course_loads(tmp_path):
    bank = Bank(write_course(tmp_path) / "questions", EXPERIMENTS)
    assert [q.id for q in bank.myths()] == ["fx-myth"]
    assert {q.id for q in bank.all()} == {"fx-first", "fx-second", "fx-myth"}


def good_with(**changes) -> str:
    """GOOD as YAML with some keys replaced (None removes a key)."""
    import yaml

    [item] = yaml.safe_load(GOOD)
    for key, value in changes.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value
    return yaml.safe_dump([item], sort_keys=False)


MYTH = dict(kind="myth", myth="A belief.", matters="It matters.")

BAD_FILES = [
    pytest.param("01.yaml", good_with(hint="psst"), "unknown key 'hint'", id="unknown-key"),
    pytest.param(
        "01.yaml",
        good_with(answer="z"),
        "answer 'z' is not one of the choices",
        id="answer-not-a-choice",
    ),
    pytest.param(
        "01.yaml",
        good_with(prove="lesson9.nothing"),
        "'prove' names no experiment",
        id="unknown-experiment",
    ),
    pytest.param(
        "01.yaml",
        good_with(prove_params={"seconds": 99}),
        "from 1 to 30",
        id="prove-params-out-of-bounds",
    ),
    pytest.param(
        "01.yaml",
        good_with(prove_params={"code": "x"}),
        "Unknown parameter",
        id="prove-params-unknown",
    ),
    pytest.param(
        "01.yaml",
        good_with(prove=None),
        "'prove_params' needs 'prove'",
        id="prove-params-without-prove",
    ),
    pytest.param("01.yaml", good_with(reveal=None), "missing 'reveal'", id="missing-reveal"),
    pytest.param(
        "01.yaml", good_with(reveal="  "), "'reveal' must be non-empty text", id="empty-reveal"
    ),
    pytest.param("01.yaml", good_with(kind="riddle"), "kind must be one of", id="unknown-kind"),
    pytest.param("01.yaml", good_with(id="Has Spaces"), "id must be lower-case", id="bad-id"),
    pytest.param(
        "01.yaml",
        good_with(choices={"a": {"text": "only", "why": "one"}}),
        "at least two",
        id="one-choice",
    ),
    pytest.param("01.yaml", good_with(choices=["a", "b"]), "at least two", id="choices-list"),
    pytest.param(
        "01.yaml",
        good_with(choices={"a": {"text": "x", "why": "y"}, "b": {"text": "", "why": "y"}}),
        "choice 'b' needs non-empty 'text'",
        id="empty-choice",
    ),
    pytest.param(
        "01.yaml",
        good_with(choices={"a": {"text": "x", "why": "y"}, "b": {"text": "z", "why": " "}}),
        "choice 'b' needs non-empty 'why'",
        id="empty-why",
    ),
    pytest.param(
        "01.yaml",
        good_with(choices={"a": "old style text", "b": "another"}),
        "exactly 'text' and 'why'",
        id="choice-without-why",
    ),
    pytest.param(
        "01.yaml",
        good_with(
            choices={"a": {"text": "x", "why": "y", "hint": "z"}, "b": {"text": "z", "why": "y"}}
        ),
        "exactly 'text' and 'why'",
        id="choice-with-unknown-key",
    ),
    pytest.param(
        "01.yaml",
        GOOD.replace("    a: ", "    yes: ").replace("    b: ", "    no: "),
        "quote it",
        id="yaml-boolean-choice-keys",
    ),
    pytest.param(
        "01.yaml", good_with(matters="x"), "only a myth has 'matters'", id="matters-on-a-prediction"
    ),
    pytest.param(
        "myths.yaml", good_with(), "myths.yaml holds myths only", id="prediction-in-myths-file"
    ),
    pytest.param(
        "myths.yaml",
        good_with(**MYTH, prove=None, prove_params=None),
        "a myth needs 'prove'",
        id="myth-without-proof",
    ),
    pytest.param(
        "myths.yaml",
        good_with(**{**MYTH, "matters": None}),
        "a myth needs 'matters'",
        id="myth-without-why-it-matters",
    ),
    pytest.param("01.yaml", "id: not-a-list\n", "must be a YAML list", id="not-a-list"),
    pytest.param(
        "01.yaml", "- just a string\n", "each question is a mapping", id="item-not-a-mapping"
    ),
    pytest.param("01.yaml", "- id: [unclosed\n", "not valid YAML", id="invalid-yaml"),
    pytest.param("notes.yaml", GOOD, "name question files NN.yaml", id="bad-file-name"),
    pytest.param(
        "01.yaml", GOOD + GOOD, "'good-one' is already used in 01.yaml", id="duplicate-id-in-a-file"
    ),
]


@pytest.mark.parametrize(("name", "text", "says"), BAD_FILES)
def test_a_bad_questions_file_is_refused_with_a_clear_message(tmp_path, name, text, says):
    write(tmp_path, name, text)
    with pytest.raises(QuestionError) as error:
        load(tmp_path, EXPERIMENTS)
    assert says in str(error.value)
    assert name in str(error.value)  # it names the file to fix


def test_an_id_used_in_two_files_is_refused(tmp_path):
    write(tmp_path, "01.yaml", GOOD)
    write(tmp_path, "02.yaml", GOOD)
    with pytest.raises(QuestionError, match="'good-one' is already used in 01.yaml"):
        load(tmp_path, EXPERIMENTS)


def test_a_bank_reports_a_bad_file_when_first_asked(tmp_path):
    bank = Bank(write(tmp_path, "01.yaml", good_with(answer="z")), EXPERIMENTS)
    with pytest.raises(QuestionError):
        bank.get("good-one")


# ---- the real questions, as the lesson writers and this quiz have them ----------------------


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
