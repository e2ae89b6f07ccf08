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

if __name__ == "__main__":
    # Warm: what a worker imports anyway, before the learner's files exist.
    import celery.apps.worker  # noqa: F401
    import celery.worker.consumer  # noqa: F401
    import kombu.transport.redis  # noqa: F401

    sys.stdin.readline()  # "go": the learner's files are written
    learner_app().worker_main(ARGV)
