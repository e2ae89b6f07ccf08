"""The README's layout table matches the tree: every folder a newcomer looks for is in it, and
every path it names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import ROOT

README = ROOT / "README.md"
# A name in backquotes that reads as a path: one with a slash, or a file name with a suffix
# (not a dotted Python name like `config.limits`, nor a command like `make editor`).
PATHLIKE = re.compile(r"^(?:[\w.-]+/)+[\w.-]*$|^[\w.-]+\.[a-z]{1,4}$")


def layout_rows() -> list[tuple[list[str], list[str]]]:
    """(paths of the first column, backquoted names of the second) for each row of the table."""
    text = README.read_text()
    section = text.split("\n### Layout\n", 1)[1].split("\n#", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("path", "---"):
            continue
        rows.append((re.findall(r"`([^`]+)`", cells[0]), re.findall(r"`([^`]+)`", cells[1])))
    return rows


ROWS = layout_rows()
LISTED = {path.rstrip("/") for paths, _ in ROWS for path in paths}


def ignored_folders() -> set[str]:
    """Top-level folders .gitignore keeps out of the tree (var/, .venv/, …)."""
    lines = (ROOT / ".gitignore").read_text().splitlines()
    return {line.strip("/") for line in lines if line.endswith("/") and "/" not in line[:-1]}


def test_the_table_is_found_and_has_rows():
    assert len(ROWS) > 10, "no layout table under '### Layout' in README.md"


def test_every_top_level_folder_is_in_the_table():
    folders = {
        p.name
        for p in ROOT.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name not in ignored_folders()
    }
    assert folders, "no folders found at the top of the tree"
    assert sorted(folders - LISTED) == [], "folders missing from README.md's layout table"


def test_every_web_subpackage_has_a_row_and_every_one_below_is_named_in_its_row():
    packages = sorted(p.parent for p in (ROOT / "web").glob("*/**/__init__.py"))
    for package in packages:
        relative = package.relative_to(ROOT).as_posix()
        if package.parent == ROOT / "web":
            assert relative in LISTED, f"{relative}/ has no row in README.md's layout table"
        else:
            parent = package.parent.relative_to(ROOT).as_posix()
            named = [names for paths, names in ROWS if f"{parent}/" in paths]
            assert named and f"{package.name}/" in named[0], f"{parent}/'s row names no {relative}/"


@pytest.mark.parametrize(("paths", "names"), ROWS, ids=[", ".join(paths) for paths, _ in ROWS])
def test_every_path_a_row_names_exists(paths, names):
    for path in paths:
        assert (ROOT / path).exists(), f"the layout table names {path}, which does not exist"
    # A name in the description is a path from the row's folder, or from the top.
    folders = [ROOT / p for p in paths if (ROOT / p).is_dir()] + [ROOT]
    for name in filter(PATHLIKE.match, names):
        assert any((folder / name).exists() for folder in folders), (
            f"the layout row for {', '.join(paths)} names {name}, which is in none of "
            f"{', '.join(str(Path(f).relative_to(ROOT)) or '.' for f in folders)}"
        )
