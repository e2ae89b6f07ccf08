"""The words scripts show come from site/templates/_words.html: every key they ask for is there."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask, render_template

from config import ROOT

JS = ROOT / "site" / "static" / "js"
SCRIPTS = sorted(JS.glob("*.js")) + sorted((JS / "lib").glob("*.js"))


def all_words() -> dict[str, dict[str, str]]:
    app = Flask(__name__, template_folder=str(ROOT / "site" / "templates"))
    groups = re.findall(r'"(\w+)": \{', (ROOT / "site/templates/_words.html").read_text())
    with app.test_request_context():
        html = render_template("_words.html", script_words=groups)
    raw = re.search(r'<script type="application/json" id="lab-words">(.*)</script>', html)
    return json.loads(raw.group(1))


WORDS = all_words()


def asked_for(source: str) -> list[tuple[str, str]]:
    """(group, key) for each literal key a script passes to its `say` (or to say.count)."""
    found = []
    for name, group in re.findall(r"const (\w+) = words\(\"(\w+)\"\)", source):
        found += [(group, key) for key in re.findall(rf'\b{name}\("(\w+)"', source)]
        found += [(group, f"{key}_{n}") for key in re.findall(rf'\b{name}\.count\("(\w+)"', source)
                  for n in ("one", "other")]  # fmt: skip
    # words("conn") handed straight to a helper that asks for these two.
    if 'words("conn")' in source:
        found += [("conn", "live"), ("conn", "reconnecting")]
    return found


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_key_a_script_asks_for_is_written(script):
    asked = asked_for(script.read_text())
    missing = [(g, k) for g, k in asked if k not in WORDS.get(g, {})]
    assert not missing


def test_the_scripts_ask_for_their_words_by_key():
    asked = {pair for script in SCRIPTS for pair in asked_for(script.read_text())}
    assert len(asked) > 100  # the check above reads real keys, not nothing


def test_a_page_gets_only_the_groups_it_names():
    app = Flask(__name__, template_folder=str(ROOT / "site" / "templates"))
    with app.test_request_context():
        html = render_template("_words.html", script_words=["lab"])
    raw = re.search(r'<script type="application/json" id="lab-words">(.*)</script>', html)
    assert set(json.loads(raw.group(1))) == {"http", "quiz", "class_bar", "lab"}
