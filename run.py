"""Start the whole site for a newcomer: Redis (unless REDIS_URL is set), a worker, the web server.

    python run.py [--host 127.0.0.1] [--port 8000] [--classroom] [--no-worker | --worker-only]

Ctrl-C or SIGTERM stops every child. If any child dies, this says which and how, stops the
others and exits non-zero: a site without its worker or broker would only pretend to work.
The tests start their processes with the same commands (``redis_command`` and friends).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import config
import lan
from playground.settings import QUEUE as PLAYGROUND_QUEUE
from playground.settings import PlaygroundSettings

ROOT = config.ROOT


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
    # Threads (worker_pool.py, chosen by config's worker_pool): the sandbox tasks mostly sleep,
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


def web_command(host: str, port: int, threads: int = 2560, processes: int = 1) -> list[str]:
    # gthread holds each open websocket in a thread, so threads bounds the open pages: the
    # default is the site's cap on sockets (config.limits MAX_SOCKETS, 2000) plus room for
    # pages and held calls. gunicorn_worker.py adds a deadline for request headers.
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-k",
        "gunicorn_worker.ThreadWorker",
        "--threads",
        str(threads),
        # Connections a process accepts at all (gthread's default, 1000, is below the threads).
        "--worker-connections",
        str(threads + 1024),
        # Processes behind the one port (config.web_processes(); run.py passes it).
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
        "web:create_app()",
    ]


def wait_for_redis(url: str, deadline: float) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    while True:
        try:
            client.ping()
            return
        except redis.exceptions.ConnectionError as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"Redis at {redact(url)} does not answer: {exc}") from None
            time.sleep(0.05)


def wait_for_http(url: str, deadline: float, child: subprocess.Popen | None = None) -> None:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if child is not None and child.poll() is not None:
            raise SystemExit(f"the web server exited with code {child.returncode} while starting")
        if time.monotonic() > deadline:
            raise SystemExit(f"the web server did not answer {url} in time")
        time.sleep(0.1)


def redact(url: str) -> str:
    """Hide a password in a Redis URL before printing it."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


# -- Children die with run.py; one run.py per var/ ------------------------------------------
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when run.py dies, even by SIGKILL."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
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


class Supervisor:
    """Owns the child processes: starts them, watches them, stops them all."""

    def __init__(self) -> None:
        self.children: list[Child] = []
        self.stopping = False

    def start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        # A session of its own: Ctrl-C reaches only us, and we stop children in order.
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, start_new_session=True, preexec_fn=die_with_parent
        )
        self.children.append(Child(name, process))
        return process

    def restart(self, child: Child, env: dict, command: list[str]) -> None:
        """Start ``child`` again in its place (same name, same command)."""
        self.children.remove(child)
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


def describe_exit(code: int) -> str:
    if code < 0:
        return f"was killed by signal {signal.Signals(-code).name}"
    return f"exited with code {code}"


def port_number(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be from 1 to 65535, not {port}")
    return port


def positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"must be from 1 to 1000, not {value}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Start Celery Lab: Redis, a worker, the web.")
    parser.add_argument(
        "--host",
        default=os.environ.get("CELERY_LAB_HOST"),
        help="address the web server listens on (env CELERY_LAB_HOST; default 127.0.0.1, "
        "or every interface with --classroom)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=os.environ.get("CELERY_LAB_PORT", "8000"),
        help="web server port (env CELERY_LAB_PORT; default 8000)",
    )
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=os.environ.get("CELERY_LAB_WORKER_CONCURRENCY", "64"),
        help="worker threads (env CELERY_LAB_WORKER_CONCURRENCY; default 64)",
    )
    parser.add_argument(
        "--classroom",
        action="store_true",
        default=config.classroom_mode(),
        help="serve learners on the local network: listen on every interface and put this "
        "machine's LAN address in the join link and QR code (env CELERY_LAB_CLASSROOM)",
    )
    roles = parser.add_mutually_exclusive_group()
    roles.add_argument(
        "--no-worker",
        action="store_true",
        help="start Redis and the web only (run `make worker` elsewhere)",
    )
    roles.add_argument(
        "--worker-only",
        action="store_true",
        help="start only a worker, against REDIS_URL or the running site's Redis",
    )
    return parser.parse_args(argv)


def resolve_redis(supervisor: Supervisor, args: argparse.Namespace, env: dict) -> str:
    """Use REDIS_URL if set; else the running site's Redis (worker-only), else start our own."""
    url_file = config.VAR_DIR / "redis.url"
    if env.get("REDIS_URL"):
        return env["REDIS_URL"]
    if args.worker_only:
        if not url_file.exists():
            raise SystemExit(
                "No REDIS_URL and no running site: start `make run` first, or set REDIS_URL."
            )
        return url_file.read_text().strip()
    binary = find_redis_server()
    if binary is None:
        raise SystemExit(
            "redis-server is not installed. Install it (Debian/Ubuntu: "
            "`apt-get install redis-server`; macOS: `brew install redis`), or set "
            "REDIS_URL to a Redis you already run, e.g. redis://127.0.0.1:6379/0"
        )
    port = int(os.environ.get("CELERY_LAB_REDIS_PORT") or free_port())
    supervisor.start("redis", redis_command(binary, port, config.VAR_DIR / "redis"), env)
    url = f"redis://127.0.0.1:{port}/0"
    url_file.parent.mkdir(parents=True, exist_ok=True)
    url_file.write_text(url + "\n")
    return url


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    supervisor = Supervisor()
    stop = {"signal": None}

    def on_signal(signum, _frame):
        stop["signal"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)  # the terminal closed: stop, as for Ctrl-C
    env = dict(os.environ)
    backoff = Backoff(int(os.environ.get("CELERY_LAB_WORKER_RESTARTS") or 5))
    worker_cmd = worker_command(args.concurrency)
    # Workers that crash are started again (with backoff); the web and Redis are not.
    restartable = {"worker": worker_cmd}
    try:
        if not args.worker_only:
            lock = hold_run_lock(config.VAR_DIR)  # noqa: F841 (held until run.py exits)
        # Where learners join (classroom mode or CELERY_LAB_PUBLIC_URL), checked before
        # anything starts.
        learners = (
            "" if args.worker_only else lan.learners_url(args.classroom, args.port, args.host)
        )
        url = resolve_redis(supervisor, args, env)
        env["REDIS_URL"] = url
        wait_for_redis(url, time.monotonic() + 10)
        if not args.worker_only:
            config.secret_key()  # made once here, so every web process shares it
            # The instructor token: CELERY_LAB_INSTRUCTOR_TOKEN, else one kept under var/.
            env["CELERY_LAB_INSTRUCTOR_TOKEN"] = config.instructor_token()
            # Classroom mode: every interface, learners told the LAN address (Redis stays
            # on loopback). The printed links for you on this machine stay on loopback.
            host = args.host or ("0.0.0.0" if args.classroom else "127.0.0.1")
            if learners:
                env["CELERY_LAB_PUBLIC_URL"] = learners
            web_cmd = web_command(host, args.port, processes=config.web_processes())
            web = supervisor.start("web", web_cmd, env)
            base = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{args.port}"
            wait_for_http(base + "/api/health", time.monotonic() + 30, web)
        if not args.no_worker:
            supervisor.start("worker", worker_cmd, env)
            playground = PlaygroundSettings.from_env()
            if playground.enabled:
                restartable["playground worker"] = playground_worker_command(playground.concurrency)
                supervisor.start("playground worker", restartable["playground worker"], env)
        print(f"\nCelery Lab uses Redis at {redact(url)}", flush=True)
        if not args.worker_only:
            print(f"Celery Lab is running: open {base}/  (Ctrl-C stops everything)", flush=True)
            print(
                f"Instructors (keep this link to yourself): {base}/classroom/instructor"
                f"?token={env['CELERY_LAB_INSTRUCTOR_TOKEN']}\n",
                flush=True,
            )
            if learners:
                print(f"Learners join at {learners}/join (the projector's QR code)\n", flush=True)
        while stop["signal"] is None:
            dead = supervisor.dead_child()
            if dead is not None and dead.name in restartable and not supervisor.stopping:
                delay = backoff.next_delay()
                if delay is not None:
                    print(
                        f"\nCelery Lab: the {dead.name} {describe_exit(dead.process.returncode)}; "
                        f"starting it again in {delay:g} s (see its output above).",
                        file=sys.stderr,
                        flush=True,
                    )
                    deadline = time.monotonic() + delay
                    while stop["signal"] is None and time.monotonic() < deadline:
                        time.sleep(0.1)
                    if stop["signal"] is None:
                        supervisor.restart(dead, env, restartable[dead.name])
                    continue
                print(
                    f"\nCelery Lab: the {dead.name} keeps crashing ({backoff.limit + 1} times "
                    f"within {backoff.window:g} s); giving up.",
                    file=sys.stderr,
                    flush=True,
                )
            if dead is not None:
                print(
                    f"\nCelery Lab: the {dead.name} {describe_exit(dead.process.returncode)}; "
                    "stopping the rest (see its output above).",
                    file=sys.stderr,
                    flush=True,
                )
                supervisor.stop_all()
                return 1
            time.sleep(0.2)
    except SystemExit as exc:
        supervisor.stop_all()
        if isinstance(exc.code, str):
            print(f"Celery Lab: {exc.code}", file=sys.stderr)
            return 1
        raise
    print("\nCelery Lab: stopping…", flush=True)
    supervisor.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
