"""Run one sandbox: start it, hand it the learner's files, pump its reports, end it.

The only channels out of the sandbox are two pipes this process made: the report pipe and
bwrap's stderr. Nothing here opens, connects to or follows anything inside the run directory
(it exists only in the sandbox's own mount namespace), so a learner who swaps the run's Redis
socket for a symlink, or starts a server of their own, changes nothing out here.
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import report, slots
from .sandbox import seccomp_filter
from .settings import PlaygroundSettings

log = logging.getLogger(__name__)

STDERR_CAP = 4096
# Everything the pipe may carry in one run: both output streams, events and slack.
PIPE_SLACK = 512 * 1024


@dataclass
class Ended:
    done_reason: str | None  # what the collector said ("done", "view_error", ...), if it did
    stopped: str | None  # what we enforced: wall_clock, output, replaced
    stderr: str  # bwrap's own complaints (for the log, never shown as the learner's)


class Sandbox:
    """One started sandbox: bwrap, our collector inside, and the two pipes out of it."""

    def __init__(self, launcher, uid: int):
        self.uid = uid
        self.started = time.monotonic()
        filter_read, filter_write = os.pipe()
        os.write(filter_write, seccomp_filter())
        os.close(filter_write)
        self.report_read, report_write = os.pipe()
        argv = launcher.command(uid, filter_read, launcher.collector(report_write))
        try:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(filter_read, report_write),
                start_new_session=True,
            )
        finally:
            os.close(filter_read)
            os.close(report_write)

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        teardown(self.process, self.uid)
        os.close(self.report_read)


def run_sandbox(
    settings: PlaygroundSettings,
    sandbox: Sandbox,
    request: dict,
    on_report: Callable[[dict], str | None],
    should_stop: Callable[[], str | None],
) -> Ended:
    """Give ``sandbox`` the request ({files, view}); hand each valid report to ``on_report``.

    ``on_report`` and ``should_stop`` return a reason to stop the run now, or None. The
    sandbox is torn down before this returns, whatever happened.
    """
    limits = settings.limits
    process = sandbox.process
    deadline = time.monotonic() + limits.wall_seconds
    done_reason = stopped = None
    stderr = b""
    try:
        try:
            process.stdin.write(json.dumps(request).encode())
            process.stdin.close()
        except BrokenPipeError:
            pass  # it died at once; its stderr says why
        selector = selectors.DefaultSelector()
        selector.register(sandbox.report_read, selectors.EVENT_READ, "report")
        selector.register(process.stderr, selectors.EVENT_READ, "stderr")
        lines = report.LineReader()
        received = 0
        budget = 2 * limits.output_kb * 1024 + PIPE_SLACK
        open_streams = 2
        next_check = 0.0
        while open_streams and done_reason is None and stopped is None:
            now = time.monotonic()
            if now >= deadline:
                stopped = "wall_clock"
                break
            if now >= next_check:
                stopped = should_stop()
                next_check = now + 0.2
                if stopped:
                    break
            for key, _ in selector.select(timeout=min(0.2, deadline - now)):
                fd = key.fd
                chunk = os.read(fd, 65536)
                if not chunk:
                    selector.unregister(fd)
                    open_streams -= 1
                    continue
                if key.data == "stderr":
                    stderr = (stderr + chunk)[:STDERR_CAP]
                    continue
                received += len(chunk)
                if received > budget:
                    stopped = "output"
                    break
                for line in lines.feed(chunk):
                    parsed = report.parse_line(line)
                    if parsed is None:
                        continue
                    if parsed["k"] == "done":
                        done_reason = parsed["reason"]
                    stopped = stopped or on_report(parsed)
                if stopped:
                    break
        selector.close()
    finally:
        sandbox.close()
    return Ended(done_reason, stopped, stderr.decode("utf-8", "replace"))


def teardown(process: subprocess.Popen, uid: int) -> None:
    """Kill the sandbox and wait until nothing of it is left.

    Killing bwrap's session kills the sandbox's init (die-with-parent), and the kernel then
    kills the rest of its pid namespace; that is asynchronous, so wait for the uid to be empty.
    """
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    deadline = time.monotonic() + 5
    while slots.processes_of(uid) and time.monotonic() < deadline:
        slots.kill_uid(uid)
        time.sleep(0.01)
    if process.stdin and not process.stdin.closed:
        try:
            process.stdin.close()
        except BrokenPipeError:
            pass
    if process.stderr:
        process.stderr.close()
