"""Lessons are data: markdown files with front matter, rendered once per process.

A lesson file is ``NN-slug.md``::

    ---
    title: .delay() versus a direct call
    summary: One line for the course map.
    ---
    Markdown text. Directives, each alone on its line:

    [[source sandbox_tasks/timing.py:slow_task]]   the real source of that function or class
    [[source celery_app.py]]                        a whole project file
    [[experiment lesson5.delay]]                    the live sandbox for that experiment
    [[predict lesson5-direct-wait]]                 a prediction (lessons/questions/NN.yaml,
                                                    web/quiz/questions.py); the text after it
                                                    stays hidden until the learner answers

``[[source]]`` reads the project's own files at render time, so the code a lesson shows is
the code the worker runs and the two can never drift apart.
"""

from __future__ import annotations

import ast
import re
import textwrap
import threading
from dataclasses import dataclass, field
from pathlib import Path

import markdown
import yaml
from flask import Flask, current_app

from config import ROOT

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FILENAME = re.compile(r"^(\d\d)-([a-z0-9-]+)\.md$")
_DIRECTIVE = re.compile(r"^\[\[(source|experiment|predict) ([^\]\s]+)\]\]\s*$", re.M)
_EMBED = re.compile(r'<div data-embed="(experiment|predict):([^"]+)"></div>')


class LessonError(ValueError):
    """A lesson file that cannot be rendered (bad front matter, a missing source)."""


@dataclass
class Part:
    kind: str  # "html", "experiment" or "predict"
    value: str


@dataclass
class Lesson:
    number: int
    slug: str
    title: str
    summary: str
    parts: list[Part]
    toc: list[dict]
    meta: dict = field(default_factory=dict)

    @property
    def experiments(self) -> list[str]:
        return [p.value for p in self.parts if p.kind == "experiment"]

    @property
    def predictions(self) -> list[str]:
        return [p.value for p in self.parts if p.kind == "predict"]


def source_of(spec: str, root: Path = ROOT) -> tuple[str, str]:
    """Return (path, code) for ``path``, ``path:name`` or ``path:Class.method``.

    A method keeps its indentation removed, so it reads as it would on its own.
    """
    path, _, name = spec.partition(":")
    file = (root / path).resolve()
    if root.resolve() not in file.parents or not file.is_file():
        raise LessonError(f"[[source {spec}]]: no such project file")
    text = file.read_text()
    if not name:
        return path, text.rstrip("\n")
    body = ast.parse(text).body
    node = None
    for part in name.split("."):
        node = next((n for n in body if isinstance(n, _DEFINITIONS) and n.name == part), None)
        if node is None:
            raise LessonError(f"[[source {spec}]]: {path} has no {name}")
        body = node.body
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    lines = text.splitlines()[first - 1 : node.end_lineno]
    return path, textwrap.dedent("\n".join(lines))


def _expand(match: re.Match) -> str:
    kind, arg = match.groups()
    if kind == "source":
        path, code = source_of(arg)
        return f'\n<p class="source-path">{path}</p>\n\n```python\n{code}\n```\n'
    return f'\n<div data-embed="{kind}:{arg}"></div>\n'


def focusable_code(html: str) -> str:
    """Let a keyboard reach (and so scroll) each code block and table; name the code blocks."""
    return html.replace(
        '<div class="highlight">',
        '<div class="highlight" tabindex="0" role="group" aria-label="Code example">',
    ).replace("<table>", '<table tabindex="0">')


def parse(path: Path) -> Lesson:
    match = _FILENAME.match(path.name)
    if not match:
        raise LessonError(f"{path.name}: lesson files are named NN-slug.md")
    text = path.read_text()
    meta: dict = {}
    if text.startswith("---\n"):
        head, sep, body = text[4:].partition("\n---\n")
        if not sep:
            raise LessonError(f"{path.name}: front matter has no closing ---")
        try:
            meta = yaml.safe_load(head) or {}
        except yaml.YAMLError as exc:
            raise LessonError(f"{path.name}: front matter is not valid YAML: {exc}") from None
        if not isinstance(meta, dict):
            raise LessonError(f"{path.name}: front matter must be a YAML mapping (key: value)")
        text = body
    if "title" not in meta:
        raise LessonError(f"{path.name}: front matter needs a title")
    md = markdown.Markdown(
        extensions=["fenced_code", "codehilite", "tables", "toc", "attr_list", "admonition"],
        extension_configs={
            "codehilite": {"css_class": "highlight", "guess_lang": False},
            "toc": {"toc_depth": "2-3"},
        },
    )
    html = focusable_code(md.convert(_DIRECTIVE.sub(_expand, text)))
    parts: list[Part] = []
    position = 0
    for embed in _EMBED.finditer(html):
        parts.append(Part("html", html[position : embed.start()]))
        parts.append(Part(embed.group(1), embed.group(2)))
        position = embed.end()
    parts.append(Part("html", html[position:]))
    # A heading after a prediction is hidden until that prediction (and every one before it)
    # is answered; its entry in the table of contents carries those ids as "locks" so the page
    # can leave it out until then (its words could give the answer away).
    predicts = [(e.start(), e.group(2)) for e in _EMBED.finditer(html) if e.group(1) == "predict"]

    def entry(token: dict) -> dict:
        at = html.find(f'id="{token["id"]}"')
        return {
            "id": token["id"],
            "name": token["name"],
            "locks": [qid for start, qid in predicts if 0 <= start < at],
            "children": [entry(c) for c in token.get("children", [])],
        }

    toc = [entry(t) for t in md.toc_tokens]
    return Lesson(
        number=int(match.group(1)),
        slug=match.group(2),
        title=meta["title"],
        summary=meta.get("summary", ""),
        parts=parts,
        toc=toc,
        meta=meta,
    )


class Library:
    """All lessons of a directory, parsed on first use and kept for the process's life."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._lessons: list[Lesson] | None = None
        # A class arriving at once would otherwise parse every lesson once per request in
        # flight (a few hundred ms of CPU each time), all before the first page is served.
        self._parsing = threading.Lock()

    def all(self) -> list[Lesson]:
        if self._lessons is None:
            with self._parsing:
                if self._lessons is None:
                    files = sorted(self.directory.glob("[0-9][0-9]-*.md"))
                    self._lessons = [parse(f) for f in files]
        return self._lessons

    def get(self, slug: str) -> Lesson | None:
        return next((lesson for lesson in self.all() if lesson.slug == slug), None)

    def neighbours(self, lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
        lessons = self.all()
        i = lessons.index(lesson)
        return (lessons[i - 1] if i > 0 else None, lessons[i + 1] if i + 1 < len(lessons) else None)


def init_app(app: Flask) -> None:
    app.extensions["lessons"] = Library(Path(app.config["LESSONS_DIR"]))


def get_library() -> Library:
    return current_app.extensions["lessons"]
