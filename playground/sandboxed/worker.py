"""The run's Celery worker: the learner's modules, the run's Redis, events on (``-E``)."""

from __future__ import annotations

import sys
import warnings

from celery.platforms import SecurityWarning

from .boot import learner_app

# The run's uid has no /etc/passwd or /etc/group entry (on purpose); Celery would warn about
# that in the learner's banner, where it would only confuse.
warnings.filterwarnings("ignore", category=SecurityWarning)

ARGV = [
    "worker",
    "--pool",
    "threads",
    "--concurrency",
    "2",
    "--loglevel",
    "INFO",
    "-E",
    "--without-mingle",
    "--without-gossip",
    "--without-heartbeat",
    "--hostname",
    "learner@playground",
]

# Pools a learner's own celery_app.py may choose with ``worker_pool``: those that run in this
# sandbox (gevent and eventlet are not installed; a custom class is not a lesson).
POOLS = ("solo", "threads", "prefork")


def argv_for(app) -> list[str]:
    """The worker's arguments: threads unless the learner's app explicitly set ``worker_pool``.

    Celery keeps the keys a program set itself in ``app.conf.changes``; Celery's own default
    (prefork) is not a choice the learner made, so it does not count.
    """
    app.conf.worker_pool  # noqa: B018 -- reading a key loads the app's pending configuration
    # Before that load, ``changes`` answers from the whole configuration, defaults included.
    chosen = app.conf.changes.get("worker_pool")
    if chosen is None:
        return list(ARGV)
    if chosen in POOLS:
        at = ARGV.index("--pool")
        return ARGV[:at] + ARGV[at + 2 :]  # the app's own worker_pool then applies
    # A run's output is the learner's; say why their choice was not taken, then go on.
    print(
        f"Your app sets worker_pool = {chosen!r}: the playground runs only "
        f"{', '.join(POOLS)}; using threads instead.",
        file=sys.stderr,
        flush=True,
    )
    app.conf.worker_pool = "threads"
    return list(ARGV)


if __name__ == "__main__":
    # Warm: what a worker imports anyway, before the learner's files exist.
    import celery.apps.worker  # noqa: F401
    import celery.worker.consumer  # noqa: F401
    import kombu.transport.redis  # noqa: F401

    sys.stdin.readline()  # "go": the learner's files are written
    app = learner_app()
    app.worker_main(argv_for(app))
