"""Several web processes behind one port: each answers for itself, any one routes any task.

Real Redis, worker and gunicorn with two processes (``-w 2``, as run.py starts one per core).
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import urllib.error
import urllib.request

import pytest

import config
from launcher import commands
from tests.support.learners import Learner, Session
from tests.support.stack import poll
from web import warmup
from web.lessons.experiments import EXPERIMENTS
from web.lessons.library import parse as parse_lesson
from web.quiz.questions import load as load_questions
from web.your_turn.exercises import load as load_exercises


def health(base_url: str) -> dict:
    with urllib.request.urlopen(base_url + "/api/health", timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def two_webs(own_stack):
    stack = own_stack(CELERY_LAB_MAX_SOCKETS_PER_LEARNER=100)
    stack.start_worker()
    stack.web, stack.base_url = stack.start_web(processes=2)
    return stack


def test_run_starts_the_configured_number_of_web_processes():
    processes = config.Settings.from_env({"CELERY_LAB_WEB_PROCESSES": "3"}).launch.web_processes
    command = commands.web_command("127.0.0.1", 8000, processes=processes)
    assert command[command.index("-w") + 1] == "3"


def test_the_default_is_one_web_process_per_core_up_to_four():
    expected = max(1, min(os.cpu_count() or 1, 4))
    assert config.Settings.from_env({}).launch.web_processes == expected


@pytest.mark.parametrize("raw", ["0", "-2", "two"])
def test_a_bad_web_process_count_is_refused_with_its_name(raw):
    with pytest.raises(SystemExit, match="CELERY_LAB_WEB_PROCESSES"):
        config.Settings.from_env({"CELERY_LAB_WEB_PROCESSES": raw})


def test_each_process_answers_health_for_itself_and_any_routes_any_task(two_webs):
    base = two_webs.base_url
    learner = Learner(base)
    sockets: list[Session] = []
    counts: dict[int, int] = {}  # pid -> its sockets, as it last said

    def on_both_processes() -> bool:
        sockets.append(learner.session())
        for _ in range(6):
            answer = health(base)
            assert answer["stream_ready"] is True
            counts[answer["pid"]] = answer["sockets"]
        return len([pid for pid, n in counts.items() if n > 0]) == 2

    try:
        poll(on_both_processes, 60, interval=0, message=f"sockets on both processes ({counts})")
        # Two gunicorn workers answered, never the master.
        assert len(counts) == 2 and two_webs.web.popen.pid not in counts
        task_id = sockets[0].start("lesson1.delay", x=2, y=3)
        # The learner's sockets are spread over both processes: every one of them gets the task.
        for session in sockets:
            assert session.final(task_id)["state"] == "succeeded"
    finally:
        learner.close()


def test_the_site_runs_its_own_thread_worker_and_the_bench_may_ask_for_gevent():
    # run.py and the tests always get the thread worker (header deadline, caps per thread);
    # gevent is only for `python -m bench --web-worker gevent`, to measure it beside ours.
    def worker_class(command):
        return command[command.index("-k") + 1]

    assert worker_class(commands.web_command("127.0.0.1", 8000)) == (
        "launcher.gunicorn_worker.ThreadWorker"
    )
    assert worker_class(commands.web_command("127.0.0.1", 8000, worker="gevent")) == "gevent"


# ---- ready before the first request ----------------------------------------------------------


def page(base_url: str, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(base_url + path, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def test_each_web_process_reads_the_course_before_its_first_request(own_stack, tmp_path):
    # A copy of the course that disappears once the processes are up: if any page still read
    # a lesson, a question or an exercise on first use, it would find nothing there.
    course = tmp_path / "lessons"
    shutil.copytree(config.ROOT / "lessons", course)
    lesson = parse_lesson(next(iter(sorted(course.glob("01-*.md")))))
    exercise = next(e for e in load_exercises(course / "exercises") if e.lesson == lesson.number)
    myth = next(q for q in load_questions(course / "questions", EXPERIMENTS) if q.kind == "myth")
    stack = own_stack(CELERY_LAB_LESSONS_DIR=str(course))
    _, base_url = stack.start_web(processes=2)
    # Both processes answer, so both have loaded the app (gunicorn loads it before accepting).
    pids: set[int] = set()
    poll(lambda: pids.add(health(base_url)["pid"]) or len(pids) == 2, 60, message="both webs")
    shutil.rmtree(course)
    for _ in range(10):  # new connections each time: the kernel spreads them over both
        status, home = page(base_url, "/")
        assert status == 200 and lesson.title in home
        status, body = page(base_url, f"/lessons/{lesson.slug}")
        assert status == 200 and f'data-exercise="{exercise.id}"' in body
        status, quiz = page(base_url, "/quiz")
        assert status == 200 and f'data-question="{myth.id}"' in quiz


def test_a_course_file_that_does_not_parse_is_reported_when_the_web_starts(own_stack, tmp_path):
    course = tmp_path / "lessons"
    shutil.copytree(config.ROOT / "lessons", course)
    broken = sorted((course / "questions").glob("*.yaml"))[0]
    broken.write_text("- id: [unclosed\n")
    stack = own_stack(CELERY_LAB_LESSONS_DIR=str(course))
    web, base_url = stack.start_web()
    # In the log before anyone asks for a page, naming the file.
    assert f"could not read the questions: {broken.name}: not valid YAML" in web.log()
    lesson = parse_lesson(next(iter(sorted(course.glob("01-*.md")))))
    status, home = page(base_url, "/")
    assert status == 200 and lesson.title in home
    # A page that needs the questions fails as it always did; the web process stays up.
    assert page(base_url, "/quiz")[0] == 500
    assert health(base_url)["stream_ready"] is True


def test_the_warm_up_also_builds_what_celery_builds_for_its_first_send(app):
    celery = app.extensions["celery"]
    assert not celery.finalized  # create_app() leaves it to the first send
    try:
        warmup.warm(app)
    finally:
        gc.unfreeze()  # the warm-up freezes this test process's objects too
    assert celery.finalized and "sandbox_tasks.basics.add" in celery.tasks
