"""The app's extensions, created bare and bound in the app factory: the flask-sock ``sock``, and
the Redis client for site state (progress, routes), one pool per app."""

from __future__ import annotations

import redis
from flask import Flask, current_app
from flask_sock import Sock

sock = Sock()


def init_app(app: Flask) -> None:
    # from_url does not connect; the pool opens connections on first use.
    app.extensions["redis"] = redis.Redis.from_url(
        app.config["REDIS_URL"],
        decode_responses=True,
        # One connection per request in flight: gunicorn runs up to 512 threads, and redis-py's
        # default cap (100) refused learners when 200 pressed a button at once.
        max_connections=1024,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
        # Worked out once: without it redis-py reads its own package metadata again for every
        # new connection (~0.4 ms), and the pool opens many at once when a class presses together.
        driver_info=redis.DriverInfo(),
    )


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]
