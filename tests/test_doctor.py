"""`make doctor` says what the machine has, and names what is missing with how to fix it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from config import ROOT
from launcher import commands


def doctor(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_LAB_PORT")}
    return subprocess.run(
        [sys.executable, "scripts/doctor.py"],
        cwd=ROOT,
        env={**base, "CELERY_LAB_PORT": str(commands.free_port()), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_on_this_machine_everything_is_found_and_redis_url_answers(stack):
    done = doctor(REDIS_URL=stack.url)
    assert done.returncode == 0, done.stdout
    for line in ("ok       python: 3.", "ok       nginx: ", "ok       chromium: /usr/bin/chromium"):
        assert line in done.stdout
    assert f"ok       REDIS_URL: {stack.url} answers PING" in done.stdout
    assert "Everything is here." in done.stdout


def test_a_program_missing_from_path_is_named_with_its_fix(tmp_path):
    # A PATH with nothing on it but this Python: every program doctor looks up is missing.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    done = doctor(PATH=str(bin_dir))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    for name, package in (("nginx", "nginx"), ("ip", "iproute2"), ("bwrap", "bubblewrap")):
        at = next(i for i, line in enumerate(lines) if line.startswith(f"  MISSING  {name}:"))
        assert lines[at + 1].strip().endswith(f"apt-get install {package}")
    if not (ROOT / ".venv" / "bin" / "redis-server").exists():
        assert "  MISSING  redis-server: not found" in done.stdout
    assert "missing: see each 'fix' above." in done.stdout


def test_a_redis_url_that_does_not_answer_and_a_busy_port_are_reported():
    with socket.socket() as busy, socket.socket() as closed:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        closed.bind(("127.0.0.1", 0))  # bound, never listening: a connection is refused
        port = busy.getsockname()[1]
        dead = f"redis://:secret@127.0.0.1:{closed.getsockname()[1]}/0"
        done = doctor(REDIS_URL=dead, CELERY_LAB_PORT=str(port))
    assert done.returncode == 1
    assert (
        "MISSING  REDIS_URL: redis://127.0.0.1:" in done.stdout
        and "does not answer PING" in done.stdout
    )
    assert "secret" not in done.stdout
    assert f"MISSING  port: 127.0.0.1:{port} is not free" in done.stdout
    assert "RUN_ARGS='--port" in done.stdout
