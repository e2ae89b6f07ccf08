"""Every experiment a lesson can embed, by name (``lesson5.delay``)."""

from . import (  # 1-7 follow the outline; 8 onwards are chapters beyond it
    lesson1,
    lesson2,
    lesson3,
    lesson4,
    lesson5,
    lesson6,
    lesson7,
    lesson8,
    lesson9,
    lesson10,
    lesson11,
)
from .base import Experiment, ExperimentError, run_experiment

EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment
    for module in (
        lesson1,
        lesson2,
        lesson3,
        lesson4,
        lesson5,
        lesson6,
        lesson7,
        lesson8,
        lesson9,
        lesson10,
        lesson11,
    )
    for experiment in module.EXPERIMENTS
}

__all__ = ["EXPERIMENTS", "Experiment", "ExperimentError", "run_experiment"]
