"""The playground's engine: run a learner's own Celery code in a sandbox, read back what it did.

Outside the sandbox (the run task's process): ``settings`` (limits), ``slots`` (one
unprivileged uid per concurrent run), ``seccomp`` (the BPF filter), ``sandbox`` (the bwrap
command and the capability probe), ``runner`` (spawn, pump, stop, tear down), ``report`` (every
line read back is hostile: parse and validate) and ``outcome`` (what the learner is told).

Inside the sandbox: ``sandboxed/`` (the collector that starts the run's Redis, worker and view
and reports on a pipe). It imports only the standard library and Celery, never this side.

This package never imports ``web``, ``run.py`` or ``launcher``: ``celery_app -> web ->
sandbox_tasks -> playground``.
"""
