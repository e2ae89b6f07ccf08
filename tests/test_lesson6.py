"""Lesson 6: the running worker's registry, names it does not know, and import layouts."""

from __future__ import annotations

import pytest

from tests.support.learners import by_state
from tests.support.refusals import assert_refused
from tests.support.stack import poll
from web.lessons.experiments.lesson6 import group_by_module, module_table


def test_names_are_grouped_by_the_module_part_of_their_dotted_path():
    assert group_by_module(["a.b.add", "a.b.mul", "a.c.ping", "bare"]) == {
        "a.b": ["add", "mul"],
        "a.c": ["ping"],
        "(no module)": ["bare"],
    }


def test_the_module_table_lines_up_each_module_with_its_tasks():
    table = module_table({"a.b": ["add", "mul"], "long.module": ["ping"]})
    assert table.splitlines() == ["a.b          add, mul", "long.module  ping"]


def test_the_running_worker_lists_its_registered_tasks_by_module(learner):
    body = learner.press("lesson6.registered", {})
    assert body["type"] == "sent" and body["mode"] == "direct"
    (worker, names), *_ = body["workers"].items()
    assert worker.startswith("lab@")
    assert "sandbox_tasks.basics.add" in names
    assert "sandbox_tasks.serialization.describe_argument" in names
    assert not [n for n in names if n.startswith("celery.")]
    table = body["show"][0]
    assert table["label"] == f"registered in {worker}, by module"
    rows = dict(line.split(None, 1) for line in table["value"].splitlines())
    assert "add" in rows["sandbox_tasks.basics"].split(", ")
    assert "describe_argument" in rows["sandbox_tasks.serialization"].split(", ")
    assert body["show"][1]["value"] == "none: both sides know the same tasks"
    assert body["explain"].startswith("1 worker answered an inspect().registered() broadcast")


def test_a_registered_name_sent_by_name_alone_runs_on_the_worker(learner):
    session = learner.session()
    reply = session.run("lesson6.unknown", name="sandbox_tasks.basics.add")
    assert reply["type"] == "sent"
    assert reply["show"][0]["value"] == "celery.send_task('sandbox_tasks.basics.add', args=(2, 3))"
    events = by_state(session.events(reply["task_id"]))
    assert {"received", "started", "succeeded"} <= set(events)  # task-sent may come late
    assert "'sum': 5" in events["succeeded"]["fields"]["result"]


@pytest.mark.parametrize(
    "name", ["sandbox_tasks.basics.ad", "basics.add", "sandbox_tasks.reports.build_report"]
)
def test_the_worker_discards_a_name_it_never_registered_and_reports_not_registered(
    learner, stack, name
):
    session = learner.session()
    reply = session.run("lesson6.unknown", name=name)
    assert reply["type"] == "sent", "send_task queues any name: the web process checks nothing"
    task_id = reply["task_id"]
    events = by_state(session.events(task_id))
    failed = events["failed"]
    assert failed["source"] == "worker" and failed["fields"]["hostname"].startswith("lab@")
    assert failed["fields"]["exception"] == f"NotRegistered({name!r})"
    assert "received" not in events and "started" not in events  # nothing ran
    # The worker stored the failure in the result backend, and said so in its log.
    assert learner.get_json(f"/api/tasks/{task_id}") == (
        200,
        {
            "task_id": task_id,
            "state": "failed",
            "error": f"Task of kind {name!r} never registered, please make sure it's imported.",
        },
    )
    poll(
        lambda: f"Received unregistered task of type {name!r}" in stack.worker().log(),
        30,
        message="the worker's unregistered-task log line",
    )


@pytest.mark.parametrize(
    "layout, returncode, says",
    [
        (
            "tasks import the app",
            1,
            "ImportError: cannot import name 'celery' from partially initialized module 'app'",
        ),
        ("same, import moved to the bottom", 0, "tasks: ['tasks.send_email']"),
        ("celery_app.py in the middle", 0, "tasks: ['tasks.send_email']"),
        ("@shared_task (this site's way)", 0, "tasks: ['tasks.send_email']"),
    ],
)
def test_a_real_python_imports_each_layout_or_stops_at_the_circle(
    learner, layout, returncode, says
):
    body = learner.press("lesson6.layout", {"layout": layout})
    assert body["type"] == "sent"
    assert body["returncode"] == returncode
    output = body["show"][-1]
    assert output["label"] == f"python -c 'import app' exited with {returncode}"
    assert says in output["value"]
    assert "celerylab-layout-" not in output["value"]  # the temporary path is tidied away
    assert "tasks.py" in [item["label"] for item in body["show"]]


BAD_INPUT = [
    ("lesson6.unknown", {"name": "celery.backend_cleanup"}, "name", "Task name must be one of"),
    ("lesson6.unknown", {"name": ""}, "name", "Task name must be one of"),
    ("lesson6.unknown", {"name": 5}, "name", "Task name must be one of"),
    ("lesson6.unknown", {"name": ["sandbox_tasks.basics.add"]}, "name", "must be one of"),
    ("lesson6.unknown", {}, "name", "Task name is missing."),
    ("lesson6.unknown", {"name": "basics.add", "args": [1]}, "args", "Unknown parameter"),
    ("lesson6.registered", {"worker": "lab@vm"}, "worker", "this experiment takes: nothing"),
    ("lesson6.layout", {"layout": "import os; os.system('id')"}, "layout", "Layout must be"),
    ("lesson6.layout", {"layout": None}, "layout", "Layout must be one of"),
]


@pytest.mark.parametrize("experiment, params, field, message", BAD_INPUT)
def test_bad_input_is_refused_on_its_transport_with_a_readable_message(
    learner, experiment, params, field, message
):
    assert_refused(learner, experiment, params, message, field)
