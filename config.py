"""Configuration in one place: every setting, its environment variable and its default.

Both the web process and the worker read their settings here, so they can never disagree
about where Redis is or what the worker accepts. Nothing here connects to anything.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("CELERY_LAB_VAR_DIR", ROOT / "var"))

# The worker's queue. One named queue keeps depth measurable (LLEN) and pausable.
QUEUE = "celery_lab"


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None


def _kept_secret(env_name: str, file_name: str, make) -> str:
    """Return ``env_name`` if set, else a secret made once by ``make`` and kept in var/.

    Kept on disk (readable by the owner only) so it stays the same across restarts.
    """
    value = os.environ.get(env_name)
    if value:
        return value
    path = VAR_DIR / file_name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        value = make()
        path.touch(mode=0o600)
        path.write_text(value)
        return value


def secret_key() -> str:
    """Return the cookie-signing key; a learner's cookie (and progress) outlives restarts."""
    return _kept_secret("CELERY_LAB_SECRET_KEY", "secret_key", lambda: secrets.token_hex(32))


def instructor_token() -> str:
    """Return the instructor token; the printed link stays valid across restarts, mid-class.

    Anyone with the token can pause the worker, so it is kept readable by its owner only.
    """
    return _kept_secret(
        "CELERY_LAB_INSTRUCTOR_TOKEN", "instructor_token", lambda: secrets.token_urlsafe(18)
    )


def cookie_names(secret: str) -> tuple[str, str]:
    """Return this site's cookie names: the learner's session, then the instructor's.

    Browsers do not scope cookies by port, so two sites on one host (127.0.0.1:8000 and :8001)
    would overwrite each other's cookies if both used Flask's default name "session". Each
    site's names end in ``CELERY_LAB_COOKIE_NAME`` if set, else in a short hash of its
    cookie-signing key: stable across restarts, and shared by the web processes of one site.
    """
    tag = (
        os.environ.get("CELERY_LAB_COOKIE_NAME")
        or hashlib.sha256(b"celery-lab cookie name:" + secret.encode()).hexdigest()[:10]
    )
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", tag):
        raise SystemExit(f"CELERY_LAB_COOKIE_NAME must be 1-40 letters, digits, - or _: {tag!r}")
    return f"celerylab_{tag}", f"celerylab_{tag}_instructor"


def redis_url() -> str:
    """Return REDIS_URL; run.py sets it to its embedded Redis when the user did not."""
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit(
            "REDIS_URL is not set. Start the site with `make run` (it starts its own Redis), "
            "or point REDIS_URL at a running Redis, e.g. redis://127.0.0.1:6379/0"
        )
    return url


@dataclass
class Settings:
    """The settings a web process and a worker share."""

    redis_url: str
    instructor_token: str = ""
    lessons_dir: Path = ROOT / "lessons"
    worker_concurrency: int = 64
    # Sent in each message; the threads pool enforces neither (only prefork enforces both).
    task_soft_time_limit: int = 45
    task_time_limit: int = 60
    # A message over ws_max_message_bytes gets an error reply and the socket stays open; a
    # frame over ws_max_frame_bytes is refused by the websocket layer (close code 1009).
    ws_max_message_bytes: int = 4096
    ws_max_frame_bytes: int = 65536
    route_ttl_seconds: int = 6 * 3600
    # A killed worker's unacknowledged task goes back on the queue once it is older than this:
    # it must exceed the time limit plus the longest countdown (60 s + 30 s), or a task still
    # running (or waiting for its countdown) on a healthy worker would be handed out twice.
    visibility_timeout: int = 2 * 60
    # kombu looks for such tasks when a worker starts and then every this many seconds (its own
    # default, 10 s x a throttle of 10, would leave a lost task waiting up to 100 s more).
    restore_interval: int = 5
    # Where learners reach the site (join links, the QR code); "" means the address asked.
    public_url: str = ""

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            redis_url=redis_url(),
            instructor_token=os.environ.get("CELERY_LAB_INSTRUCTOR_TOKEN", ""),
            lessons_dir=Path(os.environ.get("CELERY_LAB_LESSONS_DIR", ROOT / "lessons")),
            worker_concurrency=_int_env("CELERY_LAB_WORKER_CONCURRENCY", 64),
            visibility_timeout=_int_env("CELERY_LAB_VISIBILITY_TIMEOUT", 2 * 60),
            restore_interval=_int_env("CELERY_LAB_RESTORE_INTERVAL", 5),
            public_url=public_url(),
        )

    def celery_config(self) -> dict:
        """Return the Celery settings (lower-case names, as in Celery's docs)."""
        return {
            "broker_url": self.redis_url,
            "result_backend": self.redis_url,
            # JSON only, both ways: a worker that unpickles can be made to run anything.
            "task_serializer": "json",
            "result_serializer": "json",
            "accept_content": ["json"],
            "result_accept_content": ["json"],
            "task_default_queue": QUEUE,
            # Events: task-sent is a *publisher* setting; the worker adds the rest with -E.
            "task_send_sent_event": True,
            "worker_send_task_events": True,
            "task_track_started": True,
            # Honest backlog: a worker reserves one message per free thread, not four.
            "worker_prefetch_multiplier": 1,
            # A task is acknowledged only when it is done, so a killed worker's task is redelivered.
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            # Redelivery after a lost worker waits for this; it must exceed the longest task.
            "broker_transport_options": {
                "visibility_timeout": self.visibility_timeout,
                "unacked_restore_interval": self.restore_interval,
                "unacked_restore_throttle": 1,
            },
            "result_expires": 24 * 3600,
            # A result written while Redis restarts is retried (with backoff, ~30 s at most)
            # instead of lost, which would leave the task at "started" until it is redelivered.
            "result_backend_always_retry": True,
            "result_backend_max_retries": 20,
            "result_backend_max_sleep_between_retries_ms": 2000,
            "task_soft_time_limit": self.task_soft_time_limit,
            "task_time_limit": self.task_time_limit,
            "worker_concurrency": self.worker_concurrency,
            # Threads that grow and shrink on command (worker_pool.py); `-P` on the command line
            # only takes Celery's own pool names, so the worker finds it here.
            "worker_pool": "worker_pool:ResizableThreadPool",
            # Celery's consumer, made to survive a broker outage (worker_consumer.py).
            "worker_consumer": "worker_consumer:Consumer",
            "broker_connection_retry_on_startup": True,
            "worker_hijack_root_logger": False,
            "include": ["sandbox_tasks"],
        }


# -- serving a class on a network (README "Teach a class", docs/deploy.md) -------------------
_YES = ("1", "true", "yes", "on")
_NO = ("", "0", "false", "no", "off")
_INTERFACE = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")


def _flag_env(name: str) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise SystemExit(f"{name} must be one of {', '.join(_YES + _NO[1:])}, got {raw!r}")


def classroom_mode() -> bool:
    """CELERY_LAB_CLASSROOM: serve learners on the local network (like `run.py --classroom`)."""
    return _flag_env("CELERY_LAB_CLASSROOM")


def public_url() -> str:
    """CELERY_LAB_PUBLIC_URL: the address learners use (join links, the QR code), or "".

    Set it for a site behind a proxy (https://lab.example.org); in classroom mode run.py sets
    it to this machine's LAN address unless you did. Only scheme, host and port: the site
    serves from the root of its address.
    """
    raw = os.environ.get("CELERY_LAB_PUBLIC_URL", "").strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    try:
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise SystemExit(
            "CELERY_LAB_PUBLIC_URL must be an http:// or https:// address with a host and "
            f"nothing after it, like https://lab.example.org or http://192.168.1.20:8000; "
            f"got {raw!r}"
        )
    return f"{parts.scheme}://{parts.netloc}"


def lan_interface() -> str:
    """CELERY_LAB_LAN_INTERFACE: the network interface whose address learners use, or ""."""
    raw = os.environ.get("CELERY_LAB_LAN_INTERFACE", "").strip()
    if raw and not _INTERFACE.match(raw):
        raise SystemExit(f"CELERY_LAB_LAN_INTERFACE must name a network interface, got {raw!r}")
    return raw


# -- Limits: what one client may hold or queue, so a flood hurts only itself -----------------
# Flask settings (upper case, as app.config holds them), each from CELERY_LAB_<NAME>.


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None


def limits() -> dict:
    """Return the per-socket and per-client limits, read from the environment."""
    return {
        # Output a socket may have waiting before it is closed (1008) as too slow, and how long
        # it may go without taking any; unsent bytes kept in the kernel (room for a close frame).
        "WS_SEND_QUEUE_BYTES": _int_env("CELERY_LAB_WS_SEND_QUEUE_BYTES", 1 << 20),
        "WS_SEND_STALL_SECONDS": _float_env("CELERY_LAB_WS_SEND_STALL_SECONDS", 10.0),
        "WS_SEND_AHEAD_BYTES": _int_env("CELERY_LAB_WS_SEND_AHEAD_BYTES", 256 * 1024),
        # Messages a socket may send that are still waiting to be handled.
        "WS_INBOX_MESSAGES": _int_env("CELERY_LAB_WS_INBOX_MESSAGES", 64),
        # Tasks not yet finished, per learner and per address (a class of 300 behind one NAT
        # with three tasks each is 900), and messages waiting in the queue for everyone.
        "MAX_TASKS_PER_LEARNER": _int_env("CELERY_LAB_MAX_TASKS_PER_LEARNER", 10),
        "MAX_TASKS_PER_ADDRESS": _int_env("CELERY_LAB_MAX_TASKS_PER_ADDRESS", 1500),
        "MAX_QUEUED_TASKS": _int_env("CELERY_LAB_MAX_QUEUED_TASKS", 3000),
        # Direct calls (lesson 5) holding a request at once, per learner and per address.
        "MAX_HELD_CALLS_PER_LEARNER": _int_env("CELERY_LAB_MAX_HELD_CALLS_PER_LEARNER", 2),
        "MAX_HELD_CALLS_PER_ADDRESS": _int_env("CELERY_LAB_MAX_HELD_CALLS_PER_ADDRESS", 320),
        "MAX_HELD_CALLS": _int_env("CELERY_LAB_MAX_HELD_CALLS", 400),  # per web process
        # Open websockets per web process: in all, per address, per learner.
        "MAX_SOCKETS": _int_env("CELERY_LAB_MAX_SOCKETS", 2000),
        "MAX_SOCKETS_PER_ADDRESS": _int_env("CELERY_LAB_MAX_SOCKETS_PER_ADDRESS", 1000),
        "MAX_SOCKETS_PER_LEARNER": _int_env("CELERY_LAB_MAX_SOCKETS_PER_LEARNER", 20),
        # Failed join attempts (wrong or closed code) per address and minute; members per class.
        "MAX_FAILED_JOINS_PER_MINUTE": _int_env("CELERY_LAB_MAX_FAILED_JOINS_PER_MINUTE", 100),
        "MAX_CLASS_MEMBERS": _int_env("CELERY_LAB_MAX_CLASS_MEMBERS", 400),
        # Addresses of the proxies in front of the site (comma-separated): X-Forwarded-For is
        # believed from these only, so nobody else can pretend to be someone else.
        "TRUSTED_PROXIES": tuple(
            a.strip()
            for a in os.environ.get("CELERY_LAB_TRUSTED_PROXIES", "").split(",")
            if a.strip()
        ),
    }


# -- Web processes: how many gunicorn processes run.py starts behind its one port -------------
MAX_DEFAULT_WEB_PROCESSES = 4


def web_processes() -> int:
    """CELERY_LAB_WEB_PROCESSES: web processes behind one port; default one per core, up to 4.

    Any process routes any task (routes live in Redis), so learners may land on any of them.
    One process runs every press and every event delivery under one GIL: with a class of 300
    on two cores, two processes answered presses in 3.8 s p50 where one took 6.2 s (bench,
    notes in bench/README.md). Each process also receives and decodes every Celery event, so
    past the cores more processes only add work. The caps in ``limits()`` are per process.
    """
    default = max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WEB_PROCESSES))
    count = _int_env("CELERY_LAB_WEB_PROCESSES", default)
    if count < 1:
        raise SystemExit(f"CELERY_LAB_WEB_PROCESSES must be at least 1, got {count}")
    return count
