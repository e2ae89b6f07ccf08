"""The sandbox's first process: start the run's Redis, worker and view, and report on a pipe.

    python -m playground.sandboxed.collector REPORT_FD LIMITS_JSON   (the request: on stdin)

It gets warm first (limits applied, Redis up, the worker and view processes started and done
importing Celery) and only then reads the request, so a sandbox can be started before a
learner presses Run and take their files the moment they do.

Every report is one JSON line ``{"k": kind, ...}`` on REPORT_FD, a pipe the launcher handed
in; nothing outside ever connects to anything in the run directory. Kinds: ``phase``,
``banner``, ``out``, ``event``, ``view``, ``worker_exit``, ``done`` (see playground.report,
which validates each one again outside).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import resource
import socket
import subprocess
import sys
import threading
import time

from . import APP_DIR, LAB, REDIS_SOCKET, VIEW_FILE, inputs

MAX_TEXT = 4000  # one output line or field, before the outside's own caps
LOG_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d ")
EVENT_FIELDS = (
    "name",
    "args",
    "kwargs",
    "retries",
    "eta",
    "expires",
    "result",
    "exception",
    "traceback",
    "runtime",
    "hostname",
    "parent_id",
    "root_id",
)
FINAL_EVENTS = ("task-succeeded", "task-failed", "task-revoked", "task-rejected")
PR_SET_DUMPABLE = 4


class Reporter:
    """Writes report lines from several threads, one whole line at a time."""

    def __init__(self, fd: int):
        self.fd = fd
        self.lock = threading.Lock()

    def send(self, kind: str, **fields) -> None:
        data = (json.dumps({"k": kind, **fields}, default=repr) + "\n").encode()
        with self.lock:
            while data:
                data = data[os.write(self.fd, data) :]


def _clip(value):
    return value[:MAX_TEXT] if isinstance(value, str) else value


def apply_limits(limits: dict) -> None:
    """Lower this process's limits (children inherit them; soft = hard, so none can raise)."""

    def cap(which, value):
        resource.setrlimit(which, (value, value))

    cap(resource.RLIMIT_DATA, limits["memory_mb"] * 1024 * 1024)
    # RLIMIT_DATA does not count shared mappings (mmap.mmap(-1, n) is one): the address space
    # limit, twice the memory limit to leave room for thread stacks and libraries, does.
    cap(resource.RLIMIT_AS, 2 * limits["memory_mb"] * 1024 * 1024)
    # CPU: SIGXCPU at the soft limit ends the process; one second later SIGKILL, in case the
    # learner's code caught SIGXCPU (soft == hard would skip straight to SIGKILL).
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 1))
    cap(resource.RLIMIT_NPROC, limits["processes"])
    cap(resource.RLIMIT_FSIZE, limits["file_mb"] * 1024 * 1024)
    cap(resource.RLIMIT_NOFILE, limits["open_files"])
    cap(resource.RLIMIT_CORE, 0)
    os.nice(limits["nice"])


def not_dumpable() -> None:
    # The learner's code runs as our uid: without this it could open /proc/<us>/fd/<report>.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def write_files(request: dict) -> None:
    for name, text in request["files"].items():
        with open(os.path.join(APP_DIR, name), "w", encoding="utf-8") as f:
            f.write(text)
    with open(VIEW_FILE, "w", encoding="utf-8") as f:
        f.write(request["view"])


def child_env() -> dict:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": LAB,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.environ["PYTHONPATH"],
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MALLOC_ARENA_MAX": "2",
    }


def start_redis() -> subprocess.Popen:
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            "0",
            "--unixsocket",
            REDIS_SOCKET,
            "--unixsocketperm",
            "700",
            "--dir",
            LAB,
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory",
            "32mb",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=LAB,
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(REDIS_SOCKET)
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return process
        except OSError:
            time.sleep(0.005)
    raise RuntimeError("the run's Redis did not start")


class Run:
    """The collector's state: which tasks the view sent, and which of them are final."""

    def __init__(self, reporter: Reporter):
        self.report = reporter
        self.sent: set[str] = set()
        self.view_done = threading.Event()
        self.worker_ready = threading.Event()
        self.consuming = threading.Event()
        self.finished: set[str] = set()  # tasks whose final event has arrived

    # -- the run's events ---------------------------------------------------------------------
    def watch_events(self, app) -> None:
        from celery.events.receiver import EventReceiver

        consuming = self.consuming

        class Receiver(EventReceiver):
            def on_consume_ready(self, *args, **kwargs):
                super().on_consume_ready(*args, **kwargs)
                consuming.set()

        def on_event(event: dict) -> None:
            kind = event.get("type", "")
            if not kind.startswith("task-") or not isinstance(event.get("uuid"), str):
                return
            if kind in FINAL_EVENTS:
                self.finished.add(event["uuid"])
            fields = {k: _clip(event[k]) for k in EVENT_FIELDS if k in event}
            self.report.send(
                "event",
                type=kind,
                uuid=event["uuid"],
                timestamp=event.get("timestamp"),
                fields=fields,
            )

        with app.connection_for_read() as conn:
            Receiver(conn, handlers={"*": on_event}, app=app).capture(limit=None, wakeup=False)

    # -- the worker ---------------------------------------------------------------------------
    def pump_worker(self, process: subprocess.Popen) -> None:
        """Report the banner (everything before the first log line), then each log line."""
        banner: list[str] | None = []
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if banner is not None and (LOG_LINE.match(line) or len(banner) > 200):
                self.send_banner(banner)
                banner = None
            if banner is not None:
                banner.append(line)
                continue
            self.send_output("worker", line)
            if " ready." in line:
                self.worker_ready.set()
        if banner:
            self.send_banner(banner)

    def send_banner(self, lines: list[str]) -> None:
        tasks, in_tasks = [], False
        for line in lines:
            if line.strip() == "[tasks]":
                in_tasks = True
            elif in_tasks and line.startswith("  . "):
                tasks.append(line[4:].strip()[:200])
            elif in_tasks and line.strip():
                in_tasks = False
        self.report.send("banner", text=_clip("\n".join(lines).strip("\n")), tasks=tasks[:200])

    # -- the view -----------------------------------------------------------------------------
    def pump_view_output(self, process: subprocess.Popen) -> None:
        for raw in process.stdout:
            self.send_output("view", raw.decode("utf-8", "replace").rstrip("\n"))

    def send_output(self, stream: str, line: str) -> None:
        # A long line goes in pieces, so all of it counts against the stream's output cap.
        for start in range(0, max(len(line), 1), MAX_TEXT):
            self.report.send("out", stream=stream, text=line[start : start + MAX_TEXT])

    def pump_view_control(self, fd: int, result: dict) -> None:
        with os.fdopen(fd, "rb") as control:
            for raw in control:
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(message, dict) and isinstance(message.get("sent"), str):
                    self.sent.add(message["sent"][:64])
                elif isinstance(message, dict) and isinstance(message.get("traceback"), str):
                    result["traceback"] = message["traceback"][-8000:]
                    # The view's children (a fork bomb's, say) end with tracebacks too:
                    # a few are enough to tell which limit they met.
                    result["seen"] = result.get("seen", 0) + 1
                    if result["seen"] <= 5:
                        self.report.send("traceback", text=message["traceback"][-8000:])


def all_final(app, task_ids: set[str]) -> bool:
    from celery.result import AsyncResult
    from celery.states import READY_STATES

    return all(AsyncResult(t, app=app).state in READY_STATES for t in list(task_ids))


def send_result(reporter: Reporter, app, task_id: str) -> None:
    from celery.result import AsyncResult

    result = AsyncResult(task_id, app=app)
    fields = {"traceback": _clip(result.traceback)} if result.traceback else {}
    key = "result" if result.state == "SUCCESS" else "exception"
    fields[key] = _clip(repr(result.result))
    reporter.send("result", uuid=task_id, state=result.state, fields=fields)


def spawn(module: str, env: dict, pass_fds=()) -> subprocess.Popen:
    """Start a zygote: it imports Celery now and waits for "go" before touching learner code."""
    return subprocess.Popen(
        [sys.executable, "-m", f"playground.sandboxed.{module}", *map(str, pass_fds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.PIPE,
        cwd=APP_DIR,
        env=env,
        pass_fds=pass_fds,
    )


def go(process: subprocess.Popen) -> None:
    process.stdin.write(b"go\n")
    process.stdin.close()


def main() -> int:
    """Get warm (Redis up, worker and view imported Celery), then wait for the request."""
    report_fd, limits = int(sys.argv[1]), json.loads(sys.argv[2])
    os.set_inheritable(report_fd, False)
    not_dumpable()
    apply_limits(limits)
    reporter = Reporter(report_fd)
    env = child_env()
    start_redis()
    os.makedirs(APP_DIR, exist_ok=True)
    worker = spawn("worker", env)
    control_r, control_w = os.pipe()
    view = spawn("view", env, pass_fds=(control_w,))
    os.close(control_w)
    from celery import Celery

    from . import BROKER_URL

    watcher = Celery("collector", broker=BROKER_URL, backend=BROKER_URL)
    watcher.conf.update(accept_content=["json"], result_accept_content=["json"])
    run = Run(reporter)
    threading.Thread(target=run.watch_events, args=(watcher,), daemon=True).start()
    worker_pump = threading.Thread(target=run.pump_worker, args=(worker,), daemon=True)
    worker_pump.start()

    # Warm until here: the launcher may have started us long before a learner pressed Run.
    request = json.loads(sys.stdin.buffer.read())
    write_files(request)
    inputs.write(request.get("inputs"))  # an exercise's fresh inputs (sandboxed/inputs.py)
    reporter.send("phase", phase="starting")
    go(worker)

    def worker_died() -> bool:
        if worker.poll() is None:
            return False
        worker_pump.join(2)
        reporter.send("worker_exit", code=worker.returncode)
        reporter.send("done", reason="worker_error")
        return True

    while not (run.worker_ready.is_set() and run.consuming.is_set()):
        if worker_died():
            return 0
        time.sleep(0.005)
    reporter.send("phase", phase="running")

    result: dict = {}
    pumps = [
        threading.Thread(target=run.pump_view_output, args=(view,), daemon=True),
        threading.Thread(target=run.pump_view_control, args=(control_r, result), daemon=True),
    ]
    for pump in pumps:
        pump.start()
    go(view)
    code = view.wait()
    for pump in pumps:
        pump.join(2)
    reporter.send("view", exit=code, traceback=result.get("traceback"))

    # Every task the view sent must reach a final state (retries and countdowns included): its
    # final event, or else the result backend's word. Not the backend alone: after a retry with
    # countdown 0 the new delivery can succeed before the old one stores RETRY, and Celery's
    # guard against overwriting a SUCCESS reads and writes apart, so the backend may say RETRY
    # for good (a run that waited for it met the wall clock).
    while not all_final(watcher, run.sent - run.finished):
        if worker_died():
            return 0
        time.sleep(0.05)
    # The final events travel by pub/sub just behind the result: let them arrive (briefly).
    deadline = time.monotonic() + 1
    while not run.sent <= run.finished and time.monotonic() < deadline:
        time.sleep(0.01)
    # No final event (Celery sends none for a MemoryError, say): the result backend knows.
    for task_id in sorted(run.sent - run.finished):
        send_result(reporter, watcher, task_id)
    reporter.send("done", reason="view_error" if code else "done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
