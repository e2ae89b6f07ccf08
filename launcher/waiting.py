"""Waiting for a child to answer before going on: Redis's ping, the web server's health page."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request

from kombu.utils.url import maybe_sanitize_url


def wait_for_redis(url: str, deadline: float) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    while True:
        try:
            client.ping()
            return
        except redis.exceptions.ConnectionError as exc:
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"Redis at {maybe_sanitize_url(url, mask='***')} does not answer: {exc}"
                ) from None
            time.sleep(0.05)


def wait_for_http(url: str, deadline: float, child: subprocess.Popen | None = None) -> None:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if child is not None and child.poll() is not None:
            raise SystemExit(f"the web server exited with code {child.returncode} while starting")
        if time.monotonic() > deadline:
            raise SystemExit(f"the web server did not answer {url} in time")
        time.sleep(0.1)
