"""web/your_turn/exercises.py: every rule of the exercises format refuses what it should,
saying where and why; what a good exercise starts with and what its solution is; the catalogue.

What learners did with an exercise is kept in Redis: tests/test_playground_exercises.py.
"""

from __future__ import annotations

import pytest

from playground.exercises import CHECKS
from tests.support.content_files import changed, place
from tests.support.content_files import write_yaml as write
from web.your_turn.exercises import MAX_TEXT, Catalogue, ExerciseError, load, parse_exercise

GOOD = {
    "id": "01-x",
    "title": "The title",
    "goal": "Make *it* run.",
    "hint": "Look at `add`.",
    "check": "add_on_worker",
    "files": {"tasks.py": "x = 1\n"},
    "view": "",
    "solution": {"view": "print(1)"},
}


def good_with(**changes) -> dict:
    return changed(GOOD, **changes)


def parse(raw):
    return parse_exercise(raw, "01.yaml", 0, 1)


def test_a_good_exercise_starts_with_its_files_and_its_solution_keeps_the_others():
    exercise = parse(good_with(files={"app.py": "a\n", "tasks.py": "x = 1\n"}))
    assert (exercise.id, exercise.lesson, exercise.title, exercise.check) == (
        "01-x",
        1,
        "The title",
        "add_on_worker",
    )
    assert list(exercise.files) == ["tasks.py", "app.py"]  # the playground's order, not the file's
    assert exercise.start() == {"files": {"tasks.py": "x = 1\n", "app.py": "a\n"}, "view": ""}
    assert exercise.solution() == {
        "files": {"tasks.py": "x = 1\n", "app.py": "a\n"},
        "view": "print(1)",
    }
    assert exercise.goal_html == "Make <em>it</em> run."
    assert exercise.hint_html == "<p>Look at <code>add</code>.</p>"


def test_a_solution_may_change_files_only_and_keep_the_starting_view():
    exercise = parse(good_with(view="go()\n", solution={"files": {"tasks.py": "x = 2\n"}}))
    assert exercise.solution() == {"files": {"tasks.py": "x = 2\n"}, "view": "go()\n"}
    start = exercise.start()
    start["files"]["tasks.py"] = "changed"  # a copy: the exercise is not changed with it
    assert exercise.start()["files"]["tasks.py"] == "x = 1\n"


BAD_EXERCISES = [
    pytest.param("just text", "exercise #1: each exercise is a mapping", id="not-a-mapping"),
    pytest.param(good_with(extra=1), "unknown key 'extra' (allowed: id, title,", id="unknown"),
    *(
        pytest.param(good_with(**{key: None}), f"missing {key!r}", id=f"missing-{key}")
        for key in ("id", "title", "goal", "hint", "check", "files", "view", "solution")
    ),
    pytest.param(good_with(id="Bad Id"), "id must be lower-case letters, digits, dots", id="id"),
    pytest.param(good_with(id="x" * 49), "id must be", id="id-too-long"),
    pytest.param(good_with(id=1), "exercise #1: id must be", id="id-a-number"),
    pytest.param(good_with(check="nope"), "check 'nope' is not one of add_on_worker", id="check"),
    pytest.param(good_with(title=""), "title must be non-empty text", id="empty-title"),
    pytest.param(good_with(goal=" "), "goal must be non-empty text", id="empty-goal"),
    pytest.param(good_with(hint=["a"]), "hint must be non-empty text", id="hint-a-list"),
    pytest.param(good_with(view=3), "view must be text", id="view-a-number"),
    pytest.param(good_with(hint="h" * (MAX_TEXT + 1)), "hint is longer than 16 KB", id="too-long"),
    pytest.param(good_with(files=[]), "files must map file names to their text", id="files-list"),
    pytest.param(good_with(files={}), "files must map file names", id="no-files"),
    pytest.param(
        good_with(files={"notes.txt": ""}),
        "files names 'notes.txt'; the playground takes tasks.py, celery_app.py, app.py",
        id="unknown-file",
    ),
    pytest.param(
        good_with(files={"app.py": ""}), "files must include tasks.py (the worker", id="no-tasks"
    ),
    pytest.param(
        good_with(files={"tasks.py": 1}), "files['tasks.py'] must be text", id="file-a-number"
    ),
    pytest.param(good_with(solution="print(1)"), "solution must be a mapping", id="solution-text"),
    pytest.param(good_with(solution={}), "solution must be a mapping", id="solution-empty"),
    pytest.param(good_with(solution={"code": ""}), "solution must be a mapping", id="solution-key"),
    pytest.param(
        good_with(solution={"files": {"app.py": ""}}),
        "the solution changes 'app.py', which does not start",
        id="solution-adds-a-file",
    ),
    pytest.param(
        good_with(solution={"files": {"x.py": ""}}), "solution names 'x.py'", id="solution-file"
    ),
    pytest.param(
        good_with(solution={"view": None}), "solution view must be text", id="solution-view"
    ),
]


@pytest.mark.parametrize(("raw", "says"), BAD_EXERCISES)
def test_an_exercise_that_breaks_a_rule_is_refused_naming_its_file_and_itself(raw, says):
    with pytest.raises(ExerciseError) as error:
        parse(raw)
    assert str(error.value).startswith(place(raw, "01.yaml", "exercise"))
    assert says in str(error.value)


def test_every_check_an_exercise_may_name_is_known():
    for check in CHECKS:
        assert parse(good_with(check=check)).check == check


# ---- files -------------------------------------------------------------------------------


def test_files_are_read_in_order_each_its_lesson(tmp_path):
    write(tmp_path, "10.yaml", [good_with(id="ten")])
    write(tmp_path, "02.yaml", [good_with(id="two-a"), good_with(id="two-b")])
    write(tmp_path, ".01.yaml.swp", "not: [valid")
    found = load(tmp_path)
    assert [(e.id, e.lesson) for e in found] == [("two-a", 2), ("two-b", 2), ("ten", 10)]
    assert load(tmp_path / "nowhere") == []


BAD_FILES = [
    pytest.param("one.yaml", [GOOD], "name exercise files NN.yaml (the lesson number)", id="name"),
    pytest.param("myths.yaml", [GOOD], "name exercise files NN.yaml", id="myths-name"),
    pytest.param("01.yml", [GOOD], "name exercise files NN.yaml", id="yml"),
    pytest.param("01.yaml", {"id": "x"}, "the file must be a YAML list of exercises", id="list"),
    pytest.param("01.yaml", "- id: [unclosed\n", "not valid YAML", id="invalid-yaml"),
    pytest.param("01.yaml", [GOOD, GOOD], "exercise id '01-x' is already used in 01.yaml", id="2x"),
]


@pytest.mark.parametrize(("name", "items", "says"), BAD_FILES)
def test_a_bad_file_is_refused_naming_it(tmp_path, name, items, says):
    with pytest.raises(ExerciseError, match=f"^{name}: ") as error:
        load(write(tmp_path, name, items))
    assert says in str(error.value)


def test_an_id_used_in_two_files_is_refused_naming_both(tmp_path):
    write(tmp_path, "01.yaml", [GOOD])
    write(tmp_path, "02.yaml", [GOOD])
    with pytest.raises(ExerciseError, match="^02.yaml: exercise id '01-x' .* in 01.yaml$"):
        load(tmp_path)


# ---- the catalogue -----------------------------------------------------------------------


def test_the_catalogue_reads_once_and_finds_by_id_and_lesson(tmp_path):
    catalogue = Catalogue(write(tmp_path, "03.yaml", [GOOD, good_with(id="03-y")]))
    assert [e.id for e in catalogue.for_lesson(3)] == ["01-x", "03-y"]
    write(tmp_path, "04.yaml", "not: [valid")  # read already: kept for the process
    assert catalogue.get("03-y").lesson == 3 and catalogue.get("nothing") is None
    assert catalogue.for_lesson(4) == []


def test_a_run_of_an_exercise_begins_a_trial_with_fresh_inputs(tmp_path):
    catalogue = Catalogue(write(tmp_path, "01.yaml", [GOOD]))
    trial = catalogue.begin("01-x")
    assert trial.exercise == "01-x" and trial.check is CHECKS["add_on_worker"]
    assert set(trial.inputs) == {"x", "y"}
    assert catalogue.begin("nothing") is None


def test_a_catalogue_reports_a_bad_file_when_first_asked(tmp_path):
    catalogue = Catalogue(write(tmp_path, "01.yaml", [good_with(check="nope")]))
    with pytest.raises(ExerciseError, match="check 'nope'"):
        catalogue.all()
