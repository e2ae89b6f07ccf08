"""run.py's children: started in a session of their own, dying with run.py (and killed by
launcher/reaper.py if they linger), watched, restarted with backoff when a worker crashes, and
stopped in order; one run.py per var/ (a lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import config

ROOT = config.ROOT


# -- Children die with run.py; one run.py per var/ ------------------------------------------
PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """In the child, before exec: ask Linux to send ``sig`` when run.py dies, even by SIGKILL.

    run.py's children get SIGTERM, so a worker can finish its tasks (the reaper kills what
    takes too long); the test stack's get SIGKILL (tests/support/stack.py).
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):
        pass  # not Linux: Ctrl-C, SIGTERM and SIGHUP still stop every child
    if os.getppid() == 1:
        os._exit(1)  # run.py died before prctl took effect


def hold_run_lock(var_dir: Path):
    """Return an open, locked var/run.lock; SystemExit if another run.py holds it."""
    import fcntl

    var_dir.mkdir(parents=True, exist_ok=True)
    lock = open(var_dir / "run.lock", "a+")  # kept open (and locked) while run.py lives
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "another process"
        lock.close()
        raise SystemExit(
            f"Celery Lab is already running from {var_dir} ({holder}); stop it first "
            "(Ctrl-C in its terminal), or use another CELERY_LAB_VAR_DIR."
        ) from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"pid {os.getpid()}\n")
    lock.flush()
    return lock


# -- A worker that crashes is started again, with backoff --------------------------------------
class Backoff:
    """Restart delays 1, 2, 4 … s; gives up after ``limit`` crashes within ``window`` seconds."""

    def __init__(self, limit: int, window: float = 60.0):
        self.limit = limit
        self.window = window
        self.crashes: list[float] = []

    def next_delay(self) -> float | None:
        now = time.monotonic()
        self.crashes = [t for t in self.crashes if now - t < self.window] + [now]
        if len(self.crashes) > self.limit:
            return None
        return float(min(2 ** (len(self.crashes) - 1), 30))


@dataclass
class Child:
    name: str
    process: subprocess.Popen


# How long a child may take over the SIGTERM it gets when run.py dies, before the reaper kills
# it: long enough for a worker's warm shutdown of short tasks, short enough that nothing is left
# behind for the next run.py to trip over.
ORPHAN_GRACE = 10.0


class Supervisor:
    """Owns the child processes: starts them, watches them, stops them all."""

    def __init__(self, orphan_grace: float = ORPHAN_GRACE) -> None:
        self.children: list[Child] = []
        self.stopping = False
        self.orphan_grace = orphan_grace
        self.reaper: subprocess.Popen | None = None

    def tell_reaper(self, line: str) -> None:
        """One line to launcher/reaper.py, started with the first child (it outlives us)."""
        if self.reaper is None:
            self.reaper = subprocess.Popen(
                [sys.executable, "-m", "launcher.reaper", str(self.orphan_grace)],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                text=True,
                start_new_session=True,  # neither Ctrl-C nor PR_SET_PDEATHSIG reaches it
            )
        try:
            self.reaper.stdin.write(line + "\n")
            self.reaper.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass  # the reaper is gone: the children still have PR_SET_PDEATHSIG

    def start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        # A session of its own: Ctrl-C reaches only us, and we stop children in order.
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, start_new_session=True, preexec_fn=die_with_parent
        )
        self.children.append(Child(name, process))
        self.tell_reaper(f"+{process.pid}")  # a session leader: its group is its pid
        return process

    def restart(self, child: Child, env: dict, command: list[str]) -> None:
        """Start ``child`` again in its place (same name, same command)."""
        self.children.remove(child)
        self.tell_reaper(f"-{child.process.pid}")
        self.start(child.name, command, env)

    def dead_child(self) -> Child | None:
        return next((c for c in self.children if c.process.poll() is not None), None)

    def stop_all(self, timeout: float = 10.0) -> None:
        self.stopping = True
        # Web first (no new tasks), then the worker (finishes or returns its tasks), Redis last.
        for child in reversed(self.children):
            if child.process.poll() is None:
                try:
                    os.killpg(child.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
                try:
                    child.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(child.process.pid, signal.SIGKILL)
                    child.process.wait()
        if self.reaper is not None:
            self.tell_reaper("done")
            try:
                self.reaper.stdin.close()
                self.reaper.wait(10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.reaper.kill()
            self.reaper = None


def describe_exit(code: int) -> str:
    if code < 0:
        return f"was killed by signal {signal.Signals(-code).name}"
    return f"exited with code {code}"
