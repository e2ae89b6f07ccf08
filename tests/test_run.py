"""`python run.py`: starts Redis, a worker and the web server, and stops every one of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

import psutil
import pytest

import run
from config import ROOT
from tests.stack import poll


def start_run(tmp_path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["CELERY_LAB_VAR_DIR"] = str(tmp_path / "var")
    env["CELERY_LAB_WORKER_CONCURRENCY"] = "8"
    return subprocess.Popen(
        [sys.executable, "run.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until(process: subprocess.Popen, marker: str) -> str:
    lines = []

    def saw_marker():
        line = process.stdout.readline()
        lines.append(line)
        if not line and process.poll() is not None:
            raise AssertionError("run.py exited early:\n" + "".join(lines))
        return marker in line

    poll(saw_marker, 60, interval=0, message=f"run.py to print {marker!r}")
    return "".join(lines)


def family(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def wait_for_worker(process: subprocess.Popen) -> None:
    read_until(process, "ready.")


@pytest.fixture
def site(tmp_path):
    port = run.free_port()
    process = start_run(tmp_path, "--port", str(port))
    output = read_until(process, "Celery Lab is running")
    wait_for_worker(process)
    yield process, port, output
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    process.stdout.close()


def test_it_prints_the_url_and_serves_the_site_with_its_own_redis(site):
    process, port, output = site
    assert f"open http://127.0.0.1:{port}/" in output
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health") as response:
        assert response.status == 200
    names = {p.name() for p in family(process.pid)}
    assert "redis-server" in names


def test_the_embedded_redis_listens_on_loopback_only(site):
    process, _, _ = site
    redis_server = next(p for p in family(process.pid) if p.name() == "redis-server")
    addresses = {
        c.laddr.ip
        for c in redis_server.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    }
    assert addresses == {"127.0.0.1"}


def test_sigterm_stops_every_child_and_exits_cleanly(site):
    process, _, _ = site
    children = family(process.pid)
    assert len(children) >= 3
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []


def test_a_dead_worker_stops_the_site_and_says_which_child_died(site):
    process, _, _ = site
    children = family(process.pid)
    worker = next(
        p
        for p in children
        if "worker" in " ".join(p.cmdline()) and "celery" in " ".join(p.cmdline())
    )
    worker.kill()
    output = read_until(process, "stopping the rest")
    assert "the worker was killed by signal SIGKILL" in output
    assert process.wait(30) == 1
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "0"], "port must be from 1 to 65535"),
        (["--port", "http"], "is not a port number"),
        (["--port", "70000"], "port must be from 1 to 65535"),
        (["--concurrency", "-3"], "must be from 1 to 1000"),
        (["--concurrency", "many"], "is not a whole number"),
        (["--no-worker", "--worker-only"], "not allowed with argument"),
        (["--colour", "green"], "unrecognized arguments"),
    ],
)
def test_a_bad_flag_is_refused_with_a_clear_message_and_starts_nothing(tmp_path, args, says):
    process = start_run(tmp_path, *args)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert says in output
    assert not (tmp_path / "var" / "redis.url").exists()
