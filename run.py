"""Start the whole site for a newcomer: Redis (unless REDIS_URL is set), a worker, the web server.

    python run.py [--host 127.0.0.1] [--port 8000] [--classroom] [--no-worker | --worker-only]

Ctrl-C or SIGTERM stops every child. If any child dies, this says which and how, stops the
others and exits non-zero: a site without its worker or broker would only pretend to work.
The tests start their processes with the same commands (``redis_command`` and friends, in
launcher/commands.py); the rest of the launcher's parts are in launcher/ too.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from kombu.utils.url import maybe_sanitize_url

import config
from launcher import lan
from launcher.commands import (
    find_redis_server,
    free_port,
    playground_worker_command,
    redis_command,
    web_command,
    worker_command,
)
from launcher.supervisor import Backoff, Supervisor, describe_exit, hold_run_lock
from launcher.waiting import wait_for_http, wait_for_redis


def port_number(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be from 1 to 65535, not {port}")
    return port


def positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"must be from 1 to 1000, not {value}")
    return value


def parse_args(
    argv: list[str] | None = None, settings: config.Settings | None = None
) -> argparse.Namespace:
    """The flags; each one's default is its setting (config.py), already checked there."""
    settings = settings or config.Settings.from_env()
    launch = settings.launch
    parser = argparse.ArgumentParser(description="Start Celery Lab: Redis, a worker, the web.")
    parser.add_argument(
        "--host",
        default=launch.host or None,
        help="address the web server listens on (env CELERY_LAB_HOST; default 127.0.0.1, "
        "or every interface with --classroom)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=launch.port,
        help="web server port (env CELERY_LAB_PORT; default 8000)",
    )
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=settings.worker_concurrency,
        help="worker threads (env CELERY_LAB_WORKER_CONCURRENCY; default "
        f"{config.WORKER_CONCURRENCY})",
    )
    parser.add_argument(
        "--classroom",
        action="store_true",
        default=launch.classroom,
        help="serve learners on the local network: listen on every interface and put this "
        "machine's LAN address in the join link and QR code (env CELERY_LAB_CLASSROOM)",
    )
    roles = parser.add_mutually_exclusive_group()
    roles.add_argument(
        "--no-worker",
        action="store_true",
        help="start Redis and the web only (run `make worker` elsewhere)",
    )
    roles.add_argument(
        "--worker-only",
        action="store_true",
        help="start only a worker, against REDIS_URL or the running site's Redis",
    )
    return parser.parse_args(argv)


def resolve_redis(
    supervisor: Supervisor, args: argparse.Namespace, env: dict, settings: config.Settings
) -> str:
    """Use REDIS_URL if set; else the running site's Redis (worker-only), else start our own."""
    url_file = config.VAR_DIR / "redis.url"
    if settings.redis_url:
        return settings.redis_url
    if args.worker_only:
        if not url_file.exists():
            raise SystemExit(
                "No REDIS_URL and no running site: start `make run` first, or set REDIS_URL."
            )
        return url_file.read_text().strip()
    binary = find_redis_server()
    if binary is None:
        raise SystemExit(
            "redis-server is not installed. Install it (Debian/Ubuntu: "
            "`apt-get install redis-server`; macOS: `brew install redis`), or set "
            "REDIS_URL to a Redis you already run, e.g. redis://127.0.0.1:6379/0"
        )
    port = settings.launch.redis_port or free_port()
    supervisor.start("redis", redis_command(binary, port, config.VAR_DIR / "redis"), env)
    url = f"redis://127.0.0.1:{port}/0"
    url_file.parent.mkdir(parents=True, exist_ok=True)
    url_file.write_text(url + "\n")
    return url


def main(argv: list[str] | None = None) -> int:
    # Every setting is read (and checked) here, once, before anything starts.
    settings = config.Settings.from_env()
    args = parse_args(argv, settings)
    supervisor = Supervisor()
    stop = {"signal": None}

    def on_signal(signum, _frame):
        stop["signal"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)  # the terminal closed: stop, as for Ctrl-C
    env = dict(os.environ)  # the children's environment: they read the same settings
    backoff = Backoff(settings.launch.worker_restarts)
    worker_cmd = worker_command(args.concurrency)
    # Workers that crash are started again (with backoff); the web and Redis are not.
    restartable = {"worker": worker_cmd}
    try:
        if not args.worker_only:
            lock = hold_run_lock(config.VAR_DIR)  # noqa: F841 (held until run.py exits)
        # Where learners join (classroom mode or CELERY_LAB_PUBLIC_URL), checked before
        # anything starts.
        learners = (
            ""
            if args.worker_only
            else lan.learners_url(
                args.classroom,
                args.port,
                args.host,
                settings.public_url,
                settings.launch.lan_interface,
            )
        )
        url = resolve_redis(supervisor, args, env, settings)
        env["REDIS_URL"] = url
        wait_for_redis(url, time.monotonic() + 10)
        if not args.worker_only:
            config.secret_key(settings.secret_key)  # made once here, so web processes share it
            # The instructor token: CELERY_LAB_INSTRUCTOR_TOKEN, else one kept under var/ (the
            # web processes read it the same way, config.instructor_token).
            env["CELERY_LAB_INSTRUCTOR_TOKEN"] = config.instructor_token(settings.instructor_token)
            # Classroom mode: every interface, learners told the LAN address (Redis stays
            # on loopback). The printed links for you on this machine stay on loopback.
            host = args.host or ("0.0.0.0" if args.classroom else "127.0.0.1")
            if learners:
                env["CELERY_LAB_PUBLIC_URL"] = learners
            web_cmd = web_command(host, args.port, processes=settings.launch.web_processes)
            web = supervisor.start("web", web_cmd, env)
            base = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{args.port}"
            wait_for_http(base + "/api/health", time.monotonic() + 30, web)
        if not args.no_worker:
            supervisor.start("worker", worker_cmd, env)
            playground = settings.playground
            if playground.enabled:
                restartable["playground worker"] = playground_worker_command(playground.concurrency)
                supervisor.start("playground worker", restartable["playground worker"], env)
        print(f"\nCelery Lab uses Redis at {maybe_sanitize_url(url, mask='***')}", flush=True)
        if not args.worker_only:
            print(f"Celery Lab is running: open {base}/  (Ctrl-C stops everything)", flush=True)
            print(
                f"Instructors (keep this link to yourself): {base}/classroom/instructor"
                f"?token={env['CELERY_LAB_INSTRUCTOR_TOKEN']}\n",
                flush=True,
            )
            if learners:
                print(f"Learners join at {learners}/join (the projector's QR code)\n", flush=True)
        while stop["signal"] is None:
            dead = supervisor.dead_child()
            if dead is not None and dead.name in restartable and not supervisor.stopping:
                delay = backoff.next_delay()
                if delay is not None:
                    print(
                        f"\nCelery Lab: the {dead.name} {describe_exit(dead.process.returncode)}; "
                        f"starting it again in {delay:g} s (see its output above).",
                        file=sys.stderr,
                        flush=True,
                    )
                    deadline = time.monotonic() + delay
                    while stop["signal"] is None and time.monotonic() < deadline:
                        time.sleep(0.1)
                    if stop["signal"] is None:
                        supervisor.restart(dead, env, restartable[dead.name])
                    continue
                print(
                    f"\nCelery Lab: the {dead.name} keeps crashing ({backoff.limit + 1} times "
                    f"within {backoff.window:g} s); giving up.",
                    file=sys.stderr,
                    flush=True,
                )
            if dead is not None:
                print(
                    f"\nCelery Lab: the {dead.name} {describe_exit(dead.process.returncode)}; "
                    "stopping the rest (see its output above).",
                    file=sys.stderr,
                    flush=True,
                )
                supervisor.stop_all()
                return 1
            time.sleep(0.2)
    except SystemExit as exc:
        supervisor.stop_all()
        if isinstance(exc.code, str):
            print(f"Celery Lab: {exc.code}", file=sys.stderr)
            return 1
        raise
    print("\nCelery Lab: stopping…", flush=True)
    supervisor.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
