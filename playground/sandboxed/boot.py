"""Find (or make) the learner's Celery app and point it at the run's own Redis, JSON only."""

from __future__ import annotations

import importlib
import os
import sys

from celery import Celery, current_app

from . import APP_DIR, BROKER_URL, inputs

# Whatever the learner configured, these win: the run's Redis, JSON both ways, events on.
OVERRIDES = {
    "broker_url": BROKER_URL,
    "result_backend": BROKER_URL,
    "task_serializer": "json",
    "result_serializer": "json",
    "accept_content": ["json"],
    "result_accept_content": ["json"],
    "task_send_sent_event": True,
    "worker_send_task_events": True,
    "task_track_started": True,
    "broker_connection_retry_on_startup": True,
    "broker_connection_max_retries": 3,
}


def _celery_in(module) -> Celery | None:
    return next((v for v in vars(module).values() if isinstance(v, Celery)), None)


def learner_app() -> Celery:
    """Import ``celery_app`` (if given) then ``tasks``; return the Celery app they made.

    A ``tasks.py`` written with ``@shared_task`` and no app of its own gets Celery's default
    app, as it would under ``celery -A tasks worker``.
    """
    inputs.install()  # an exercise's fresh inputs, before any learner module is imported
    sys.path.insert(0, APP_DIR)
    found = None
    for name in ("celery_app", "tasks"):
        if os.path.exists(os.path.join(APP_DIR, f"{name}.py")):
            module = importlib.import_module(name)
            found = found or _celery_in(module)
    app = found or current_app._get_current_object()
    app.conf.update(OVERRIDES)
    return app
