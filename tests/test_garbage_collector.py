"""What a web process and the worker make at start lives as long as they do: the garbage
collector's full collections leave it out (``gc.freeze``), instead of going through it again
each time while every thread of the process waits (web/warmup.py, worker/pool.py)."""

from __future__ import annotations

import gc

import pytest
from celery import Celery

from web import warmup
from worker.pool import ResizableThreadPool


@pytest.fixture
def nothing_frozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # this test process's objects go back to the collector


def test_a_web_process_freezes_what_it_read_at_start(app, nothing_frozen):
    warmup.warm(app)
    lessons = app.extensions["lessons"].all()
    assert gc.get_freeze_count() > 10_000
    # The course is among what is frozen: a full collection no longer walks it.
    gc.collect()
    assert all(tracked is not lessons for tracked in gc.get_objects())


def test_the_worker_freezes_what_it_made_before_its_first_task(nothing_frozen):
    celery = Celery("pool-test", backend="redis://127.0.0.1:1/0", set_as_current=False)
    pool = ResizableThreadPool(limit=2, app=celery)
    pool.on_start()
    try:
        assert gc.get_freeze_count() > 10_000
        # Frozen objects are no longer among those the collector goes through.
        assert all(tracked is not celery for tracked in gc.get_objects())
    finally:
        pool.on_stop()
