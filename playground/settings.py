"""The playground's settings: every limit, its environment variable and its default.

Defaults fit a classroom on a 2-core machine: two runs at once, each well under a core's worth
of memory. Tests shrink them through the same variables.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

QUEUE = "playground"

MB = 1024 * 1024


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None


@dataclass(frozen=True)
class Limits:
    """What one run may use; each is enforced where noted."""

    memory_mb: int = 256  # RLIMIT_DATA, each process: a bigger allocation gets MemoryError
    cpu_seconds: int = 10  # RLIMIT_CPU, each process: SIGXCPU ends it
    processes: int = 64  # RLIMIT_NPROC for the run's own uid (threads count too)
    files_mb: int = 16  # the run directory, and /tmp, are each a tmpfs of this size
    file_mb: int = 8  # RLIMIT_FSIZE: the most one file may hold
    open_files: int = 256  # RLIMIT_NOFILE, each process
    output_kb: int = 64  # each stream (worker log, view output); more stops the run
    wall_seconds: int = 30  # the whole run, start to teardown
    nice: int = 10  # lower CPU priority than the site's own processes

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PlaygroundSettings:
    enabled: bool = True
    concurrency: int = 2  # runs at once per playground worker (also the number of uid slots)
    uid_base: int = 61000  # slot n runs as uid/gid uid_base + n (no /etc/passwd entry needed)
    # Which launcher builds the sandbox command: "bwrap" here; a stronger boundary (gVisor's
    # runsc, a VM) plugs in as "module:Class" with the same interface as sandbox.Bwrap.
    launcher: str = "bwrap"
    # Each learner file and the view code; the whole request is also under the site's 64 KB
    # MAX_CONTENT_LENGTH (an over-size body gets a 413).
    max_file_kb: int = 32
    # Keep a started sandbox waiting in each slot (playground/warm.py): Run -> banner in
    # about a third of the time. Off: each run starts its sandbox when it starts.
    warm: bool = True
    limits: Limits = Limits()

    @classmethod
    def from_env(cls) -> PlaygroundSettings:
        return cls(
            enabled=os.environ.get("CELERY_LAB_PLAYGROUND", "on").lower() not in ("off", "0"),
            concurrency=max(1, _int_env("CELERY_LAB_PLAYGROUND_CONCURRENCY", 2)),
            uid_base=_int_env("CELERY_LAB_PLAYGROUND_UID_BASE", 61000),
            launcher=os.environ.get("CELERY_LAB_PLAYGROUND_LAUNCHER", "bwrap"),
            max_file_kb=_int_env("CELERY_LAB_PLAYGROUND_MAX_FILE_KB", 32),
            warm=os.environ.get("CELERY_LAB_PLAYGROUND_WARM", "on").lower() not in ("off", "0"),
            limits=Limits(
                memory_mb=_int_env("CELERY_LAB_PLAYGROUND_MEMORY_MB", 256),
                cpu_seconds=_int_env("CELERY_LAB_PLAYGROUND_CPU_SECONDS", 10),
                processes=_int_env("CELERY_LAB_PLAYGROUND_PROCESSES", 64),
                files_mb=_int_env("CELERY_LAB_PLAYGROUND_FILES_MB", 16),
                file_mb=_int_env("CELERY_LAB_PLAYGROUND_FILE_MB", 8),
                open_files=_int_env("CELERY_LAB_PLAYGROUND_OPEN_FILES", 256),
                output_kb=_int_env("CELERY_LAB_PLAYGROUND_OUTPUT_KB", 64),
                wall_seconds=_int_env("CELERY_LAB_PLAYGROUND_WALL_SECONDS", 30),
                nice=_int_env("CELERY_LAB_PLAYGROUND_NICE", 10),
            ),
        )
