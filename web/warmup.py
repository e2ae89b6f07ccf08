"""Read what the pages need before a web process answers its first request.

Left to first use, the first learner to reach each fresh web process waited for:

- the lessons, the quiz questions and the Your turn exercises, read once and kept for the
  process's life (web/lessons/library.py, web/quiz/questions.py, web/your_turn/exercises.py):
  markdown, Pygments and YAML, about 0.3 s of CPU in all (the home page 181 ms instead of 3);
- Jinja compiling each template the first time it renders (a lesson 120 ms instead of 4);
- Celery building, on its first send, its task registry, its result backend (found among the
  installed packages' entry points) and its producer pool (a first press 28 ms in the web
  instead of 2).

A class opening the site together right after ``make run`` waited behind all of it. gunicorn
loads the app in each of its processes before that process accepts a connection, so doing it
there (``web.serve``) costs no learner anything. Nothing here connects to Redis but the event
hub, which subscribes in its own thread.

Then everything made so far (the course, the templates, every module) is frozen out of the
garbage collector's sight (``gc.freeze``): it lives as long as the process, and a full
collection spent ~25 ms going through it each time, every thread of the process waiting.

A file that does not parse is logged here, by name, as the web process starts, instead of
when a learner first opens a page; the pages that need it fail as they always did and the rest
are served, so a course author sees the mistake at once and a class still has the others.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import logging

from flask import Flask

log = logging.getLogger(__name__)

# What each page reads once, by the extension that keeps it (each has ``all()``).
CONTENT = ("lessons", "questions", "exercises")


def warm(app: Flask) -> None:
    for name in CONTENT:
        try:
            for item in app.extensions[name].all():
                _render(item)
        except (ValueError, OSError) as exc:  # LessonError, QuestionError, ExerciseError
            log.error("could not read the %s: %s (pages that need them will say so)", name, exc)
    for template in app.jinja_env.list_templates():
        app.jinja_env.get_template(template)
    # Celery makes these on the first send: its task registry, the result backend (looked up
    # among the installed packages), the routes and the producer pool (none of them connects).
    celery = app.extensions["celery"]
    celery.finalize(auto=True)
    celery.backend, celery.amqp.router, celery.amqp.queues, celery.producer_pool  # noqa: B018
    # The event hub subscribes now, not when the first press (or health check) asks for it.
    app.extensions["hub"].start(wait=0)
    gc.collect()  # what parsing left behind goes now, not into the frozen generation
    gc.freeze()


def _render(item) -> None:
    """Fill each of ``item``'s cached properties (its markdown, rendered once), and its parts'."""
    for name, attribute in vars(type(item)).items():
        if isinstance(attribute, functools.cached_property):
            getattr(item, name)
    for value in vars(item).values():
        if isinstance(value, tuple):  # a question's choices
            for part in value:
                if dataclasses.is_dataclass(part):
                    _render(part)
