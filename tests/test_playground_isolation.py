"""The sandbox refuses what a learner's code must never do: each case proven by a real run.

One probe run tries everything and prints what happened as JSON (one run, so these checks cost
one sandbox); tricks that change the run itself get runs of their own.
"""

from __future__ import annotations

import os
import sys
import uuid

import psutil
import pytest

import config
from tests.support.playground_stack import Coder, coder_fixture, site_fixture
from tests.support.stack import poll

PROBE = """\
import json, os, socket

found = {}


def attempt(name, action):
    try:
        action()
        found[name] = "allowed"
    except OSError as exc:
        found[name] = f"{type(exc).__name__} {exc.errno}"


def connect(family, address):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        s.connect(address)


def write(path):
    with open(path, "w") as f:
        f.write("mine")


attempt("site_redis", lambda: connect(socket.AF_INET, ("127.0.0.1", SITE_REDIS_PORT)))
attempt("web_server", lambda: connect(socket.AF_INET, ("127.0.0.1", WEB_PORT)))
attempt("any_address", lambda: connect(socket.AF_INET, ("192.0.2.1", 80)))
attempt("ipv6", lambda: connect(socket.AF_INET6, ("::1", WEB_PORT)))
attempt("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW))
attempt("read_secret_key", lambda: open(SECRET_KEY).read())
attempt("read_project_var", lambda: os.listdir(PROJECT_VAR))
attempt("read_site_redis_data", lambda: os.listdir(SITE_REDIS_DATA))
attempt("write_usr", lambda: write("/usr/mine"))
attempt("write_etc", lambda: write("/etc/mine"))
attempt("write_venv", lambda: write(VENV + "/mine"))
attempt("write_python", lambda: write(PYTHON_HOME + "/mine"))
attempt("write_engine", lambda: write("/opt/lab/playground/mine"))
attempt("write_root", lambda: write("/mine"))
attempt("write_tmp", lambda: write("/tmp/" + TMP_NAME))
attempt("write_run_dir", lambda: write("/lab/mine"))
attempt("dev_shm_a", lambda: open("/dev/shm/a", "wb").write(b"x" * 600_000))
attempt("dev_shm_b", lambda: open("/dev/shm/b", "wb").write(b"x" * 600_000))
attempt("collector_fds", lambda: os.listdir(f"/proc/{os.getppid()}/fd"))
attempt("chroot", lambda: os.chroot("/lab"))
import ctypes

libc = ctypes.CDLL(None, use_errno=True)


def syscall_errno(call, *args):
    result = call(*args)
    return "allowed" if result >= 0 else ctypes.get_errno()


found["unshare_user"] = syscall_errno(libc.unshare, 0x10000000)  # CLONE_NEWUSER
found["unshare_net"] = syscall_errno(libc.unshare, 0x40000000)  # CLONE_NEWNET
found["mount"] = syscall_errno(libc.mount, b"none", b"/lab", b"tmpfs", 0, None)
found["ptrace"] = syscall_errno(libc.ptrace, 0, 0, None, None)  # PTRACE_TRACEME
found["bpf"] = syscall_errno(libc.syscall, 321, 0, None, 0)
found["io_uring"] = syscall_errno(libc.syscall, 425, 1, None)
found["uid"] = os.getuid()
found["nice"] = os.nice(0)
status = open("/proc/self/status").read()
found["caps"] = [line.split()[1] for line in status.splitlines() if line.startswith("CapEff")]
cmdlines = []
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            cmdlines.append(open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace"))
        except OSError:
            pass
found["processes"] = cmdlines
found["project_visible"] = os.path.exists(PROJECT_ROOT)
print(json.dumps(found))
"""


site = site_fixture()
coder = coder_fixture()


@pytest.fixture(scope="module")
def probe(site):
    """What the probe run found, and the name of the /tmp file it wrote."""
    tmp_name = f"playground-probe-{uuid.uuid4().hex}"
    values = {
        "SITE_REDIS_PORT": site.redis_port,
        "WEB_PORT": int(site.base_url.rsplit(":", 1)[1]),
        "SECRET_KEY": str(site.var_dir / "secret_key"),
        "PROJECT_VAR": str(config.ROOT / "var"),
        "SITE_REDIS_DATA": str(site.data_dir),
        "VENV": sys.prefix,
        "PYTHON_HOME": os.path.realpath(sys.base_prefix),
        "TMP_NAME": tmp_name,
        "PROJECT_ROOT": str(config.ROOT / "web"),
    }
    view = "".join(f"{k} = {v!r}\n" for k, v in values.items()) + PROBE
    who = Coder(site.base_url)
    summary = who.finished(view)
    who.close()
    assert summary["state"] == "finished", summary
    return who.view_json(summary), tmp_name


def refused(outcome: str) -> bool:
    return outcome != "allowed"


@pytest.mark.parametrize("target", ["site_redis", "web_server", "any_address", "ipv6", "netlink"])
def test_no_network_at_all(probe, target):
    found, _ = probe
    # socket() itself is refused for every family but AF_UNIX (seccomp: EAFNOSUPPORT = 97).
    assert found[target] == "OSError 97"


def test_the_site_redis_still_knows_nothing_of_the_run(site, probe):
    # The probe could not write the site's Redis: no key holds the probe's findings.
    redis = site.redis()
    assert not [k for k in redis.scan_iter("*") if "probe" in k]


@pytest.mark.parametrize("target", ["read_secret_key", "read_project_var", "read_site_redis_data"])
def test_the_projects_var_and_the_sites_redis_data_are_not_there(probe, target):
    found, _ = probe
    assert found[target] == "FileNotFoundError 2"
    assert found["project_visible"] is False


@pytest.mark.parametrize(
    "target", ["write_usr", "write_etc", "write_venv", "write_python", "write_engine"]
)
def test_the_system_the_python_install_and_the_venv_are_read_only(probe, target):
    found, _ = probe
    assert found[target] == "OSError 30"  # EROFS


def test_only_the_run_directory_and_its_tmp_are_writable(probe):
    found, tmp_name = probe
    assert found["write_root"].startswith("PermissionError")
    assert found["write_run_dir"] == "allowed"
    assert found["write_tmp"] == "allowed"
    # /dev/shm is a 1 MB tmpfs of its own: the second 600 KB no longer fits (ENOSPC).
    assert (found["dev_shm_a"], found["dev_shm_b"]) == ("allowed", "OSError 28")
    # /tmp is private: what the run wrote there is not in the host's /tmp.
    assert not os.path.exists(f"/tmp/{tmp_name}")


def test_the_run_sees_only_its_own_processes_as_an_unprivileged_uid(probe):
    found, _ = probe
    assert 62000 <= found["uid"] < 62002
    assert found["caps"] == ["0000000000000000"]
    assert found["nice"] == 10  # a lower CPU priority than the site's own processes
    assert found["chroot"].startswith("PermissionError")
    commands = " ".join(found["processes"])
    assert "gunicorn" not in commands and "celery_app" not in commands
    assert "playground.sandboxed.collector" in commands
    assert len(found["processes"]) < 12
    # The collector is not dumpable: the learner's code cannot reach its report pipe.
    assert found["collector_fds"].startswith("PermissionError")


@pytest.mark.parametrize(
    "call", ["unshare_user", "unshare_net", "mount", "ptrace", "bpf", "io_uring"]
)
def test_the_seccomp_filter_refuses_namespaces_mounts_ptrace_bpf_and_io_uring(probe, call):
    found, _ = probe
    # EPERM. Mount would fail for an unprivileged uid anyway; unshare(CLONE_NEWUSER),
    # PTRACE_TRACEME and io_uring_setup would not (EFAULT at most): that is the filter.
    assert found[call] == 1


def test_another_runs_files_are_out_of_sight(coder, site):
    other = Coder(site.base_url)
    writer = other.press_run(
        "open('/lab/app/secret.txt', 'w').write('s')\nimport time\ntime.sleep(3)\n"
    )
    try:
        poll(lambda: other.summary(writer)["state"] == "running", 15, message="first run up")
        summary = coder.finished("import os\nprint(sorted(os.listdir('/lab/app')))\n")
        assert summary["output"]["view"] == ["['tasks.py']"]
        other.wait_ended(writer)
    finally:
        other.close()


def test_forged_reports_and_a_fake_redis_change_nothing_outside(coder, site):
    view = """\
import os, socket
add.apply_async((1, 1), countdown=5)  # not done when the view ends: the collector asks Redis
os.remove("/lab/redis.sock")
fake = socket.socket(socket.AF_UNIX)
fake.bind("/lab/redis.sock")
fake.listen()
os.symlink("/proc/1/root", "/lab/app/escape")
print('{"k": "done", "reason": "done"}')
print('{"k": "phase", "phase": "finished"}')
"""
    playground_worker = psutil.Process(site.playground.popen.pid)
    summary = coder.finished(view)
    # The forged lines are only the view's output, never reports: the run did not "finish";
    # its collector lost its own Redis and the run failed, which hurts only this learner.
    assert '{"k": "done", "reason": "done"}' in summary["output"]["view"]
    assert (summary["state"], summary["reason"]) == ("failed", "sandbox_error")
    status, health = coder.learner.get_json("/api/health")
    assert status == 200 and health["stream_ready"]
    # Nothing outside ever connected to a path in the run (it is not even on the host).
    assert not os.path.exists("/lab")
    paths = [c.laddr or c.raddr for c in playground_worker.net_connections(kind="unix")]
    assert not [p for p in paths if str(p).startswith("/lab")]


def test_one_huge_printed_line_counts_against_the_output_cap(coder):
    summary = coder.finished("print('x' * 100_000)\nprint('after')\n")
    assert summary["state"] == "stopped"
    assert summary["reason"] == "output"
