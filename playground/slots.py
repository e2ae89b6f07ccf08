"""Run slots: each concurrent run on a host gets its own unprivileged uid.

RLIMIT_NPROC counts every process of a uid machine-wide, so two runs sharing a uid would share
one process budget (and could signal each other). A slot is held with an exclusive ``flock``
on a file outside the sandbox for as long as its run lasts, so it works across the
playground worker's threads and processes, and a crashed holder frees its slot with its fd.
"""

from __future__ import annotations

import fcntl
import os
import signal
import tempfile
import time
from pathlib import Path

# Machine-wide, like the uids themselves: every playground worker on this host (a `make run`,
# a test stack, the bench) takes its uids from the same locks.
LOCK_DIR = Path(tempfile.gettempdir()) / "celerylab-playground-slots"


class NoFreeSlot(RuntimeError):
    pass


class Slot:
    def __init__(self, index: int, uid: int, fd: int):
        self.index, self.uid, self._fd = index, uid, fd

    def release(self) -> None:
        kill_uid(self.uid)
        os.close(self._fd)


def acquire(count: int, uid_base: int, wait: float = 5.0, directory: Path = LOCK_DIR) -> Slot:
    """Take the first free slot of ``count``; wait up to ``wait`` s for one to free up."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        for index in range(count):
            uid = uid_base + index
            fd = os.open(directory / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            kill_uid(uid)  # a previous holder that crashed may have left processes
            return Slot(index, uid, fd)
        if time.monotonic() > deadline:
            raise NoFreeSlot(f"all {count} playground slots are busy")
        time.sleep(0.05)


def processes_of(uid: int) -> list[int]:
    """The pids whose real or effective uid is ``uid`` (read from /proc)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", encoding="ascii", errors="replace") as f:
                line = next(x for x in f if x.startswith("Uid:"))
        except (OSError, StopIteration):
            continue  # it ended while we looked
        real, effective = (int(v) for v in line.split()[1:3])
        if uid in (real, effective):
            found.append(int(entry.name))
    return found


def kill_uid(uid: int) -> None:
    """SIGKILL every process running as ``uid`` (a slot's uid runs nothing but its sandbox)."""
    for pid in processes_of(uid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
