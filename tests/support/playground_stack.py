"""A site with a playground worker, its limits shrunk so sandbox tests stay fast."""

from __future__ import annotations

import json
import shutil

import pytest

from playground import slots
from tests.support.learners import Learner, Session
from tests.support.stack import Stack, poll

LIMITS = {
    "CELERY_LAB_PLAYGROUND_WALL_SECONDS": 20,
    "CELERY_LAB_PLAYGROUND_CPU_SECONDS": 3,
    "CELERY_LAB_PLAYGROUND_MEMORY_MB": 256,
    "CELERY_LAB_PLAYGROUND_PROCESSES": 48,
    "CELERY_LAB_PLAYGROUND_FILES_MB": 4,
    "CELERY_LAB_PLAYGROUND_FILE_MB": 1,
    "CELERY_LAB_PLAYGROUND_OPEN_FILES": 64,
    "CELERY_LAB_PLAYGROUND_OUTPUT_KB": 8,
    "CELERY_LAB_PLAYGROUND_CONCURRENCY": 2,
    # Slots of their own, so a bench or `make run` on this machine cannot share the uids.
    "CELERY_LAB_PLAYGROUND_UID_BASE": 62000,
}
UID_BASE, CONCURRENCY = 62000, 2

ADD = """\
from celery import shared_task


@shared_task
def add(x, y):
    return x + y
"""


def start_stack(**env) -> Stack:
    stack = Stack()
    stack.env.update({k: str(v) for k, v in {**LIMITS, **env}.items()})
    stack.start_redis()
    stack.playground = stack.start_playground_worker(CONCURRENCY)
    stack.web, stack.base_url = stack.start_web()
    return stack


def stop_stack(stack: Stack) -> None:
    stack.stop()
    # What a sandbox said when a run ended without reporting (shown only if a test failed).
    print("".join(line for line in stack.playground.log().splitlines(True) if "playground" in line))
    shutil.rmtree(stack.dir, ignore_errors=True)


def sandbox_processes(uid_base: int = UID_BASE) -> list[int]:
    """Every process running as a playground slot's uid."""
    return [pid for n in range(CONCURRENCY) for pid in slots.processes_of(uid_base + n)]


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# A warm sandbox waiting for its run: these four processes run as the slot's uid.
WARM = ("sandboxed.collector", "redis-server", "sandboxed.worker", "sandboxed.view")


def leftovers() -> list[str]:
    """Processes of a slot's uid beyond the one warm sandbox each slot may keep waiting."""
    extra = []
    for n in range(CONCURRENCY):
        commands = [cmdline(pid) for pid in slots.processes_of(UID_BASE + n)]
        counts = [sum(1 for c in commands if part in c) for part in WARM]
        if len(commands) > len(WARM) or any(count > 1 for count in counts):
            extra += commands
    return extra


def no_run_left() -> None:
    """Wait until nothing of a run is left: at most each slot's next, warm sandbox waits."""
    poll(lambda: not leftovers(), 10, message="no process of a finished run left")


def site_fixture(**env):
    """A ``site`` fixture: this module's own playground site, ``env`` on top of LIMITS.

    Assign it in a test module (``site = site_fixture(...)``); a module's stack is stopped
    before the next module's starts, so the modules can share the slots' uids.
    """

    @pytest.fixture(scope="module")
    def site():
        stack = start_stack(**env)
        yield stack
        stop_stack(stack)

    return site


def coder_fixture(check_leftovers: bool = True):
    """A ``coder`` fixture: one learner on the module's ``site``, closed after the test.

    With ``check_leftovers`` the test's teardown also waits until nothing of its runs is
    left (only in the LIMITS' slots, UID_BASE).
    """

    @pytest.fixture
    def coder(site):
        who = Coder(site.base_url)
        yield who
        who.close()
        if check_leftovers:
            no_run_left()

    return coder


class Coder:
    """A learner pressing Run: a cookie, a websocket that keeps every message, the API."""

    def __init__(self, base_url: str):
        self.learner = Learner(base_url)
        self.session = Session(self.learner.socket())

    def press_run(self, view: str, files: dict | None = None) -> str:
        status, body = self.learner.post(
            "/api/playground/runs", {"files": files or {"tasks.py": ADD}, "view": view}
        )
        assert status == 202, body
        return body["run_id"]

    def messages(self, run_id: str) -> list[dict]:
        return [m for m in self.session.seen if m.get("type") == "run" and m["run_id"] == run_id]

    def wait_ended(self, run_id: str, timeout: float = 30) -> dict:
        def ended(m: dict) -> bool:
            return m.get("type") == "run" and m["run_id"] == run_id and m["kind"] == "ended"

        if not any(ended(m) for m in self.session.seen):
            self.session.until(ended, timeout)
        return next(m for m in self.messages(run_id) if m["kind"] == "ended")

    def summary(self, run_id: str) -> dict:
        status, body = self.learner.get_json(f"/api/playground/runs/{run_id}")
        assert status == 200, body
        return body

    def finished(self, view: str, files: dict | None = None, timeout: float = 30) -> dict:
        """Press Run, wait for the end; return the run's summary (GET) once it has ended."""
        run_id = self.press_run(view, files)
        self.wait_ended(run_id, timeout)
        summary = poll(
            lambda: (s := self.summary(run_id))["state"] in ("finished", "failed", "stopped") and s,
            10,
            message="the summary to be saved",
        )
        summary["messages"] = self.messages(run_id)
        return summary

    def view_json(self, summary: dict) -> dict:
        """What the view printed, read as one JSON value (a probe prints its findings so).

        A printed line longer than 4000 characters arrives in 4000-character pieces.
        """
        return json.loads("".join(summary["output"]["view"]))

    def close(self) -> None:
        self.learner.close()


# The "Your turn" tests (tests/test_playground_exercises.py, tests/test_browser_playground*.py)
# use uid slots of their own, so that they may run beside the engine's tests on one machine
# (a slot's teardown kills every process of its uid), and a roomier wall clock: exercise 5's
# task alone sleeps 3 s.
EXERCISE_ENV = {"CELERY_LAB_PLAYGROUND_UID_BASE": 62100, "CELERY_LAB_PLAYGROUND_WALL_SECONDS": 20}
