"""Binds Celery to the Flask app, as Flask's "Background Tasks with Celery" guide does."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask

from . import broker_transport, result_backend


def celery_init_app(app: Flask) -> Celery:
    """Build the Celery app from ``app.config["CELERY"]`` and make it the default.

    Tasks are written with ``@shared_task``, so they never import this object: whichever
    Celery app is current (the web's or the worker's) is the one they bind to.
    """

    class FlaskTask(Task):
        # Every task body runs inside an app context, so it can read current_app.config.
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    # Results through web/result_backend.py: no subscription for each task sent.
    celery_app.loader.override_backends = result_backend.BACKENDS
    # Messages and events through web/broker_transport.py: one Redis client, not one a command.
    broker_transport.install()
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
