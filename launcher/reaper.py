"""The backstop for run.py's children when run.py dies without stopping them (SIGKILL, a crash).

Linux sends every child SIGTERM the moment run.py dies (``PR_SET_PDEATHSIG``), and most are gone
within a second or two. But a child may take its time over a SIGTERM, or never act on it: a
worker still starting, in a retry loop against a Redis that died with run.py, or a task that
does not finish. So run.py starts this small process first, in a session of its own, and tells it
the process group of every child it starts, on a pipe only run.py writes. When the pipe closes
without ``done`` (run.py is gone), the reaper gives the groups ``grace`` seconds to leave after
their SIGTERM and kills whatever is left. The site's tasks are acknowledged late, so a worker
killed here loses no task: the broker hands it out again.

Protocol, one line each: ``+<pgid>`` a group started, ``-<pgid>`` a group that is gone (its
number may be reused), ``done`` run.py stopped everything itself.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path


def alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # the number now belongs to someone else's group: ours is gone
    return True


def read_groups(lines) -> set[int] | None:
    """The groups still running when run.py closed the pipe; None if it said ``done``."""
    groups: set[int] = set()
    for line in lines:
        word = line.strip()
        if word == "done":
            return None
        if word[:1] in "+-" and word[1:].isdigit():
            (groups.add if word[0] == "+" else groups.discard)(int(word[1:]))
    return groups


def members(group: int) -> list[str]:
    """``pid command`` of each process in ``group`` (for the message: which child lingered)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            # /proc/<pid>/stat: "pid (comm) state ppid pgrp ...": comm may hold spaces.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if entry.name.isdigit() and int(fields[2]) == group:
                command = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
                found.append(f"{entry.name} {command.strip()[:120]}")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile, or not a process
    return found


def reap(groups: set[int], grace: float) -> set[int]:
    """Wait up to ``grace`` s for ``groups`` to leave; SIGKILL the rest. Returns those killed."""
    deadline = time.monotonic() + grace
    while True:
        groups = {g for g in groups if alive(g)}
        if not groups or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    for group in groups:
        for member in members(group):
            print(f"Celery Lab: killing {member}", file=sys.stderr, flush=True)
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return groups


def main(argv: list[str]) -> int:
    grace = float(argv[0])
    groups = read_groups(sys.stdin)
    if groups is None:
        return 0
    killed = reap(groups, grace)
    if killed:
        print(
            f"Celery Lab: run.py died; {len(killed)} of its children still ran "
            f"{grace:g} s after their SIGTERM, and were killed.",
            file=sys.stderr,
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
