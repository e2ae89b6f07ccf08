"""The command lines run.py starts: Redis, the site's worker, the playground worker and the web
server (the tests start their processes with the same commands), and finding what they need."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import config
from playground.settings import QUEUE as PLAYGROUND_QUEUE


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def find_redis_server() -> str | None:
    """Return the redis-server on PATH, else one installed into the venv's bin/."""
    venv_binary = str(Path(sys.executable).parent / "redis-server")
    for candidate in (shutil.which("redis-server"), venv_binary):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def redis_command(binary: str, port: int, data_dir: Path) -> list[str]:
    """Loopback only, append-only persistence: progress survives a restart."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--protected-mode",
        "yes",
        "--dir",
        str(data_dir),
        "--appendonly",
        "yes",
        "--save",
        "",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
    ]


def worker_command(concurrency: int, name: str = "lab") -> list[str]:
    # Threads (worker/pool.py, chosen by config's worker_pool): the sandbox tasks mostly sleep,
    # 64 threads start 50 sleepers in 0.2 s, and the instructor can grow or shrink the pool.
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "celery_app",
        "worker",
        "-E",
        "-c",
        str(concurrency),
        "-Q",
        config.QUEUE,
        "-n",
        f"{name}@%h",
        "--loglevel",
        "INFO",
        "--without-mingle",
        "--without-gossip",
    ]


def playground_worker_command(concurrency: int, name: str = "playground") -> list[str]:
    """The worker that runs learners' own code: queue ``playground`` only, one run a thread.

    Each run mostly waits on its sandbox's pipe, so threads are enough; ``concurrency`` is the
    cap on runs at once (the rest wait in the queue, where their position is read).
    """
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "celery_app",
        "worker",
        "-P",
        "threads",
        "-c",
        str(concurrency),
        "-Q",
        PLAYGROUND_QUEUE,
        "-n",
        f"{name}@%h",
        "--loglevel",
        "INFO",
        "--without-mingle",
        "--without-gossip",
    ]


# gunicorn worker classes: the site's own (gthread with a header deadline), and gevent, which
# only the bench starts (``python -m bench --web-worker gevent``, to measure it beside ours).
WEB_WORKERS = {"threads": "launcher.gunicorn_worker.ThreadWorker", "gevent": "gevent"}


def web_command(
    host: str, port: int, threads: int = 2560, processes: int = 1, worker: str = "threads"
) -> list[str]:
    # gthread holds each open websocket in a thread, so threads bounds the open pages: the
    # default is the site's cap on sockets (config.limits MAX_SOCKETS, 2000) plus room for
    # pages and held calls. launcher/gunicorn_worker.py adds a deadline for request headers.
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-k",
        WEB_WORKERS[worker],
        "--threads",
        str(threads),
        # Connections a process accepts at all (gthread's default, 1000, is below the threads).
        "--worker-connections",
        str(threads + 1024),
        # Processes behind the one port (config's Launch.web_processes; run.py passes it).
        "-w",
        str(processes),
        "-b",
        f"{host}:{port}",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        "web:serve()",  # create_app(), with the lessons read before the first request
    ]
