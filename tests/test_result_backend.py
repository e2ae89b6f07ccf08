"""Results: sending a task subscribes to nothing, and ``.get()`` still finds every result.

Real Redis and worker (the session's stack): the subscriptions are read from Redis itself.
"""

from __future__ import annotations

import threading

from celery import Celery

from sandbox_tasks.basics import add
from tests.support.stack import poll
from web.result_backend import RedisBackend
from worker.pool import ResizableThreadPool


def subscribers(redis, task_id: str) -> int:
    return dict(redis.pubsub_numsub(f"celery-task-meta-{task_id}"))[f"celery-task-meta-{task_id}"]


def test_the_site_uses_its_backend_for_the_plain_redis_url(app):
    celery = app.extensions["celery"]
    assert celery.conf.result_backend.startswith("redis://")
    assert type(celery.backend) is RedisBackend


def test_sending_a_task_subscribes_to_nothing_until_someone_waits(app, stack):
    redis = stack.redis()
    with app.app_context():
        result = add.delay(2, 3)
        assert subscribers(redis, result.id) == 0
        assert result.get(timeout=30)["sum"] == 5


def test_get_finds_a_result_stored_before_it_waited(app, stack):
    with app.app_context():
        result = add.delay(4, 5)
        celery = app.extensions["celery"]
        # Wait for the stored result without .get(), so nothing was subscribed when it landed.
        poll(lambda: celery.backend.get(celery.backend.get_key_for_task(result.id)), 30)
        fresh = celery.AsyncResult(result.id)
        assert fresh.get(timeout=5)["sum"] == 9


def test_the_worker_pool_gives_its_threads_one_result_backend():
    celery = Celery("pool-test", backend="redis://127.0.0.1:1/0", set_as_current=False)
    pool = ResizableThreadPool(limit=2, app=celery)
    pool.on_start()
    try:
        seen = []
        together = threading.Barrier(8)  # all ask at once, as a burst of tasks does

        def ask():
            together.wait(10)
            seen.append(celery.backend)

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(seen) == 8 and all(backend is seen[0] for backend in seen)
    finally:
        pool.on_stop()


def test_a_stored_success_is_never_overwritten_by_a_later_state(app):
    # Celery's rule (a lost task redelivered after it succeeded must not undo its result),
    # kept by the one script that now checks, writes and publishes.
    backend = app.extensions["celery"].backend
    task_id = f"overwrite-{threading.get_ident()}"
    backend.store_result(task_id, {"sum": 5}, "SUCCESS")
    backend.store_result(task_id, None, "STARTED")
    backend.store_result(task_id, "late failure", "FAILURE")
    meta = backend.get_task_meta(task_id, cache=False)
    assert (meta["status"], meta["result"]) == ("SUCCESS", {"sum": 5})


def test_every_state_before_success_replaces_the_last_and_is_published(app, stack):
    backend = app.extensions["celery"].backend
    task_id = f"states-{threading.get_ident()}"
    pubsub = stack.redis().pubsub()
    pubsub.subscribe(backend.get_key_for_task(task_id))
    poll(lambda: pubsub.get_message(timeout=0.1), 5, message="the subscription")
    for state, result in (("STARTED", None), ("RETRY", RuntimeError("again")), ("SUCCESS", 5)):
        backend.store_result(task_id, result, state)
        assert backend.get_task_meta(task_id, cache=False)["status"] == state
        published = poll(lambda: pubsub.get_message(timeout=0.1), 5, message=f"{state} published")
        assert f'"status": "{state}"' in published["data"]
    assert 0 < stack.redis().ttl(backend.get_key_for_task(task_id)) <= 24 * 3600
    pubsub.close()


def _in_new_thread(work):
    out = []
    thread = threading.Thread(target=lambda: out.append(work()))
    thread.start()
    thread.join(10)
    return out[0]


def test_each_web_thread_keeps_its_own_backend_but_they_share_one_pool(app):
    # The web calls .get() from many threads (lessons 3, 5, 10, 11), and a result consumer is
    # not thread-safe, so backends stay one per thread (Celery's default); connections are.
    celery = app.extensions["celery"]
    backends = [_in_new_thread(lambda: celery.backend) for _ in range(4)]
    assert len({id(backend) for backend in backends}) == 4
    assert len({id(backend.client.connection_pool) for backend in backends}) == 1


def test_a_new_thread_sending_a_task_opens_no_new_redis_connection(app, stack):
    # Each websocket has its own thread; when a class presses together, every one of them
    # sends its first task at once. Each used to open a Redis pool and connection of its own.
    redis = stack.redis()

    def press():
        with app.app_context():
            result = add.delay(1, 1)
            return result.state  # read through this thread's backend

    press()  # the pools are warm
    before = redis.info("clients")["connected_clients"]
    for _ in range(12):
        _in_new_thread(press)
    assert redis.info("clients")["connected_clients"] - before < 4
