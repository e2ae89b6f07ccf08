"""A learner's own tasks.py and view run on a worker of their own, and every event comes back.

Real bubblewrap, a real Redis inside the sandbox, a real ``celery worker`` importing the
learner's module, the real playground worker and web server outside.
"""

from __future__ import annotations

import os

import pytest

from tests.support.playground_stack import (
    Coder,
    cmdline,
    coder_fixture,
    sandbox_processes,
    site_fixture,
    start_stack,
    stop_stack,
)
from tests.support.stack import poll

site = site_fixture()
coder = coder_fixture()


def test_a_learners_task_runs_on_its_own_worker_and_reports_every_event(coder):
    summary = coder.finished("result = add.delay(2, 3)\nprint('sent', result.id)\n")
    assert summary["state"] == "finished", summary
    assert summary["reason"] == "done"
    assert "tasks.add" in summary["registered_tasks"]
    assert "[tasks]" in summary["banner"]
    assert any("learner@playground ready." in line for line in summary["output"]["worker"])
    (task,) = summary["tasks"]
    assert task["name"] == "tasks.add"
    assert task["state"] == "succeeded"
    assert task["result"] == "5"
    assert summary["output"]["view"] == [f"sent {task['task_id']}"]

    # Live, on the learner's websocket, tagged with the run id: banner, then the task's events.
    kinds = [m["kind"] for m in summary["messages"]]
    assert kinds.index("banner") < kinds.index("task") < kinds.index("ended")
    states = {m["state"] for m in summary["messages"] if m["kind"] == "task"}
    assert {"sent", "received", "started", "succeeded"} <= states
    succeeded = next(m for m in summary["messages"] if m.get("state") == "succeeded")
    assert succeeded["fields"]["result"] == "5"
    assert succeeded["task_name"] == "tasks.add"


# A task whose result backend says RETRY after it succeeded: what Celery's worker can leave when
# a retry with countdown 0 is delivered again and succeeds before the first delivery stores
# its RETRY (the backend's guard for a SUCCESS reads, then writes). Here the task does it itself.
LOSES_THE_RACE = """\
from celery import Task, shared_task


class LosesTheRace(Task):
    def after_return(self, status, retval, task_id, args, kwargs, einfo):
        meta = {"status": "RETRY", "result": None, "traceback": None, "children": [],
                "task_id": task_id, "date_done": None}
        self.backend.set(self.backend.get_key_for_task(task_id), self.backend.encode(meta))


@shared_task(base=LosesTheRace)
def add(x, y):
    return x + y
"""


def test_a_run_ends_on_its_tasks_final_events_whatever_the_result_backend_says(coder):
    summary = coder.finished("add.delay(2, 3)\n", files={"tasks.py": LOSES_THE_RACE})
    assert summary["reason"] == "done", summary  # not the wall clock, waiting for the backend
    (task,) = summary["tasks"]
    assert task["state"] == "succeeded"
    assert task["result"] == "5"


def test_a_task_without_its_decorator_is_missing_from_the_worker(coder):
    undecorated = "def add(x, y):\n    return x + y\n"
    summary = coder.finished("add.delay(2, 3)\n", files={"tasks.py": undecorated})
    assert summary["registered_tasks"] == []
    assert "tasks.add" not in summary["banner"]
    assert summary["state"] == "failed"
    assert summary["reason"] == "view_error"
    assert (
        "AttributeError: 'function' object has no attribute 'delay'"
        in (summary["view"]["traceback"])
    )


def test_a_failing_task_reports_its_real_traceback_and_retries_are_waited_for(coder):
    tasks = """\
from celery import shared_task


@shared_task(bind=True, max_retries=2, default_retry_delay=0.3)
def flaky(self):
    if self.request.retries < 2:
        raise self.retry(exc=ValueError("not yet"))
    return "third time"


@shared_task
def broken():
    return 1 / 0
"""
    summary = coder.finished("flaky.delay()\nbroken.delay()\n", files={"tasks.py": tasks})
    assert summary["state"] == "finished", summary
    tasks_by_name = {t["name"]: t for t in summary["tasks"]}
    assert tasks_by_name["tasks.flaky"]["state"] == "succeeded"
    assert tasks_by_name["tasks.flaky"]["result"] == "'third time'"
    retries = [e for e in tasks_by_name["tasks.flaky"]["events"] if e["state"] == "retry"]
    assert len(retries) == 2
    broken = tasks_by_name["tasks.broken"]
    assert broken["state"] == "failed"
    failed = next(e for e in broken["events"] if e["state"] == "failed")
    assert "ZeroDivisionError: division by zero" in failed["fields"]["traceback"]
    assert 'File "/lab/app/tasks.py"' in failed["fields"]["traceback"]


def test_the_view_runs_inside_the_app_context_of_app_py(coder):
    app_py = 'from flask import Flask\n\napp = Flask("mine")\napp.config["GREETING"] = "hi"\n'
    view = "from flask import current_app\nprint(current_app.name, current_app.config['GREETING'])"
    summary = coder.finished(view, files={"tasks.py": "", "app.py": app_py})
    assert summary["state"] == "finished", summary
    assert summary["output"]["view"] == ["mine hi"]


def test_teardown_leaves_no_process_of_the_run_not_its_redis_nor_its_files(coder):
    run_id = coder.press_run("import time\ntime.sleep(2)\n")
    poll(lambda: coder.summary(run_id)["state"] == "running", 20, message="the run to be up")
    during = {pid: cmdline(pid) for pid in sandbox_processes()}
    assert any("redis-server" in c for c in during.values())
    assert any("sandboxed.worker" in c for c in during.values())
    coder.wait_ended(run_id)
    poll(
        lambda: not set(during) & set(sandbox_processes()),
        10,
        message="every process of the run (its Redis too) to be gone",
    )
    # The run directory was a tmpfs in the sandbox's own mount namespace: never on the host.
    assert not os.path.exists("/lab")


def test_without_warm_sandboxes_nothing_at_all_is_left_between_runs():
    # Slots of its own: the module's site keeps warm sandboxes in the usual ones.
    stack = start_stack(CELERY_LAB_PLAYGROUND_WARM="off", CELERY_LAB_PLAYGROUND_UID_BASE=62010)
    try:
        who = Coder(stack.base_url)
        summary = who.finished("print(add.delay(2, 3).get(timeout=10))\n")
        who.close()
        assert summary["state"] == "finished", summary
        assert summary["output"]["view"] == ["5"]
        poll(lambda: not sandbox_processes(uid_base=62010), 10, message="no sandbox process at all")
    finally:
        stop_stack(stack)


POOL_APP = 'from celery import Celery\n\ncelery = Celery("lab", include=["tasks"])\n'
ADD_TASK = "from celery import shared_task\n\n\n@shared_task\ndef add(x, y):\n    return x + y\n"


@pytest.mark.parametrize(
    ("setting", "banner"),
    [
        ("", "concurrency: 2 (thread)"),  # no choice made: the playground's threads
        ('celery.conf.worker_pool = "prefork"\n', "concurrency: 2 (prefork)"),
        ('celery.conf.worker_pool = "solo"\n', "(solo)"),
    ],
)
def test_a_learners_app_chooses_its_pool_and_prefork_runs_in_the_sandbox(coder, setting, banner):
    files = {"celery_app.py": POOL_APP + setting, "tasks.py": ADD_TASK}
    summary = coder.finished("print('sent', add.delay(2, 3).id)", files=files)
    assert summary["state"] == "finished", summary
    assert banner in summary["banner"], summary["banner"]
    (task,) = summary["tasks"]
    assert task["state"] == "succeeded" and task["result"] == "5", task


def test_a_pool_the_playground_cannot_run_is_refused_with_a_reason(coder):
    files = {
        "celery_app.py": POOL_APP + 'celery.conf.worker_pool = "gevent"\n',
        "tasks.py": ADD_TASK,
    }
    summary = coder.finished("print('sent', add.delay(2, 3).id)", files=files)
    assert summary["state"] == "finished", summary
    said = "\n".join([summary["banner"] or "", *summary["output"]["worker"]])
    assert "Your app sets worker_pool = 'gevent'" in said and "using threads instead" in said
    assert "concurrency: 2 (thread)" in summary["banner"]
    assert summary["tasks"][0]["result"] == "5"
