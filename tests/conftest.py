"""Fixtures: a real redis-server, a real Celery worker and a real web server for the session.

No eager mode, no fake Redis: the worker is a ``celery worker`` subprocess and the web server
is gunicorn, started with the same commands ``run.py`` uses.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.support import chromium
from tests.support.classroom_people import Instructor
from tests.support.learners import Learner
from tests.support.quiz_course import write_course
from tests.support.stack import Stack


@pytest.fixture(scope="session")
def stack():
    """Redis + one worker + one web server, shared by the whole session."""
    s = Stack()
    s.start_redis()
    s.start_worker()
    s.web, s.base_url = s.start_web()
    # Every in-process app (the `app` fixture) talks to the same Redis.
    saved = {k: os.environ.get(k) for k in ("REDIS_URL", "CELERY_LAB_VAR_DIR")}
    os.environ["REDIS_URL"] = s.url
    os.environ["CELERY_LAB_VAR_DIR"] = s.env["CELERY_LAB_VAR_DIR"]
    yield s
    s.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    shutil.rmtree(s.dir, ignore_errors=True)


@pytest.fixture
def app(stack):
    """A fresh app in this process, against the session's Redis and worker."""
    from web import create_app

    application = create_app({"TESTING": True})
    yield application
    application.extensions["hub"].stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def own_stack():
    """``own_stack(**env)``: a Stack with its own Redis, stopped and removed after the test."""
    stacks = []

    def make(**env) -> Stack:
        stack = Stack()
        stack.env.update({k: str(v) for k, v in env.items()})
        stack.start_redis()
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()
        shutil.rmtree(stack.dir, ignore_errors=True)


@pytest.fixture
def stack_without_worker(own_stack):
    """Redis and a web server of this test's own, and no worker until the test starts one."""
    stack = own_stack()
    stack.web, stack.base_url = stack.start_web()
    return stack


@pytest.fixture
def course_app(stack, tmp_path):
    """The site in this process, on the session's Redis, teaching the fixture course."""
    from web import create_app

    lessons = write_course(tmp_path)
    application = create_app(
        {"TESTING": True, "LESSONS_DIR": str(lessons), "QUESTIONS_DIR": str(lessons / "questions")}
    )
    yield application
    application.extensions["hub"].stop()


@pytest.fixture
def visitor(course_app):
    """One learner's browser on the fixture course: a test client that keeps its cookie."""
    return course_app.test_client()


@pytest.fixture
def learner(stack):
    who = Learner(stack.base_url)
    yield who
    who.close()


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return chromium.LAUNCH


@pytest.fixture(scope="session", autouse=True)
def _playwright_tmp_cleanup():
    before = set(Path(tempfile.gettempdir()).glob("playwright*"))
    yield
    for leftover in set(Path(tempfile.gettempdir()).glob("playwright*")) - before:
        shutil.rmtree(leftover, ignore_errors=True)


@pytest.fixture(scope="session")
def base_url(stack):
    return stack.base_url


# ---- a class on the session's site (tests/test_classroom*.py) -----------------------------


@pytest.fixture
def instructor(stack):
    """The instructor of the session's site, signed in with its token."""
    who = Instructor(stack.base_url, stack.instructor_token)
    yield who
    who.close()


@pytest.fixture
def code(instructor):
    """The join code of a class the instructor has just opened."""
    return instructor.open_class()


@pytest.fixture
def people(stack):
    """``people()``: one more learner on the session's site each call, closed after the test."""
    made = []

    def make() -> Learner:
        made.append(Learner(stack.base_url))
        return made[-1]

    yield make
    for who in made:
        who.close()
