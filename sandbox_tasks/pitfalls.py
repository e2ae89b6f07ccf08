"""Tasks for chapter 10, each one a setting or a habit that goes wrong in real projects."""

from __future__ import annotations

import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from .basics import add


@shared_task(ignore_result=True)
def quiet_add(x: int, y: int) -> int:
    """Add two numbers; the worker is told not to keep the answer."""
    return x + y


@shared_task(bind=True)
def wait_for_other(self, other_id: str) -> int:
    """Send another task, then wait inside this one for its answer."""
    other = add.apply_async((2, 3), task_id=other_id)
    return other.get(timeout=5)["sum"]


@shared_task(bind=True)
def sleepy(self, seconds: int) -> dict:
    """Sleep, noticing if the worker interrupts the sleep with a soft time limit."""
    started = time.monotonic()
    try:
        time.sleep(seconds)
    except SoftTimeLimitExceeded:
        return {"interrupted": True, "after": round(time.monotonic() - started, 2)}
    return {"interrupted": False, "after": round(time.monotonic() - started, 2)}
