"""Configuration in one place: every setting, its environment variable and its default.

Both the web process and the worker read their settings here, so they can never disagree
about where Redis is or what the worker accepts. Nothing here connects to anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playground.settings import Limits, PlaygroundSettings

ROOT = Path(__file__).resolve().parent


class SettingError(SystemExit):
    """A setting with a bad value: the message names the variable, what it got and what it takes.

    A SystemExit, so a bad value stops `run.py`, a web process or a worker at start with that
    one line (no traceback), as a bad command-line flag does.
    """


class Env:
    """Reads settings from an environment (``os.environ`` unless given): the one place that does.

    Unset and blank mean "the default". Every bad value is a SettingError naming its variable.
    """

    def __init__(self, environ: Mapping[str, str] | None = None):
        self._environ = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        value = self._environ.get(name)
        return value.strip() if value is not None and value.strip() else None

    def text(self, name: str, default: str = "") -> str:
        value = self.raw(name)
        return default if value is None else value

    def whole(self, name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
        raw = self.raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingError(f"{name} must be a whole number, got {raw!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            wanted = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
            raise SettingError(f"{name} must be {wanted}, got {value}")
        return value

    def number(self, name: str, default: float, minimum: float = 0.0) -> float:
        raw = self.raw(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingError(f"{name} must be a number, got {raw!r}") from None
        if not value >= minimum or value == float("inf"):
            raise SettingError(f"{name} must be a number from {minimum:g} up, got {raw!r}")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.raw(name)
        if raw is None:
            return default
        if raw.lower() in _YES:
            return True
        if raw.lower() in _NO:
            return False
        raise SettingError(f"{name} must be one of {', '.join(_YES + _NO[1:])}, got {raw!r}")

    def items(self, name: str) -> tuple[str, ...]:
        """A comma-separated list."""
        return tuple(a.strip() for a in self.text(name).split(",") if a.strip())


_YES = ("1", "true", "yes", "on")
_NO = ("", "0", "false", "no", "off")

VAR_DIR = Path(Env().text("CELERY_LAB_VAR_DIR", str(ROOT / "var")))

# The worker's queue. One named queue keeps depth measurable (LLEN) and pausable.
QUEUE = "celery_lab"


def _kept_secret(value: str, file_name: str, make) -> str:
    """Return ``value`` (a setting) if set, else a secret made once by ``make`` and kept in var/.

    Kept on disk (readable by the owner only) so it stays the same across restarts.
    """
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


def secret_key(value: str | None = None) -> str:
    """Return the cookie-signing key; a learner's cookie (and progress) outlives restarts."""
    if value is None:
        value = Env().text("CELERY_LAB_SECRET_KEY")
    return _kept_secret(value, "secret_key", lambda: secrets.token_hex(32))


def instructor_token(value: str | None = None) -> str:
    """Return the instructor token; the printed link stays valid across restarts, mid-class.

    Anyone with the token can pause the worker, so it is kept readable by its owner only.
    """
    if value is None:
        value = Env().text("CELERY_LAB_INSTRUCTOR_TOKEN")
    return _kept_secret(value, "instructor_token", lambda: secrets.token_urlsafe(18))


def cookie_names(secret: str, tag: str | None = None) -> tuple[str, str]:
    """Return this site's cookie names: the learner's session, then the instructor's.

    Browsers do not scope cookies by port, so two sites on one host (127.0.0.1:8000 and :8001)
    would overwrite each other's cookies if both used Flask's default name "session". Each
    site's names end in ``CELERY_LAB_COOKIE_NAME`` if set, else in a short hash of its
    cookie-signing key: stable across restarts, and shared by the web processes of one site.
    """
    if tag is None:
        tag = Env().text("CELERY_LAB_COOKIE_NAME")
    tag = tag or hashlib.sha256(b"celery-lab cookie name:" + secret.encode()).hexdigest()[:10]
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", tag):
        raise SettingError(f"CELERY_LAB_COOKIE_NAME must be 1-40 letters, digits, - or _: {tag!r}")
    return f"celerylab_{tag}", f"celerylab_{tag}_instructor"


_NO_REDIS = (
    "REDIS_URL is not set. Start the site with `make run` (it starts its own Redis), "
    "or point REDIS_URL at a running Redis, e.g. redis://127.0.0.1:6379/0"
)


def redis_url() -> str:
    """Return REDIS_URL; run.py sets it to its embedded Redis when the user did not."""
    url = Env().text("REDIS_URL")
    if not url:
        raise SettingError(_NO_REDIS)
    return url


# How many threads the site's worker runs: 64 threads start 50 sleepers in 0.2 s.
WORKER_CONCURRENCY = 64


MAX_DEFAULT_WEB_PROCESSES = 4


def default_web_processes() -> int:
    """One web process per core, at most MAX_DEFAULT_WEB_PROCESSES."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WEB_PROCESSES))


@dataclass(frozen=True)
class Launch:
    """What run.py starts and where: its flags' defaults, and the web server's own settings."""

    host: str = ""  # "": 127.0.0.1, or every interface in classroom mode
    port: int = 8000
    classroom: bool = False
    # The interface whose address classroom mode gives learners; "" the default route's.
    lan_interface: str = ""
    redis_port: int = 0  # of the embedded Redis; 0: a free one
    # Worker crashes within a minute that run.py restarts before it gives up.
    worker_restarts: int = 5
    # Seconds a request may take to send its headers (launcher/gunicorn_worker.py).
    header_timeout: float = 10.0
    # gunicorn processes behind the one port. Any process routes any task (routes live in
    # Redis), so learners may land on any of them. One process runs every press and every event
    # delivery under one GIL: with a class of 300 on two cores, two processes answered presses
    # in 3.8 s p50 where one took 6.2 s (bench/README.md). Each process also receives and
    # decodes every Celery event, so past the cores more only add work. Caps are per process.
    web_processes: int = field(default_factory=default_web_processes)

    @classmethod
    def from_env(cls, env: Env) -> Launch:
        return cls(
            host=env.text("CELERY_LAB_HOST"),
            port=env.whole("CELERY_LAB_PORT", 8000, minimum=1, maximum=65535),
            classroom=env.flag("CELERY_LAB_CLASSROOM"),
            lan_interface=_lan_interface(env),
            redis_port=env.whole("CELERY_LAB_REDIS_PORT", 0, minimum=1, maximum=65535),
            worker_restarts=env.whole("CELERY_LAB_WORKER_RESTARTS", 5),
            header_timeout=env.number("CELERY_LAB_HEADER_TIMEOUT", 10.0, minimum=0.1),
            web_processes=env.whole(
                "CELERY_LAB_WEB_PROCESSES", default_web_processes(), minimum=1, maximum=64
            ),
        )


@dataclass
class Settings:
    """Every setting of the site, its worker and run.py, read once by ``Settings.from_env``."""

    redis_url: str = ""  # "" until run.py has started its Redis (see require_redis_url)
    # "" makes one, kept in var/ (config.secret_key, config.instructor_token).
    instructor_token: str = ""
    secret_key: str = ""
    cookie_name: str = ""  # "": a hash of the secret key (config.cookie_names)
    lessons_dir: Path = ROOT / "lessons"
    worker_concurrency: int = WORKER_CONCURRENCY
    # Sent in each message; the threads pool enforces neither (only prefork enforces both).
    task_soft_time_limit: int = 45
    task_time_limit: int = 60
    # A message over ws_max_message_bytes gets an error reply and the socket stays open; a
    # frame over ws_max_frame_bytes is refused by the websocket layer (close code 1009).
    ws_max_message_bytes: int = 4096
    ws_max_frame_bytes: int = 65536
    # Keeps idle sockets alive through proxies (flask-sock's advice: 25 s).
    ws_ping_interval: int = 25
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
    # The instructor's cookie lasts a day's class.
    instructor_session_seconds: int = 12 * 3600
    # How long /api/health waits for the event stream to be ready.
    stream_ready_timeout: float = 5.0
    # Every request body; over it is a 413.
    max_content_length: int = 64 * 1024
    # Writes (POSTs) per learner and second, past which the answer is 429.
    rate_limit_per_second: int = 20
    launch: Launch = field(default_factory=Launch)
    # Per-socket, per-client and per-class limits, as app.config holds them (see _limits).
    limits: dict = field(default_factory=lambda: _limits(Env({})))
    playground: PlaygroundSettings = field(default_factory=PlaygroundSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every setting from ``environ`` (the process's environment unless given)."""
        env = Env(environ)
        cookie_name = env.text("CELERY_LAB_COOKIE_NAME")
        if cookie_name:
            cookie_names("", cookie_name)  # a bad name is refused at start, not at a request
        return cls(
            redis_url=env.text("REDIS_URL"),
            instructor_token=env.text("CELERY_LAB_INSTRUCTOR_TOKEN"),
            secret_key=env.text("CELERY_LAB_SECRET_KEY"),
            cookie_name=cookie_name,
            lessons_dir=Path(env.text("CELERY_LAB_LESSONS_DIR", str(ROOT / "lessons"))),
            worker_concurrency=env.whole(
                "CELERY_LAB_WORKER_CONCURRENCY", WORKER_CONCURRENCY, minimum=1, maximum=1000
            ),
            visibility_timeout=env.whole("CELERY_LAB_VISIBILITY_TIMEOUT", 2 * 60, minimum=1),
            restore_interval=env.whole("CELERY_LAB_RESTORE_INTERVAL", 5, minimum=1),
            public_url=_public_url(env),
            launch=Launch.from_env(env),
            limits=_limits(env),
            playground=_playground(env),
        )

    def require_redis_url(self) -> str:
        if not self.redis_url:
            raise SettingError(_NO_REDIS)
        return self.redis_url

    def flask_config(self) -> dict:
        """Return the Flask settings (upper case, as app.config holds them)."""
        secret = secret_key(self.secret_key)
        learner_cookie, instructor_cookie = cookie_names(secret, self.cookie_name)
        return {
            "SECRET_KEY": secret,
            # Names of this site's own (see cookie_names).
            "SESSION_COOKIE_NAME": learner_cookie,
            "INSTRUCTOR_COOKIE_NAME": instructor_cookie,
            "INSTRUCTOR_SESSION_SECONDS": self.instructor_session_seconds,
            "REDIS_URL": self.require_redis_url(),
            "CELERY": self.celery_config(),
            "LESSONS_DIR": str(self.lessons_dir),
            "INSTRUCTOR_TOKEN": instructor_token(self.instructor_token),
            "PUBLIC_URL": self.public_url,
            "ROUTE_TTL_SECONDS": self.route_ttl_seconds,
            "STREAM_READY_TIMEOUT": self.stream_ready_timeout,
            "PERMANENT_SESSION_LIFETIME": dt.timedelta(days=365),
            "SESSION_COOKIE_SAMESITE": "Lax",
            "MAX_CONTENT_LENGTH": self.max_content_length,
            "SOCK_SERVER_OPTIONS": {
                "ping_interval": self.ws_ping_interval,
                "max_message_size": self.ws_max_frame_bytes,
            },
            "WS_MAX_MESSAGE_BYTES": self.ws_max_message_bytes,
            "RATE_LIMIT_PER_SECOND": self.rate_limit_per_second,
            # The playground's limits and switches (playground/settings.py's shapes).
            "PLAYGROUND": self.playground,
            # A plain Flask setting that a task reads inside the worker (lesson 2).
            "SITE_NAME": "Celery Lab",
            **self.limits,
        }

    def celery_config(self) -> dict:
        """Return the Celery settings (lower-case names, as in Celery's docs)."""
        return {
            "broker_url": self.require_redis_url(),
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
            # Threads that grow and shrink on command (worker/pool.py); `-P` on the command line
            # only takes Celery's own pool names, so the worker finds it here.
            "worker_pool": "worker.pool:ResizableThreadPool",
            # Celery's consumer, made to survive a broker outage (worker/consumer.py).
            "worker_consumer": "worker.consumer:Consumer",
            "broker_connection_retry_on_startup": True,
            "worker_hijack_root_logger": False,
            "include": ["sandbox_tasks"],
        }


# -- serving a class on a network (README "Teach a class", docs/deploy.md) -------------------
_INTERFACE = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")


def classroom_mode() -> bool:
    """CELERY_LAB_CLASSROOM: serve learners on the local network (like `run.py --classroom`)."""
    return Env().flag("CELERY_LAB_CLASSROOM")


def public_url() -> str:
    """CELERY_LAB_PUBLIC_URL: the address learners use (join links, the QR code), or ""."""
    return _public_url(Env())


def _public_url(env: Env) -> str:
    """Set it for a site behind a proxy (https://lab.example.org); in classroom mode run.py sets
    it to this machine's LAN address unless you did. Only scheme, host and port: the site
    serves from the root of its address.
    """
    raw = env.text("CELERY_LAB_PUBLIC_URL")
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
        raise SettingError(
            "CELERY_LAB_PUBLIC_URL must be an http:// or https:// address with a host and "
            f"nothing after it, like https://lab.example.org or http://192.168.1.20:8000; "
            f"got {raw!r}"
        )
    return f"{parts.scheme}://{parts.netloc}"


def lan_interface() -> str:
    """CELERY_LAB_LAN_INTERFACE: the network interface whose address learners use, or ""."""
    return _lan_interface(Env())


def _lan_interface(env: Env) -> str:
    raw = env.text("CELERY_LAB_LAN_INTERFACE")
    if raw and not _INTERFACE.match(raw):
        raise SettingError(f"CELERY_LAB_LAN_INTERFACE must name a network interface, got {raw!r}")
    return raw


# -- Limits: what one client may hold or queue, so a flood hurts only itself -----------------
# Flask settings (upper case, as app.config holds them), each from CELERY_LAB_<NAME>.


def limits() -> dict:
    """Return the per-socket and per-client limits, read from the environment."""
    return _limits(Env())


def _limits(env: Env) -> dict:
    whole = env.whole
    return {
        # Output a socket may have waiting before it is closed (1008) as too slow, and how long
        # it may go without taking any; unsent bytes kept in the kernel (room for a close frame).
        "WS_SEND_QUEUE_BYTES": whole("CELERY_LAB_WS_SEND_QUEUE_BYTES", 1 << 20),
        "WS_SEND_STALL_SECONDS": env.number("CELERY_LAB_WS_SEND_STALL_SECONDS", 10.0),
        "WS_SEND_AHEAD_BYTES": whole("CELERY_LAB_WS_SEND_AHEAD_BYTES", 256 * 1024),
        # Messages a socket may send that are still waiting to be handled.
        "WS_INBOX_MESSAGES": whole("CELERY_LAB_WS_INBOX_MESSAGES", 64),
        # Tasks not yet finished, per learner and per address, and messages waiting in the
        # queue for everyone. The address's is a class of 300 behind one NAT times the
        # learner's 10, so it never refuses such a class before each learner's own bound would
        # (a worker that falls behind leaves ~7 each unfinished); the queue's holds a flood.
        "MAX_TASKS_PER_LEARNER": whole("CELERY_LAB_MAX_TASKS_PER_LEARNER", 10),
        "MAX_TASKS_PER_ADDRESS": whole("CELERY_LAB_MAX_TASKS_PER_ADDRESS", 3000),
        "MAX_QUEUED_TASKS": whole("CELERY_LAB_MAX_QUEUED_TASKS", 3000),
        # Direct calls (lesson 5) holding a request at once, per learner and per address.
        "MAX_HELD_CALLS_PER_LEARNER": whole("CELERY_LAB_MAX_HELD_CALLS_PER_LEARNER", 2),
        "MAX_HELD_CALLS_PER_ADDRESS": whole("CELERY_LAB_MAX_HELD_CALLS_PER_ADDRESS", 320),
        "MAX_HELD_CALLS": whole("CELERY_LAB_MAX_HELD_CALLS", 400),  # per web process
        # Open websockets per web process: in all, per address, per learner.
        "MAX_SOCKETS": whole("CELERY_LAB_MAX_SOCKETS", 2000),
        "MAX_SOCKETS_PER_ADDRESS": whole("CELERY_LAB_MAX_SOCKETS_PER_ADDRESS", 1000),
        "MAX_SOCKETS_PER_LEARNER": whole("CELERY_LAB_MAX_SOCKETS_PER_LEARNER", 20),
        # Failed join attempts (wrong or closed code) per address and minute; members per class.
        "MAX_FAILED_JOINS_PER_MINUTE": whole("CELERY_LAB_MAX_FAILED_JOINS_PER_MINUTE", 100),
        "MAX_CLASS_MEMBERS": whole("CELERY_LAB_MAX_CLASS_MEMBERS", 400),
        # Addresses of the proxies in front of the site (comma-separated): X-Forwarded-For is
        # believed from these only, so nobody else can pretend to be someone else.
        "TRUSTED_PROXIES": env.items("CELERY_LAB_TRUSTED_PROXIES"),
    }


# -- The playground: learners' own code in sandboxes (README "The playground") ---------------
def _playground(env: Env) -> PlaygroundSettings:
    """The playground's settings, in playground/settings.py's shapes (the engine reads no env)."""
    whole = env.whole
    return PlaygroundSettings(
        enabled=env.flag("CELERY_LAB_PLAYGROUND", default=True),
        concurrency=whole("CELERY_LAB_PLAYGROUND_CONCURRENCY", 2, minimum=1),
        # Never a system uid (uid 0 is root): each slot runs as one of its own.
        uid_base=whole("CELERY_LAB_PLAYGROUND_UID_BASE", 61000, minimum=1000),
        launcher=env.text("CELERY_LAB_PLAYGROUND_LAUNCHER", "bwrap"),
        max_file_kb=whole("CELERY_LAB_PLAYGROUND_MAX_FILE_KB", 32, minimum=1),
        warm=env.flag("CELERY_LAB_PLAYGROUND_WARM", default=True),
        limits=Limits(
            memory_mb=whole("CELERY_LAB_PLAYGROUND_MEMORY_MB", 256, minimum=1),
            cpu_seconds=whole("CELERY_LAB_PLAYGROUND_CPU_SECONDS", 10, minimum=1),
            processes=whole("CELERY_LAB_PLAYGROUND_PROCESSES", 64, minimum=1),
            files_mb=whole("CELERY_LAB_PLAYGROUND_FILES_MB", 16, minimum=1),
            file_mb=whole("CELERY_LAB_PLAYGROUND_FILE_MB", 8, minimum=1),
            open_files=whole("CELERY_LAB_PLAYGROUND_OPEN_FILES", 256, minimum=16),
            output_kb=whole("CELERY_LAB_PLAYGROUND_OUTPUT_KB", 64, minimum=1),
            wall_seconds=whole("CELERY_LAB_PLAYGROUND_WALL_SECONDS", 30, minimum=1),
            nice=whole("CELERY_LAB_PLAYGROUND_NICE", 10, maximum=19),
        ),
    )
