"""A task that takes a while, for seeing what waiting for it costs (lesson 5)."""

import os
import socket
import time

from celery import shared_task

from .progress import report_progress

STEPS_PER_SECOND = 2


@shared_task(bind=True)
def slow_task(self, seconds: int) -> dict:
    """Sleep ``seconds``, reporting progress twice a second; say where it ran."""
    total = seconds * STEPS_PER_SECOND
    for step in range(1, total + 1):
        time.sleep(1 / STEPS_PER_SECOND)
        report_progress(self, step, total)
    return {"slept": seconds, "hostname": socket.gethostname(), "pid": os.getpid()}
