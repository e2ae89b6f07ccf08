"""Real processes for tests and benchmarks: redis-server, a Celery worker, the web server.

Each is started with the same command ``run.py`` uses, on a free loopback port, and stopped
(whole process group) on ``stop()``. Waits are polls with deadlines, never fixed sleeps.
"""

from __future__ import annotations

import functools
import os
import secrets
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import redis

from config import ROOT
from launcher import commands, supervisor, waiting


def poll(predicate, timeout: float, interval: float = 0.02, message: str = "condition"):
    """Call ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class Process:
    def __init__(self, name: str, command: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")  # closed in stop()
        self.popen = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Killed with the test run or the bench, even by SIGKILL, like run.py's children,
            # but by SIGKILL: nothing here has work worth finishing, and a process that
            # takes its time over a SIGTERM (a worker still starting, retrying a Redis that
            # is gone) would outlive the run. run.py has its reaper for that; tests do not.
            preexec_fn=functools.partial(supervisor.die_with_parent, signal.SIGKILL),
        )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        if self.alive():
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 10) -> None:
        self.signal(signal.SIGTERM)
        self.finish(timeout)

    def finish(self, timeout: float = 10) -> None:
        """Wait for the process to end (killed after ``timeout``) and close its log."""
        if self.alive():
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.popen.wait()
        self._log.close()


class Stack:
    """One Redis, and any number of workers and web servers pointed at it."""

    def __init__(
        self,
        redis_port: int | None = None,
        data_dir: Path | None = None,
        var_dir: Path | None = None,
    ):
        self.dir = Path(tempfile.mkdtemp(prefix="celerylab-"))
        self.data_dir = data_dir or self.dir / "redis"
        self.redis_port = redis_port or commands.free_port()
        self.url = f"redis://127.0.0.1:{self.redis_port}/0"
        # A given ``var_dir`` (with ``data_dir``) lets a second Stack reuse the first one's
        # cookie-signing key and Redis data: the same learners, after a restart.
        self.var_dir = var_dir or self.dir / "var"
        self.env = dict(os.environ, REDIS_URL=self.url, CELERY_LAB_VAR_DIR=str(self.var_dir))
        # The instructor's token for this stack's web servers (tests sign in with it).
        self.instructor_token = secrets.token_urlsafe(18)
        self.env["CELERY_LAB_INSTRUCTOR_TOKEN"] = self.instructor_token
        self.processes: list[Process] = []
        self.redis_process: Process | None = None

    def start_redis(self) -> Process:
        binary = commands.find_redis_server()
        assert binary, "redis-server is not installed (make test installs it)"
        self.redis_process = self._start(
            "redis", commands.redis_command(binary, self.redis_port, self.data_dir)
        )
        client = redis.Redis.from_url(self.url)
        poll(lambda: self._pings(client), 10, message="redis-server to answer PING")
        return self.redis_process

    @staticmethod
    def _pings(client) -> bool:
        try:
            return client.ping()
        except redis.exceptions.ConnectionError:
            return False

    def start_worker(self, name: str = "lab", concurrency: int = 16, wait: bool = True) -> Process:
        process = self._start(f"worker-{name}", commands.worker_command(concurrency, name=name))
        if wait:
            poll(
                lambda: "ready." in process.log() or not process.alive(),
                30,
                interval=0.05,
                message=f"worker {name} to be ready",
            )
            assert process.alive(), process.log()
        return process

    def start_playground_worker(self, concurrency: int = 2) -> Process:
        """The worker that runs learners' own code in sandboxes (queue ``playground``)."""
        process = self._start("worker-playground", commands.playground_worker_command(concurrency))
        poll(
            lambda: "ready." in process.log() or not process.alive(),
            30,
            interval=0.05,
            message="the playground worker to be ready",
        )
        assert process.alive(), process.log()
        return process

    def start_web(
        self,
        threads: int = 64,
        port: int | None = None,
        env: dict | None = None,
        processes: int = 1,
        worker: str = "threads",
    ) -> tuple[Process, str]:
        # A fixed ``port`` lets a test restart the web server where open pages expect it.
        # ``env`` adds settings for this server only (e.g. CELERY_LAB_LESSONS_DIR).
        # One gunicorn process unless asked (run.py's default is one per core): the caps tests
        # count what one process holds.
        port = port or commands.free_port()
        command = commands.web_command("127.0.0.1", port, threads, processes, worker)
        process = self._start(f"web-{port}", command, env)
        base = f"http://127.0.0.1:{port}"
        waiting.wait_for_http(base + "/api/health", time.monotonic() + 30, process.popen)
        return process, base

    def _start(self, name: str, command: list[str], env: dict | None = None) -> Process:
        process = Process(name, command, {**self.env, **(env or {})}, self.dir)
        self.processes.append(process)
        return process

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=True)

    def worker(self, name: str = "lab") -> Process:
        """The worker started as ``name`` (``start_worker``'s default)."""
        return next(p for p in self.processes if p.name == f"worker-{name}")

    def web_pids(self) -> set[int]:
        """The pids of ``self.web``, the web server: its master and every process under it."""
        master = psutil.Process(self.web.popen.pid)
        return {master.pid} | {child.pid for child in master.children(recursive=True)}

    def stop(self) -> None:
        # Web and workers first, Redis last, as run.py does. Web and workers are told together,
        # then waited for: each takes seconds to shut down, which adds up over the suite's
        # stacks when they go one after another.
        redis = [p for p in self.processes if p.name == "redis"]
        others = [p for p in reversed(self.processes) if p not in redis]
        for process in others:
            process.signal(signal.SIGTERM)
        for process in others:
            process.finish()
        for process in redis:
            process.stop()
