"""web/quiz/questions.py: every rule of the questions format refuses what it should, saying
where and why; the order each learner sees; the bank and its "Prove it" experiment."""

from __future__ import annotations

import string

import pytest
import yaml

from tests.support.content_files import changed, place
from tests.support.content_files import write_yaml as write
from web.lessons.experiments.base import Experiment, IntParam
from web.quiz.questions import Bank, QuestionError, load, order, parse_question

# A made-up experiment, so these rules are tested apart from the real lessons' bounds.
EXPERIMENTS = {
    "lab.wait": Experiment(
        "lab.wait",
        "wait(seconds)",
        lambda params, lab: {},
        params=(IntParam("seconds", "Seconds", minimum=1, maximum=5, default=3),),
    ),
}

GOOD = {
    "id": "good-one",
    "kind": "prediction",
    "prompt": "Pick **one**.",
    "choices": {
        "a": {"text": "First `code`.", "why": "Wrong, *because*."},
        "b": {"text": "Second.", "why": "Right."},
    },
    "answer": "b",
    "reveal": "Because *reasons*.\n",
    "prove": "lab.wait",
    "prove_params": {"seconds": 2},
}
MYTH = {**GOOD, "kind": "myth", "myth": "A belief.", "matters": "It *matters*."}
TWO = {"a": {"text": "x", "why": "y"}, "b": {"text": "z", "why": "w"}}


def good_with(base: dict = GOOD, **changes) -> dict:
    return changed(base, **changes)


def parse(raw, lesson: int | None = 3):
    return parse_question(raw, "03.yaml", 0, lesson, EXPERIMENTS)


# ---- one question ------------------------------------------------------------------------


def test_a_good_question_keeps_its_choices_in_file_order_and_renders_its_markdown():
    question = parse(GOOD)
    assert (question.id, question.kind, question.lesson, question.source) == (
        "good-one",
        "prediction",
        3,
        "03.yaml",
    )
    assert question.choice_keys == ("a", "b") and question.choice("z") is None
    assert question.grade("b") and not question.grade("a")
    assert question.prompt_html == "Pick <strong>one</strong>."
    assert question.choices_html == (("a", "First <code>code</code>."), ("b", "Second."))
    assert question.choice("a").why_html == "Wrong, <em>because</em>."
    assert question.reveal_html == "<p>Because <em>reasons</em>.</p>"
    assert question.prove == "lab.wait" and question.prove_params == {"seconds": 2}
    assert question.myth == question.matters == question.matters_html == ""


def test_a_good_myth_keeps_what_it_busts_and_why_that_matters():
    question = parse(MYTH, lesson=None)
    assert question.kind == "myth" and question.lesson is None
    assert question.myth_html == "A belief."
    assert question.matters_html == "<p>It <em>matters</em>.</p>"


def test_text_is_kept_without_its_surrounding_white_space():
    question = parse(
        good_with(prompt="  Why?  ", choices={**TWO, "c": {"text": " c ", "why": "w"}})
    )
    assert question.prompt == "Why?" and question.choice("c").text == "c"


def test_prove_params_start_from_the_experiments_defaults():
    assert parse(good_with(prove_params=None)).prove_params == {"seconds": 3}
    assert parse(good_with(prove=None, prove_params=None)).prove_params == {}


BAD_QUESTIONS = [
    pytest.param("just text", "question #1: each question is a mapping", id="not-a-mapping"),
    pytest.param(good_with(hint="psst"), "unknown key 'hint' (allowed: id, kind,", id="unknown"),
    *(
        pytest.param(good_with(**{key: None}), f"missing {key!r}", id=f"missing-{key}")
        for key in ("id", "kind", "prompt", "choices", "answer", "reveal")
    ),
    pytest.param(good_with(id="Has Spaces"), "id must be lower-case letters", id="id-spaces"),
    pytest.param(good_with(id="-lead"), "id must be lower-case", id="id-leading-dash"),
    pytest.param(good_with(id="x" * 61), "id must be lower-case", id="id-too-long"),
    pytest.param(good_with(id=7), "question #1: id must be lower-case", id="id-a-number"),
    pytest.param(good_with(kind="riddle"), "kind must be one of prediction, myth", id="kind"),
    pytest.param(good_with(matters="x"), "only a myth has 'matters'", id="matters-on-prediction"),
    pytest.param(good_with(myth="x"), "only a myth has 'myth'", id="myth-on-prediction"),
    pytest.param(good_with(prompt="  "), "'prompt' must be non-empty text", id="empty-prompt"),
    pytest.param(good_with(prompt=3), "'prompt' must be non-empty text", id="prompt-a-number"),
    pytest.param(good_with(reveal=""), "'reveal' must be non-empty text", id="empty-reveal"),
    pytest.param(good_with(choices=["a", "b"]), "at least two ids", id="choices-a-list"),
    pytest.param(good_with(choices={"a": TWO["a"]}), "at least two ids", id="one-choice"),
    pytest.param(
        good_with(choices={k: TWO["a"] for k in string.ascii_lowercase + "z1"}),
        "at most 26 choices",
        id="too-many-choices",
    ),
    pytest.param(good_with(choices={True: TWO["a"], False: TWO["b"]}), "quote it", id="yes-no"),
    pytest.param(good_with(choices={1: TWO["a"], 2: TWO["b"]}), "quote it", id="number-keys"),
    pytest.param(good_with(choices={"A": TWO["a"], "b": TWO["b"]}), "choice key 'A'", id="upper"),
    pytest.param(good_with(choices={"abcdefghi": TWO["a"], "b": TWO["b"]}), "short", id="long-key"),
    pytest.param(
        good_with(choices={"a": "old style text", "b": TWO["b"]}),
        "choice 'a' must be a mapping with exactly 'text' and 'why'",
        id="choice-without-why",
    ),
    pytest.param(
        good_with(choices={"a": {**TWO["a"], "hint": "z"}, "b": TWO["b"]}),
        "exactly 'text' and 'why'",
        id="choice-with-unknown-key",
    ),
    pytest.param(
        good_with(choices={"a": TWO["a"], "b": {"text": "", "why": "y"}}),
        "choice 'b' needs non-empty 'text'",
        id="empty-choice-text",
    ),
    pytest.param(
        good_with(choices={"a": TWO["a"], "b": {"text": "z", "why": 4}}),
        "choice 'b' needs non-empty 'why'",
        id="why-a-number",
    ),
    pytest.param(
        good_with(choices={"a": TWO["a"], "b": {"text": "z", "why": " "}}),
        "choice 'b' needs non-empty 'why'",
        id="empty-why",
    ),
    pytest.param(
        good_with(answer="z"), "answer 'z' is not one of the choices (a, b)", id="answer-not-choice"
    ),
    pytest.param(
        good_with(prove="lesson9.nothing"),
        "'prove' names no experiment: 'lesson9.nothing' (known: lab.wait)",
        id="unknown-experiment",
    ),
    pytest.param(good_with(prove=["lab.wait"]), "'prove' names no experiment", id="prove-a-list"),
    pytest.param(
        good_with(prove=None), "'prove_params' needs 'prove'", id="prove-params-without-prove"
    ),
    pytest.param(
        good_with(prove_params=[2]),
        "'prove_params' must be a mapping of parameter to value",
        id="prove-params-a-list",
    ),
    pytest.param(
        good_with(prove_params={"seconds": 9}),
        "'prove_params' for lab.wait: Seconds must be from 1 to 5; you sent 9.",
        id="prove-params-out-of-bounds",
    ),
    pytest.param(
        good_with(prove_params={"code": "x"}),
        "'prove_params' for lab.wait: Unknown parameter 'code'",
        id="prove-params-unknown",
    ),
]


@pytest.mark.parametrize(("raw", "says"), BAD_QUESTIONS)
def test_a_question_that_breaks_a_rule_is_refused_naming_its_file_and_itself(raw, says):
    with pytest.raises(QuestionError) as error:
        parse(raw)
    assert str(error.value).startswith(place(raw, "03.yaml", "question"))
    assert says in str(error.value)


BAD_MYTHS = [
    pytest.param(good_with(MYTH, myth=None), "a myth needs 'myth'", id="no-myth"),
    pytest.param(good_with(MYTH, matters=None), "a myth needs 'matters'", id="no-matters"),
    pytest.param(
        good_with(MYTH, prove=None, prove_params=None), "a myth needs 'prove'", id="no-proof"
    ),
    pytest.param(good_with(MYTH, myth=" "), "'myth' must be non-empty text", id="empty-myth"),
    pytest.param(good_with(MYTH, matters=1), "'matters' must be non-empty", id="matters-number"),
    pytest.param(good_with(), "myths.yaml holds myths only", id="prediction-among-myths"),
]


@pytest.mark.parametrize(("raw", "says"), BAD_MYTHS)
def test_a_myth_that_breaks_a_rule_is_refused(raw, says):
    with pytest.raises(QuestionError, match="^myths.yaml: question 'good-one': ") as error:
        parse_question(raw, "myths.yaml", 0, None, EXPERIMENTS)
    assert says in str(error.value)


# ---- files -------------------------------------------------------------------------------


def test_files_are_read_in_order_with_the_lesson_from_the_name(tmp_path):
    write(tmp_path, "02.yaml", [good_with(id="second")])
    write(tmp_path, "01.yaml", [good_with(id="first")])
    write(tmp_path, "myths.yaml", [MYTH])
    write(tmp_path, ".draft.yaml", "not: [valid")  # hidden: an editor's file
    write(tmp_path, "notes.txt", "whatever")  # not YAML: passed over
    questions = load(tmp_path, EXPERIMENTS)
    assert [(q.id, q.lesson, q.source) for q in questions] == [
        ("first", 1, "01.yaml"),
        ("second", 2, "02.yaml"),
        ("good-one", None, "myths.yaml"),
    ]


def test_an_empty_file_and_a_missing_folder_hold_no_questions(tmp_path):
    assert load(write(tmp_path, "01.yaml", ""), EXPERIMENTS) == []
    assert load(tmp_path / "nowhere", EXPERIMENTS) == []


BAD_FILES = [
    pytest.param("notes.yaml", [GOOD], "name question files NN.yaml", id="bad-name"),
    pytest.param("1.yaml", [GOOD], "name question files NN.yaml", id="one-digit"),
    pytest.param("01.yml", [GOOD], "name question files NN.yaml", id="yml-not-yaml"),
    pytest.param("01.yaml", {"id": "x"}, "must be a YAML list of questions", id="not-a-list"),
    pytest.param("01.yaml", "- id: [unclosed\n", "not valid YAML", id="invalid-yaml"),
    pytest.param(
        "01.yaml",
        yaml.safe_dump([GOOD], sort_keys=False).replace(" a:\n", " yes:\n").replace(" b:", " no:"),
        "choice key True must be short lower-case letters or digits (quote it if YAML read it",
        id="yaml-reads-yes-as-true",
    ),
    pytest.param(
        "01.yaml", [GOOD, GOOD], "question id 'good-one' is already used in 01.yaml", id="twice"
    ),
]


@pytest.mark.parametrize(("name", "items", "says"), BAD_FILES)
def test_a_bad_file_is_refused_naming_it(tmp_path, name, items, says):
    with pytest.raises(QuestionError, match=f"^{name}: ") as error:
        load(write(tmp_path, name, items), EXPERIMENTS)
    assert says in str(error.value)


def test_an_id_used_in_two_files_is_refused_naming_both(tmp_path):
    write(tmp_path, "01.yaml", [GOOD])
    write(tmp_path, "02.yaml", [GOOD])
    with pytest.raises(QuestionError, match="^02.yaml: question id 'good-one' .* in 01.yaml$"):
        load(tmp_path, EXPERIMENTS)


# ---- each learner's order ----------------------------------------------------------------

KEYS = ("a", "b", "c", "d")


def test_the_order_is_a_permutation_stable_for_a_learner_and_question():
    mine = order("q1", "ann", KEYS, "secret")
    assert sorted(mine) == list(KEYS)
    assert order("q1", "ann", KEYS, "secret") == mine
    assert order("q1", "ann", tuple(reversed(KEYS)), "secret") == mine  # not the file's order


def test_the_order_differs_between_learners_questions_secrets_and_retries():
    def orders(**vary) -> set:
        made = set()
        for n in range(40):
            args = {"question_id": "q1", "learner": "ann", "secret": "s", "salt": ""}
            args.update({k: f"{v}{n}" for k, v in vary.items()})
            made.add(order(keys=KEYS, **args))
        return made

    # Of 24 orders, 40 draws that all agreed would mean the input is ignored.
    for vary in ("learner", "question_id", "secret", "salt"):
        assert len(orders(**{vary: vary})) > 5, f"the order does not depend on {vary}"


def test_a_question_shuffles_its_choices_and_an_empty_secret_still_mixes():
    question = parse(good_with(choices={k: TWO["a"] for k in KEYS}, answer="a"))
    shuffled = question.shuffled("ann", "secret", "retry-1")
    assert [c.key for c in shuffled] == list(order("good-one", "ann", KEYS, "secret", "retry-1"))
    assert {tuple(c.key for c in question.shuffled(f"l{n}")) for n in range(40)} != {KEYS}


# ---- the bank ----------------------------------------------------------------------------


def test_the_bank_reads_once_finds_by_id_and_lists_myths(tmp_path):
    bank = Bank(write(tmp_path, "myths.yaml", [MYTH]), EXPERIMENTS)
    write(tmp_path, "01.yaml", [good_with(id="later")])
    assert [q.id for q in bank.myths()] == ["good-one"]
    write(tmp_path, "02.yaml", "not: [valid")  # read already: kept for the process
    assert bank.get("later").lesson == 1 and bank.get("nothing") is None
    assert [q.id for q in bank.all()] == ["later", "good-one"]


def test_a_bank_reports_a_bad_file_when_first_asked(tmp_path):
    bank = Bank(write(tmp_path, "01.yaml", [good_with(answer="z")]), EXPERIMENTS)
    with pytest.raises(QuestionError, match="answer 'z'"):
        bank.get("good-one")


def test_prove_it_starts_from_the_questions_values_and_leaves_the_experiment_alone(tmp_path):
    bank = Bank(
        write(tmp_path, "01.yaml", [GOOD, good_with(id="no-proof", prove=None, prove_params=None)]),
        EXPERIMENTS,
    )
    experiment = bank.prove_experiment(bank.get("good-one"))
    assert experiment.name == "lab.wait"
    assert [(p.name, p.default) for p in experiment.params] == [("seconds", 2)]
    assert EXPERIMENTS["lab.wait"].params[0].default == 3
    assert bank.prove_experiment(bank.get("no-proof")) is None
