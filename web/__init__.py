"""The Flask app factory.

This package is called ``web`` because ``site`` (where the browser's templates and static files
live) is also the name of a standard-library module that Python imports at startup: a package
named ``site`` could never be imported.
"""

from __future__ import annotations

from flask import Flask

import config
import lifecycle
from config import ROOT

from . import errors, extensions, warmup
from .celery_ext import celery_init_app
from .classroom import exercises as class_exercises
from .classroom import views as classroom_views
from .extensions import sock
from .lessons import library
from .lessons import views as lesson_views
from .live import api, hub, sockets
from .quiz import questions
from .quiz import views as quiz_views
from .safety import capacity, guard, headers
from .your_turn import exercises, runs, workspace


def create_app(test_config: dict | None = None) -> Flask:
    """Build the site: settings, Redis, Celery, the event hub, lessons, then the routes."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "site" / "templates"),
        static_folder=str(ROOT / "site" / "static"),
    )
    # Every setting, read once from the environment (config.py); tests override any of them
    # through the environment or ``test_config``.
    app.config.from_mapping(config.Settings.from_env().flask_config())
    if test_config:
        app.config.update(test_config)

    errors.init_app(app)  # one handler: LabError, HTTP errors, Redis down (JSON or a page)
    extensions.init_app(app)
    celery = celery_init_app(app)
    hub.init_app(app, celery)
    library.init_app(app)
    questions.init_app(app)
    sock.init_app(app)
    guard.init_app(app)
    headers.init_app(app)
    app.context_processor(lifecycle.template_context)  # the lifecycle, as data in each page
    capacity.init_app(app)  # after the Origin check: sockets and held calls per process
    app.register_blueprint(lesson_views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(sockets.bp)
    app.register_blueprint(quiz_views.bp)
    classroom_views.init_app(app)
    runs.init_app(app)
    exercises.init_app(app)
    workspace.init_app(app)
    class_exercises.init_app(app)
    return app


def serve() -> Flask:
    """The app as the web server runs it: ``create_app()``, with its content already read.

    gunicorn calls this in each of its processes before the process takes a connection
    (launcher/commands.py); tests and the worker call ``create_app()`` and read on first use.
    """
    app = create_app()
    warmup.warm(app)
    return app
