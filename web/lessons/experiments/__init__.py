"""Every experiment a lesson can embed, by name (``lesson5.delay``).

Each ``lessonN.py`` in this folder holds lesson N's experiments in its ``EXPERIMENTS`` tuple
(1-7 follow the outline; 8 onwards are chapters beyond it). The folder is the list: a new
lesson's module is registered by being here.
"""

import pkgutil
import re
from importlib import import_module

from .base import Experiment, ExperimentError, run_experiment

_LESSON_MODULE = re.compile(r"^lesson(\d+)$")


def _lesson_modules() -> tuple:
    """Every ``lessonN`` module of this folder, imported, in lesson order (10 after 9)."""
    numbered = []
    for module in pkgutil.iter_modules(__path__):
        match = _LESSON_MODULE.match(module.name)
        if match:
            numbered.append((int(match[1]), module.name))
    return tuple(import_module(f"{__name__}.{name}") for _, name in sorted(numbered))


LESSON_MODULES = _lesson_modules()

EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment for module in LESSON_MODULES for experiment in module.EXPERIMENTS
}

__all__ = ["EXPERIMENTS", "LESSON_MODULES", "Experiment", "ExperimentError", "run_experiment"]
