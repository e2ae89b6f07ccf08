"""Lesson 4: tasks that take arguments."""

from __future__ import annotations

from celery import shared_task


@shared_task
def multiply(a: int, b: int) -> int:
    """Multiply two numbers, read by the worker from the message."""
    return a * b
