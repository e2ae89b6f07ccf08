"""An exercise's inputs, drawn afresh for each run outside and handed to the learner's code.

The collector puts them in the environment of the worker and the view: ``LAB_INPUTS`` holds
them all as JSON, and each one also as ``LAB_<NAME>`` (so ``app.config.from_prefixed_env("LAB")``
reads them into a Flask config); the view sees them as the dict ``lab_inputs``.
"""

from __future__ import annotations

import json
import os


def environment(inputs: dict | None) -> dict:
    """The environment variables that carry ``inputs`` (none without an exercise)."""
    if not inputs:
        return {}
    env = {"LAB_INPUTS": json.dumps(inputs)}
    for name, value in inputs.items():
        env[f"LAB_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def load() -> dict:
    """This run's inputs, as the view's ``lab_inputs``."""
    try:
        value = json.loads(os.environ.get("LAB_INPUTS") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
