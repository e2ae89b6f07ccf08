"""The test and bench stack: its processes die with whoever started them, even by SIGKILL.

A bench or test run that is killed (Ctrl-C twice, a CI timeout, ``kill -9``) cannot stop its
children itself; Linux does, through ``PR_SET_PDEATHSIG`` (``launcher.supervisor.die_with_parent``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys

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


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_killed_starter_takes_its_redis_with_it():
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        pid, directory = starter.stdout.readline().split()
        assert not gone(int(pid))
        starter.kill()
        starter.wait(10)
        poll(lambda: gone(int(pid)), 15, interval=0.05, message=f"redis-server {pid} to exit")
    finally:
        if starter.poll() is None:
            starter.kill()
        starter.stdin.close()
        starter.stdout.close()
    shutil.rmtree(directory, ignore_errors=True)
