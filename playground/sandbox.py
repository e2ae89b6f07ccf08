"""The sandbox launcher: the bubblewrap command for one run, and whether it can work here.

One run is one ``bwrap`` with a new mount, pid, network, IPC and UTS namespace: a read-only
view of the system, the Python install and the venv, the engine's own ``sandboxed`` code, and
two private size-limited tmpfs, /lab (the run directory) and /tmp, that exist only in the
sandbox's mount namespace, so when the sandbox ends they are gone with it.

As root, bwrap is not given a user namespace: ``setpriv`` drops to the slot's own uid (a real,
unprivileged kernel uid, so RLIMIT_NPROC counts) with no capabilities, and no_new_privs. Not
as root, bwrap adds a user namespace (``--unshare-all``) and the run keeps the caller's uid.

A stronger boundary (gVisor's ``runsc``, a VM) replaces this class through the
``CELERY_LAB_PLAYGROUND_LAUNCHER`` setting ("module:Class", same ``command``/``probe``).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import seccomp
from .settings import PlaygroundSettings

ENGINE_DIR = Path(__file__).resolve().parent  # bound read-only at /opt/lab/playground
INSIDE_ROOT = "/opt/lab"


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot run here; the message says why, for the learner and the admin."""


def _parents(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


class Bwrap:
    """Builds the bwrap command line for one run."""

    def __init__(self, settings: PlaygroundSettings):
        self.settings = settings
        self.python_home = os.path.realpath(sys.base_prefix)
        self.venv = os.path.realpath(sys.prefix)
        self.python = os.path.join(self.venv, "bin", "python")

    def _ro_bind(self, path: str, made: set[str]) -> list[str]:
        # bwrap makes missing parents 0700, which the unprivileged uid cannot cross.
        argv = []
        for parent in _parents(path):
            if parent not in made and not os.path.islink(parent):
                made.add(parent)
                argv += ["--perms", "0755", "--dir", parent]
        return argv + ["--ro-bind", path, path]

    def command(self, uid: int, seccomp_fd: int, inner: list[str]) -> list[str]:
        """The full argv: bwrap, then (as root) setpriv, then ``inner``."""
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxUnavailable(
                "bubblewrap (bwrap) is not installed: `make run` installs it with apt; "
                "elsewhere install your system's bubblewrap package."
            )
        lab_bytes = self.settings.limits.files_mb * 1024 * 1024
        as_root = os.geteuid() == 0
        argv = [bwrap]
        if as_root:
            argv += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
            argv += ["--unshare-cgroup-try"]
        else:
            argv += ["--unshare-all"]
        argv += ["--die-with-parent", "--new-session", "--hostname", "playground"]
        argv += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
        for link in ("bin", "lib", "lib64", "sbin"):
            target = f"/{link}"
            if os.path.islink(target):
                argv += ["--symlink", os.readlink(target), target]
            elif os.path.isdir(target):
                argv += ["--ro-bind", target, target]
        # A private /tmp of its own size, made before the binds: the project (and its venv) may
        # itself live under /tmp (a fresh clone, a CI checkout), and its bind must show on top.
        argv += ["--size", str(lab_bytes), "--tmpfs", "/tmp", "--chmod", "1777", "/tmp"]
        made: set[str] = {"/tmp"}
        for path in dict.fromkeys((self.python_home, self.venv)):
            if not path.startswith("/usr/"):
                argv += self._ro_bind(path, made)
        argv += ["--perms", "0755", "--dir", "/opt", "--perms", "0755", "--dir", INSIDE_ROOT]
        argv += ["--ro-bind", str(ENGINE_DIR), f"{INSIDE_ROOT}/playground"]
        argv += ["--proc", "/proc", "--dev", "/dev"]
        # bwrap's /dev/shm would be an unbounded part of /dev's tmpfs: a small one of its own.
        argv += ["--size", str(1024 * 1024), "--tmpfs", "/dev/shm", "--chmod", "1777", "/dev/shm"]
        # The run directory: a tmpfs of its own size.
        argv += ["--size", str(lab_bytes), "--tmpfs", "/lab", "--chmod", "0777", "/lab"]
        argv += ["--chdir", "/lab", "--clearenv"]
        env = {
            "PATH": f"{self.venv}/bin:/usr/bin:/bin",
            "HOME": "/lab",
            "LANG": "C.UTF-8",
            "PYTHONPATH": f"{INSIDE_ROOT}:/lab/app",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "MALLOC_ARENA_MAX": "2",
        }
        for name, value in env.items():
            argv += ["--setenv", name, value]
        argv += ["--seccomp", str(seccomp_fd), "--"]
        if as_root:
            argv += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
            argv += ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
        return argv + inner

    def collector(self, report_fd: int) -> list[str]:
        limits = json.dumps(self.settings.limits.as_dict())
        return [self.python, "-m", "playground.sandboxed.collector", str(report_fd), limits]

    def probe(self) -> None:
        """Start a sandbox that does nothing; raise SandboxUnavailable saying why it fails."""
        filt = seccomp_filter()
        read, write = os.pipe()
        os.write(write, filt)
        os.close(write)
        try:
            argv = self.command(self.settings.uid_base, read, [self.python, "-c", "pass"])
            done = subprocess.run(
                argv, pass_fds=(read,), capture_output=True, timeout=20, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(f"the sandbox could not start: {exc}") from None
        finally:
            os.close(read)
        if done.returncode != 0:
            why = done.stderr.decode("utf-8", "replace").strip()[-300:] or "no message"
            raise SandboxUnavailable(
                f"bubblewrap cannot create the sandbox here ({why}); user or mount namespaces "
                "may be disabled (kernel.unprivileged_userns_clone, a container without "
                "CAP_SYS_ADMIN)."
            )


def seccomp_filter() -> bytes:
    try:
        return seccomp.build_filter()
    except seccomp.UnsupportedArch as exc:
        raise SandboxUnavailable(str(exc)) from None


def launcher(settings: PlaygroundSettings):
    """The launcher the settings name: "bwrap", or "module:Class" for another boundary."""
    if settings.launcher == "bwrap":
        return Bwrap(settings)
    module, _, name = settings.launcher.partition(":")
    try:
        return getattr(importlib.import_module(module), name)(settings)
    except (ImportError, AttributeError, ValueError) as exc:
        raise SandboxUnavailable(
            f"CELERY_LAB_PLAYGROUND_LAUNCHER={settings.launcher!r} cannot be loaded: {exc}"
        ) from None
