"""Small steps to build canvases from (lesson 8): chains, groups and chords."""

from __future__ import annotations

import logging
import threading
import time

from celery import shared_task
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


class StepFailed(ValueError):
    """The failure a learner asked a step to have."""


def report_thread(task, done: int, total: int) -> None:
    """Say which pool thread runs this task (a ``task-progress`` event): the timeline's lane."""
    if task.request.called_directly:
        return
    try:
        task.send_event(
            "task-progress", current=done, total=total, thread=threading.current_thread().name
        )
    except (OperationalError, OSError) as exc:
        logger.warning("progress report for %s lost: %s", task.request.id, exc)


@shared_task(bind=True)
def step(self, total: int, add: int, seconds: int, fail: bool = False) -> int:
    """Work for ``seconds``, then return ``total + add``."""
    for second in range(seconds):
        report_thread(self, second, seconds)
        time.sleep(1)
    if fail:
        raise StepFailed(f"step {add} failed on purpose")
    report_thread(self, seconds, seconds)
    return total + add


@shared_task
def add_up(values: list[int]) -> int:
    """A chord's body: it gets the list of every header task's result."""
    return sum(values)
