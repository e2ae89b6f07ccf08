"""An exercise's inputs, drawn afresh for each run outside and handed to the learner's code.

The collector writes them to ``/lab/inputs.json`` once the request arrives (the worker and the
view are already warm by then); ``install`` (called by ``boot.learner_app`` in both, before
any learner module is imported) puts them in the environment: ``LAB_INPUTS`` holds them all
as JSON, and each one also as ``LAB_<NAME>``, so ``app.config.from_prefixed_env("LAB")``
reads them into a Flask config. The view sees them as the dict ``lab_inputs``.
"""

from __future__ import annotations

import json
import os

from . import LAB

INPUTS_FILE = os.path.join(LAB, "inputs.json")


def environment(inputs: dict | None) -> dict:
    """The environment variables that carry ``inputs`` (none without an exercise)."""
    if not inputs:
        return {}
    env = {"LAB_INPUTS": json.dumps(inputs)}
    for name, value in inputs.items():
        env[f"LAB_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def write(inputs: dict | None, path: str = INPUTS_FILE) -> None:
    if inputs:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(inputs, f)


def install(path: str = INPUTS_FILE) -> None:
    """Put this run's inputs (if it has any) into this process's environment."""
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (OSError, ValueError):
        return
    if isinstance(value, dict):
        os.environ.update(environment(value))


def load() -> dict:
    """This run's inputs, as the view's ``lab_inputs``."""
    try:
        value = json.loads(os.environ.get("LAB_INPUTS") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
