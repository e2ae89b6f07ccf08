"""Lesson 2: a task that reads the Flask app's configuration from inside the worker."""

import os
import socket

from celery import shared_task
from flask import current_app


@shared_task
def read_setting(name: str) -> dict:
    """Read one Flask setting through ``current_app``, wherever the task runs."""
    # current_app is whichever app context is active: in the worker, FlaskTask
    # (web/celery_ext.py) pushes the worker's own Flask app around every task.
    return {
        "setting": name,
        "value": current_app.config[name],
        "app": current_app.name,
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
    }
