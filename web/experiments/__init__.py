"""Every experiment a lesson can embed, by name (``lesson5.delay``)."""

from . import lesson5
from .base import Experiment, ExperimentError, run_experiment

EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment
    for module in (lesson5,)
    for experiment in module.EXPERIMENTS
}

__all__ = ["EXPERIMENTS", "Experiment", "ExperimentError", "run_experiment"]
