"""Code that runs inside the sandbox, as the run's unprivileged uid.

It imports only the standard library, Celery and (for ``app.py``) Flask: nothing of the site.
Everything it reports is read by the outside as hostile input (``playground.report``), since
the learner's code runs as the same uid and could forge it.
"""

LAB = "/lab"  # the run's private, size-limited tmpfs
APP_DIR = "/lab/app"  # the learner's files
VIEW_FILE = "/lab/view.py"
REDIS_SOCKET = "/lab/redis.sock"
BROKER_URL = "redis+socket:///lab/redis.sock"
