"""Progress reports from inside a task, through Celery's own event stream."""

from __future__ import annotations

import logging

from celery import Task
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def report_progress(task: Task, current: int, total: int) -> None:
    """Send a custom ``task-progress`` event; the site streams it like any lifecycle event.

    A task called directly (``slow_task(3)``) has no worker and no task id to report under,
    so it reports nothing: that silence is part of what lesson 5 shows.
    """
    if task.request.called_directly:
        return
    try:
        task.send_event("task-progress", current=current, total=total)
    except (OperationalError, OSError) as exc:
        # A progress report is a courtesy: if the broker is away (Redis restarting), the task
        # goes on and its result still lands once Redis is back.
        logger.warning("progress report for %s lost: %s", task.request.id, exc)
