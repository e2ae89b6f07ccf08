"""Every experiment a lesson can embed, by name (``lesson5.delay``)."""

from . import lesson1, lesson2, lesson3, lesson4, lesson5, lesson6, lesson7
from . import lesson8  # chapters beyond the outline
from .base import Experiment, ExperimentError, run_experiment

EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment
    for module in (lesson1, lesson2, lesson3, lesson4, lesson5, lesson6, lesson7, lesson8)
    for experiment in module.EXPERIMENTS
}

__all__ = ["EXPERIMENTS", "Experiment", "ExperimentError", "run_experiment"]
