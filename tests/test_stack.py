"""The test and bench stack: its processes die with whoever started them, even by SIGKILL.

A bench or test run that is killed (Ctrl-C twice, a CI timeout, ``kill -9``) cannot stop its
children itself; Linux does, through ``PR_SET_PDEATHSIG`` (``launcher.supervisor.die_with_parent``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import psutil

from config import ROOT
from tests.support.stack import poll

STARTER = """
from tests.support.stack import Stack
stack = Stack()
redis = stack.start_redis()
print(redis.popen.pid, stack.dir, flush=True)
input()  # wait, until killed
"""


# A child that takes its time over a SIGTERM (as a worker still connecting to a Redis that is
# gone does): it ignores it altogether.
STUBBORN_STARTER = """
import sys, tempfile
from pathlib import Path
from tests.support.stack import Process
stubborn = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
    "print('ignoring', flush=True); time.sleep(120)"
)
child = Process("stubborn", [sys.executable, "-c", stubborn], {}, Path(tempfile.mkdtemp()))
print(child.popen.pid, child.log_path.parent, flush=True)
input()  # wait, until killed
"""


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_killed_starter_takes_its_redis_with_it():
    _kill_the_starter_and_see_its_child_go(STARTER, "redis-server")


def test_a_killed_starter_takes_even_a_child_that_ignores_sigterm_with_it():
    def ignoring(directory: str) -> bool:
        return "ignoring" in (Path(directory) / "stubborn.log").read_text()

    _kill_the_starter_and_see_its_child_go(STUBBORN_STARTER, "a child ignoring SIGTERM", ignoring)


def _kill_the_starter_and_see_its_child_go(script: str, what: str, ready=None) -> None:
    starter = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        pid, directory = starter.stdout.readline().split()
        assert not gone(int(pid))
        if ready is not None:
            poll(lambda: ready(directory), 15, interval=0.05, message=f"{what} to be ready")
        starter.kill()
        starter.wait(10)
        poll(lambda: gone(int(pid)), 15, interval=0.05, message=f"{what} ({pid}) to exit")
    finally:
        if starter.poll() is None:
            starter.kill()
        if not gone(int(pid)):
            psutil.Process(int(pid)).kill()  # the test failed: leave nothing behind
        starter.stdin.close()
        starter.stdout.close()
    shutil.rmtree(directory, ignore_errors=True)
