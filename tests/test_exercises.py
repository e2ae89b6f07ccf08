"""Exercise files are checked strictly when read: a bad one names its file and exercise."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from web.your_turn.exercises import ExerciseError, load

GOOD = {
    "id": "01-x",
    "title": "T",
    "goal": "G",
    "hint": "H",
    "check": "add_on_worker",
    "files": {"tasks.py": "x = 1\n"},
    "view": "",
    "solution": {"view": "print(1)"},
}


def write(tmp_path: Path, items, name: str = "01.yaml") -> Path:
    (tmp_path / name).write_text(yaml.safe_dump(items))
    return tmp_path


def test_the_course_exercises_load():
    found = load(Path(__file__).parent.parent / "lessons" / "exercises")
    assert {e.lesson for e in found} >= set(range(1, 8))
    for exercise in found:
        assert exercise.solution() != exercise.start()


def test_a_good_file_loads_and_the_solution_keeps_unchanged_files(tmp_path):
    (exercise,) = load(write(tmp_path, [GOOD]))
    assert exercise.lesson == 1
    assert exercise.solution() == {"files": {"tasks.py": "x = 1\n"}, "view": "print(1)"}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"extra": 1}, "unknown key 'extra'"),
        ({"hint": None}, "hint must be non-empty text"),
        ({"id": "Bad Id"}, "id must be"),
        ({"check": "nope"}, "check 'nope' is not one of"),
        ({"files": {"notes.txt": ""}}, "the playground takes"),
        ({"files": {"app.py": ""}}, "files must include tasks.py"),
        ({"files": []}, "files must map file names"),
        ({"solution": "print(1)"}, "solution must be a mapping"),
        ({"solution": {"files": {"app.py": ""}}}, "the solution changes 'app.py'"),
        ({"solution": {"code": ""}}, "solution must be a mapping"),
        ({"view": 3}, "view must be text"),
    ],
)
def test_a_bad_exercise_is_refused_with_its_name(tmp_path, change, says):
    with pytest.raises(ExerciseError, match="01.yaml: exercise") as info:
        load(write(tmp_path, [{**GOOD, **change}]))
    assert says in str(info.value)


def test_missing_keys_duplicates_and_bad_files_are_refused(tmp_path):
    with pytest.raises(ExerciseError, match="missing 'goal'"):
        load(write(tmp_path, [{k: v for k, v in GOOD.items() if k != "goal"}]))
    with pytest.raises(ExerciseError, match="already used"):
        load(write(tmp_path, [GOOD, GOOD]))
    (tmp_path / "01.yaml").unlink()
    with pytest.raises(ExerciseError, match="name exercise files NN.yaml"):
        load(write(tmp_path, [GOOD], "one.yaml"))
    (tmp_path / "one.yaml").unlink()
    with pytest.raises(ExerciseError, match="a YAML list"):
        load(write(tmp_path, {"id": "x"}))
