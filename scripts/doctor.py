"""`make doctor`: what this machine has and lacks for each make target, and how to fix it.

Standard library only, so it runs before .venv exists. It looks, and changes nothing: it reads
PATH and the site's settings (config.py, standard library only too), binds (and closes) the
web port, and PINGs REDIS_URL if that is set.

    python3 scripts/doctor.py        # exit 0: all found; 1: something is missing (listed)
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
MIN_PYTHON = (3, 11)
APT = "make installs it with apt-get when run as root; or run: apt-get install"
# Each locked set (Makefile) and the stamp `make` leaves once it is installed.
SETS = {
    "run": ("requirements.txt", ".installed"),
    "test": ("requirements-test.txt", ".installed-test"),
    "lint": ("requirements-lint.txt", ".installed-lint"),
    "bench": ("requirements-bench.txt", ".installed-bench"),
}


class Report:
    def __init__(self) -> None:
        self.problems = 0

    def ok(self, what: str, detail: str) -> None:
        print(f"  ok       {what}: {detail}")

    def note(self, what: str, detail: str) -> None:
        print(f"  note     {what}: {detail}")

    def missing(self, what: str, detail: str, fix: str) -> None:
        self.problems += 1
        print(f"  MISSING  {what}: {detail}\n           fix: {fix}")


def check_python(report: Report) -> None:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= MIN_PYTHON:
        report.ok("python", f"{version} ({sys.executable})")
    else:
        report.missing(
            "python",
            f"{version} is older than {'.'.join(map(str, MIN_PYTHON))}",
            "install Python 3.11 or newer and run make with PYTHON=python3.11",
        )


def check_venv(report: Report) -> None:
    if not (VENV / "bin" / "python").exists():
        report.note(".venv", "not made yet; the first `make run` (or test, check, bench) makes it")
        return
    have, stale = [], []
    for name, (lock, stamp) in SETS.items():
        stamp_path = VENV / stamp
        if stamp_path.exists():
            fresh = stamp_path.stat().st_mtime >= (ROOT / lock).stat().st_mtime
            (have if fresh else stale).append(name)
    report.ok(".venv", f"installed sets: {', '.join(have) or 'none'}")
    if stale:
        report.note(".venv", f"{', '.join(stale)} older than its lock: the next make reinstalls")


def program(name: str, *also: str) -> str | None:
    return shutil.which(name) or next((p for p in also if os.access(p, os.X_OK)), None)


def read_settings(report: Report):
    """The site's settings (config.py, standard library only): a bad one is reported here."""
    sys.path.insert(0, str(ROOT))
    import config

    try:
        return config.Settings.from_env()
    except config.SettingError as exc:
        report.missing("settings", str(exc.code), "correct that variable, or unset it")
        return config.Settings()


def check_programs(report: Report, settings) -> None:
    if settings.redis_url:
        report.ok("redis-server", "not needed: REDIS_URL is set (checked below)")
    elif found := program("redis-server", str(VENV / "bin" / "redis-server")):
        report.ok("redis-server", found)
    else:
        report.missing(
            "redis-server",
            "not found (make run, make test, make bench start their own)",
            f"{APT} redis-server (macOS: brew install redis), or set REDIS_URL to a Redis you run",
        )
    wanted = [
        ("chromium", "/usr/bin/chromium", "the browser tests (make test)", "chromium"),
        ("nginx", None, "the deployment test (make test, docs/deploy.md)", "nginx"),
        ("ip", None, "the classroom network test (make test)", "iproute2"),
        ("bwrap", None, "the playground's sandbox (make run)", "bubblewrap"),
    ]
    for name, path, why, package in wanted:
        # Chromium is looked for where the tests look (tests/conftest.py), not on PATH.
        found = (path if os.access(path, os.X_OK) else None) if path else program(name)
        if found:
            report.ok(name, found)
        else:
            report.missing(name, f"not found, for {why}", f"{APT} {package}")


def check_port(report: Report, settings) -> None:
    host, port = settings.launch.host or "127.0.0.1", settings.launch.port
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            report.missing(
                "port",
                f"{host}:{port} is not free for the web server ({exc.strerror})",
                "stop what uses it, or choose another: make run RUN_ARGS='--port 8001'",
            )
            return
    report.ok("port", f"{host}:{port} is free for the web server")


def redis_ping(url: str, timeout: float = 3.0) -> str:
    """Send PING (after AUTH if the URL has a password); return the reply line."""
    parts = urlsplit(url)
    if parts.scheme in ("unix", "redis+socket"):
        sock = socket.socket(socket.AF_UNIX)
        sock.settimeout(timeout)
        sock.connect(parts.path)
    elif parts.scheme in ("redis", "rediss"):
        sock = socket.create_connection((parts.hostname, parts.port or 6379), timeout)
        if parts.scheme == "rediss":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
    else:
        raise ValueError(f"{parts.scheme!r} is not a Redis URL scheme (redis, rediss, unix)")
    with sock:
        commands = []
        if parts.password:
            user = unquote(parts.username or "default")
            commands.append(["AUTH", user, unquote(parts.password)])
        commands.append(["PING"])
        reply = ""
        for command in commands:
            wire = f"*{len(command)}\r\n" + "".join(f"${len(c)}\r\n{c}\r\n" for c in command)
            sock.sendall(wire.encode())
            reply = sock.recv(256).decode(errors="replace").strip()
            if reply.startswith("-"):
                return reply
        return reply


def check_redis_url(report: Report, settings) -> None:
    url = settings.redis_url
    if not url:
        return
    scheme, _, rest = url.partition("://")
    shown = f"{scheme}://{rest.rpartition('@')[2]}"  # never print the password
    try:
        reply = redis_ping(url)
    except (OSError, ValueError) as exc:
        reply = f"-{exc}"
    if reply == "+PONG":
        report.ok("REDIS_URL", f"{shown} answers PING")
    else:
        report.missing(
            "REDIS_URL",
            f"{shown} does not answer PING ({reply.lstrip('-')})",
            "start that Redis, correct REDIS_URL, or unset it to let make run start its own",
        )


def main() -> int:
    print("Celery Lab doctor: what `make run`, `make test` and friends need on this machine")
    report = Report()
    check_python(report)
    check_venv(report)
    settings = read_settings(report)
    check_programs(report, settings)
    check_port(report, settings)
    check_redis_url(report, settings)
    if report.problems:
        print(f"{report.problems} missing: see each 'fix' above.")
        return 1
    print("Everything is here.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
