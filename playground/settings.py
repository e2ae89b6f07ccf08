"""The playground's settings: every limit and its default.

Defaults fit a classroom on a 2-core machine: two runs at once, each well under a core's worth
of memory. The site's config.py reads them from the environment (``CELERY_LAB_PLAYGROUND_*``,
``Settings.playground``), so tests shrink them through the same variables; the engine itself
reads no environment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

QUEUE = "playground"

MB = 1024 * 1024


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
