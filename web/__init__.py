"""The Flask app factory.

This package is called ``web`` because ``site`` (where the browser's templates and static files
live) is also the name of a standard-library module that Python imports at startup: a package
named ``site`` could never be imported.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask

import config
from config import ROOT

from . import extensions
from .celery_ext import celery_init_app
from .classroom import exercises as class_exercises
from .classroom import views as classroom_views
from .extensions import sock
from .lessons import library
from .lessons import views as lesson_views
from .live import api, hub, lifecycle, sockets
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
    settings = config.Settings.from_env()
    learner_cookie, instructor_cookie = config.cookie_names(config.secret_key())
    app.config.from_mapping(
        SECRET_KEY=config.secret_key(),
        # Names of this site's own (see config.cookie_names); the instructor's lasts a day's class.
        SESSION_COOKIE_NAME=learner_cookie,
        INSTRUCTOR_COOKIE_NAME=instructor_cookie,
        INSTRUCTOR_SESSION_SECONDS=12 * 3600,
        REDIS_URL=settings.redis_url,
        CELERY=settings.celery_config(),
        LESSONS_DIR=str(settings.lessons_dir),
        INSTRUCTOR_TOKEN=settings.instructor_token,
        PUBLIC_URL=settings.public_url,
        ROUTE_TTL_SECONDS=settings.route_ttl_seconds,
        STREAM_READY_TIMEOUT=5.0,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=365),
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=64 * 1024,
        SOCK_SERVER_OPTIONS={"ping_interval": 25, "max_message_size": settings.ws_max_frame_bytes},
        WS_MAX_MESSAGE_BYTES=settings.ws_max_message_bytes,
        RATE_LIMIT_PER_SECOND=20,
        # A plain Flask setting that a task reads inside the worker (lesson 2).
        SITE_NAME="Celery Lab",
    )
    # Per-socket and per-client limits (config.limits), tests shrink them through the env.
    app.config.from_mapping(config.limits())
    if test_config:
        app.config.update(test_config)

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
