"""Content written beside the lessons: YAML lists of items, with markdown in their fields.

The questions (``lessons/questions/``, web/quiz/questions.py) and the Your turn exercises
(``lessons/exercises/``, web/your_turn/exercises.py) are both a folder of YAML lists, one file
a lesson, checked strictly when first read. This module reads such a folder, checks what the
two formats share (file names, YAML, a list of mappings, known keys, unique ids) and renders
their markdown, so both say the same things the same way; each format checks its own fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import markdown
import yaml

from .library import focusable_code

Item = TypeVar("Item")

# libyaml's loader where PyYAML has it (the wheels do): the questions and exercises are ~100 KB
# of YAML, 0.23 s to read in pure Python and a tenth of that in C, the same values either way.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def block_html(text: str) -> str:
    """Markdown as HTML blocks (paragraphs, highlighted code, admonitions)."""
    return focusable_code(
        markdown.markdown(
            text,
            extensions=["fenced_code", "codehilite", "admonition"],
            extension_configs={"codehilite": {"css_class": "highlight", "guess_lang": False}},
        )
    )


def inline_html(text: str) -> str:
    """Markdown for inside a label or a heading: one paragraph loses its ``<p>``."""
    html = block_html(text)
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        return html[3:-4]
    return html


def checked_mapping(
    raw: Any,
    source: str,
    index: int,
    noun: str,
    required: Sequence[str],
    optional: Sequence[str],
    error: type[Exception],
) -> str:
    """Where item ``index`` of ``source`` is, once it is a mapping with known keys, none missing.

    The place is named by the item's id when it has one, else by its position (``#1``).
    """
    where = f"{source}: {noun} #{index + 1}"
    if not isinstance(raw, dict):
        raise error(f"{where}: each {noun} is a mapping ({', '.join(required[:3])}, …)")
    if isinstance(raw.get("id"), str):
        where = f"{source}: {noun} {raw['id']!r}"
    allowed = (*required, *optional)
    unknown = sorted(str(k) for k in set(raw) - set(allowed))
    if unknown:
        raise error(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(allowed)})")
    missing = [k for k in required if k not in raw]
    if missing:
        raise error(f"{where}: missing {missing[0]!r}")
    return where


def load_items(
    directory: Path,
    *,
    filename: re.Pattern,
    misnamed: str,
    noun: str,
    parse: Callable[[Any, str, int, re.Match], Item],
    error: type[Exception],
) -> list[Item]:
    """Every item of every YAML list in ``directory`` (none is fine), its id unique across files.

    Files are read in name order; hidden files and other suffixes are passed over, and a YAML
    file whose name ``filename`` does not match is ``error(misnamed)``. ``parse(raw, file name,
    index, name match)`` builds one item (with an ``id``) or raises ``error``.
    """
    if not directory.is_dir():
        return []
    found: list[Item] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix not in (".yaml", ".yml") or path.name.startswith("."):
            continue
        match = filename.match(path.name)
        if not match:
            raise error(f"{path.name}: {misnamed}")
        try:
            items = yaml.load(path.read_text(), Loader=_LOADER) or []
        except yaml.YAMLError as exc:
            raise error(f"{path.name}: not valid YAML: {exc}") from None
        if not isinstance(items, list):
            raise error(f"{path.name}: the file must be a YAML list of {noun}s")
        for index, raw in enumerate(items):
            item = parse(raw, path.name, index, match)
            if item.id in seen:
                raise error(
                    f"{path.name}: {noun} id {item.id!r} is already used in {seen[item.id]}"
                )
            seen[item.id] = path.name
            found.append(item)
    return found
