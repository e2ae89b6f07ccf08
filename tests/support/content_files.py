"""Made-up content for the loaders' tests: YAML items with a change, written to a folder."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml


def changed(base: dict, **changes) -> dict:
    """A copy of ``base`` with some keys replaced (None removes a key)."""
    item = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value
    return item


def write_yaml(directory: Path, name: str, items) -> Path:
    """Write ``items`` as YAML (text as it is) to ``directory/name``; return ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    text = items if isinstance(items, str) else yaml.safe_dump(items, sort_keys=False)
    (directory / name).write_text(text)
    return directory


def place(raw, source: str, noun: str) -> str:
    """How a refusal of item #1 ``raw`` of ``source`` starts: by its id when it has one."""
    named = isinstance(raw, dict) and isinstance(raw.get("id"), str)
    return f"{source}: {noun} {raw['id']!r}: " if named else f"{source}: {noun} #1: "
