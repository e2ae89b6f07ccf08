"""``python -m bench.sockets [--threads 2560] [--sockets 2000]``: pages with many sockets open.

Starts a real stack (tests/support/stack.py, launcher/commands.py), measures a lesson page with no
socket open, opens that many idle websockets from this process (each offering compression, as
Chromium does), and measures again: the web process's memory and threads, and the page's
p50/p99. How the server model was chosen (README, "Many connections").
"""

from __future__ import annotations

import argparse
import statistics
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psutil
import websocket

from tests.support import chromium
from tests.support.stack import Stack

PAGE = "/lessons/delay-vs-direct-call"


def page_ms(base: str, requests: int = 100) -> tuple[float, float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        with urllib.request.urlopen(base + PAGE, timeout=30) as response:
            response.read()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return round(statistics.median(times), 2), round(times[int(len(times) * 0.99) - 1], 2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sockets", description=__doc__)
    parser.add_argument("--threads", type=int, default=2560)
    parser.add_argument("--sockets", type=int, default=2000)
    args = parser.parse_args(argv)
    stack = Stack()
    stack.env.update(
        CELERY_LAB_MAX_SOCKETS=str(args.sockets + 1), CELERY_LAB_MAX_SOCKETS_PER_ADDRESS="0"
    )
    stack.start_redis()
    stack.start_worker(concurrency=4)
    stack.web, base = stack.start_web(threads=args.threads)

    def rss_mb() -> float:
        return sum(psutil.Process(p).memory_info().rss for p in stack.web_pids()) / 2**20

    def threads() -> int:
        return sum(psutil.Process(p).num_threads() for p in stack.web_pids())

    def open_one(_):
        # As a browser opens it: Chromium offers compression on every socket.
        ws = websocket.create_connection(
            base.replace("http", "ws") + "/ws", timeout=60, header=[chromium.WEBSOCKET_OFFER]
        )
        ws.recv()  # the hello: websocket-client would refuse a compressed frame
        return ws

    try:
        print(f"no sockets: {rss_mb():.0f} MB, {threads()} threads, page p50/p99 {page_ms(base)}")
        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            sockets = list(pool.map(open_one, range(args.sockets)))
        opened = time.perf_counter() - started
        print(
            f"{args.sockets} sockets (opened in {opened:.1f} s): {rss_mb():.0f} MB, "
            f"{threads()} threads, page p50/p99 {page_ms(base)}"
        )
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda ws: ws.close(timeout=0.1), sockets))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
