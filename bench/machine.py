"""How fast this machine is, measured the same way on every run, so runs can be compared.

Machines of the same kind differ a lot here: on 2026-12-02 publishing one Celery event cost
415–464 µs of CPU on one machine against 127–200 µs on the machine of the run before, and raw
``delay().get()`` 8–10 ms against 3.8 ms; every latency figure of a class moved with it. Each
run's header prints these figures, so a slower table can be read as a slower machine, not a
slower site:

- a Redis ``PING`` from redis-py against the bench's own redis-server: median client CPU
  (``time.thread_time``) and wall time per round trip, over 2,000;
- a fixed pure-Python loop (a million additions), the median of five: the interpreter's speed.
"""

from __future__ import annotations

import statistics
import time

PINGS = 2_000


def _loop_ms() -> float:
    started = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i
    return (time.perf_counter() - started) * 1000


def speed(redis_client) -> dict:
    redis_client.ping()
    cpu, wall = [], []
    for _ in range(PINGS):
        c, w = time.thread_time(), time.perf_counter()
        redis_client.ping()
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - w)
    return {
        "redis_ping_cpu_us": round(statistics.median(cpu) * 1e6, 1),
        "redis_ping_wall_us": round(statistics.median(wall) * 1e6, 1),
        "python_loop_ms": round(statistics.median(_loop_ms() for _ in range(5)), 1),
    }


def describe(figures: dict) -> str:
    return (
        f"Machine speed (bench/machine.py): a redis-py PING {figures['redis_ping_cpu_us']} µs "
        f"of client CPU ({figures['redis_ping_wall_us']} µs wall); a million Python additions "
        f"{figures['python_loop_ms']} ms. Compare runs by these before comparing milliseconds."
    )
