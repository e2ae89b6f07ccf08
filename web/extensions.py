"""The app's extensions, created bare and bound in the app factory: the flask-sock ``sock`` (its
sockets without compression), and the Redis client for site state (progress, routes), one pool
per app."""

from __future__ import annotations

import redis
from flask import Flask, current_app, request
from flask_sock import Sock

sock = Sock()


def uncompressed_websockets() -> None:
    """Before a websocket upgrade: withdraw the browser's offer of permessage-deflate.

    Chromium offers it on every socket and simple-websocket accepts whatever is offered; each
    connection then keeps a zlib compressor for its whole life, for frames of a few hundred
    bytes. Measured on one web process: 1,000 idle sockets opened as Chromium opens them took
    its memory from 85 to 230 MB, and to 141 MB without the offer (bench/README.md, "Many
    sockets on one web process"). Without the header the handshake negotiates no extension.
    """
    if request.headers.get("Upgrade", "").lower() == "websocket":
        request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)


def init_app(app: Flask) -> None:
    app.before_request(uncompressed_websockets)
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
