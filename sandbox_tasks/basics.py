"""The smallest possible task, which also says where it ran (lesson 1)."""

import os
import socket

from celery import shared_task


@shared_task
def add(x: int, y: int) -> dict:
    """Add two numbers and report which process did the adding."""
    return {"sum": x + y, "pid": os.getpid(), "hostname": socket.gethostname()}
