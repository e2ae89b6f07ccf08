"""CPU per operation on the live path, each beside the stock Celery/kombu way of doing it.

``.venv/bin/python -m bench.costs [--events 20000] [--burst 300]`` starts its own redis-server
(and, for the last part, one worker as run.py starts it) and prints, in this process's own CPU
time (``time.thread_time``) so that other load on the machine matters less than for the
latency benchmarks:

- publishing one Celery event, through kombu's own Redis transport and through the site's
  (web/broker_transport.py: one Redis client per channel);
- reading one event from the stream, with Celery's ``Receiver.capture`` and with the hub's
  reader (web/live/event_stream.py), both ending in the receiver's own ``process``;
- a worker taking the opening burst of a class (``--burst`` slow tasks and as many retrying
  ones at once, then fast tasks at 150 a second for 8 s): its CPU and when tasks started.

It writes nothing: the figures are for bench/README.md's "Where the time goes".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

import psutil
from kombu import Connection
from kombu.transport import redis as kombu_redis

from tests.support.stack import Stack, poll

from .stats import summary


def publish_cost(celery, url: str, transport, n: int) -> float:
    """µs of CPU to publish one event through ``transport``."""
    with Connection(url, transport=transport) as conn:
        dispatcher = celery.events.Dispatcher(conn, hostname="bench-costs")
        dispatcher.send("task-progress", uuid="warm-up", current=0, total=n)
        started = time.thread_time()
        for i in range(n):
            dispatcher.send("task-progress", uuid="bench-costs", current=i, total=n)
        took = time.thread_time() - started
        dispatcher.close()
    return took / n * 1e6


_PUBLISHER = """
import os, sys
sys.path.insert(0, os.getcwd())
from celery_app import celery
with celery.events.default_dispatcher(hostname="bench-costs") as d:
    for i in range({n}):
        d.send("task-progress", uuid="x" * 36, current=i, total={n})
    d.send("bench-costs-done", uuid="y")
"""


def read_cost(celery, env: dict, n: int, direct: bool) -> float:
    """µs of CPU to read and process one event, Celery's way or the hub's."""
    from web.live import event_stream

    seen = {"n": 0, "cpu": 0.0}
    ready, done = threading.Event(), threading.Event()

    def handler(event):
        if seen["n"] == 0:
            seen["cpu"] = time.thread_time()
        seen["n"] += 1
        if event["type"] == "bench-costs-done":
            seen["cpu"] = time.thread_time() - seen["cpu"]
            done.set()

    def run():
        with celery.connection_for_read() as conn:
            receiver = celery.events.Receiver(conn, handlers={"*": handler})
            if direct:
                event_stream.direct_reader(receiver, conn, ready.set).run(done.is_set)
            else:
                receiver.on_consume_ready = lambda *a, **k: ready.set()
                threading.Thread(
                    target=lambda: (done.wait(), setattr(receiver, "should_stop", True)),
                    daemon=True,
                ).start()
                try:
                    receiver.capture(limit=None, timeout=1, wakeup=False)
                except TimeoutError:  # capture's own way of ending once told to stop
                    pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "the reader never subscribed"
    subprocess.run([sys.executable, "-c", _PUBLISHER.format(n=n)], check=True, env=env)
    assert done.wait(60), "the last event never arrived"
    thread.join(timeout=5)
    return seen["cpu"] / seen["n"] * 1e6


def burst(stack: Stack, celery, count: int, fast_rate: float = 150, fast_for: float = 8) -> dict:
    """A worker takes ``count`` slow and ``count`` retrying tasks at once, then fast ones."""
    from sandbox_tasks.basics import add
    from sandbox_tasks.decorators import FLAKY_TASKS
    from sandbox_tasks.timing import slow_task

    worker = stack.start_worker(concurrency=int(count * 1.25))
    seen: dict[str, dict[str, float]] = {}
    lock = threading.Lock()
    ready = threading.Event()

    def on_event(event):
        if "uuid" in event:
            with lock:
                seen.setdefault(event["uuid"], {})[event["type"]] = time.time()

    receivers = []

    def listen():
        with celery.connection_for_read() as conn:
            receivers.append(celery.events.Receiver(conn, handlers={"*": on_event}))
            ready.set()
            try:
                receivers[0].capture(limit=None, timeout=1, wakeup=False)
            except TimeoutError:  # told to stop, capture ends by timing out
                pass

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    ready.wait(10)
    process = psutil.Process(worker.popen.pid)
    before = process.cpu_times()
    sent: dict[str, tuple[str, float]] = {}

    def send(kind, task, args, n):
        for _ in range(n):
            at = time.time()
            sent[task.apply_async(args).id] = (kind, at)

    # The class's order: everyone's slow task first, then everyone's retrying one.
    for kind, task, task_args in (("slow", slow_task, (2,)), ("retry", FLAKY_TASKS[1], (1,))):
        senders = [
            threading.Thread(target=send, args=(kind, task, task_args, count // 4))
            for _ in range(4)
        ]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
    start = time.time()
    for i in range(int(fast_rate * fast_for)):
        pause = start + i / fast_rate - time.time()
        if pause > 0:
            time.sleep(pause)
        at = time.time()
        sent[add.apply_async((2, 3)).id] = ("fast", at)

    def finished():
        with lock:
            return all("task-succeeded" in seen.get(task_id, {}) for task_id in sent)

    poll(finished, 120, interval=0.2, message="every task of the burst to succeed")
    after = process.cpu_times()
    receivers[0].should_stop = True
    listener.join(timeout=5)

    def latency(kind, event):
        return summary(
            [seen[t][event] - at for t, (k, at) in sent.items() if k == kind and event in seen[t]]
        )

    return {
        "tasks": len(sent),
        "worker_cpu_s": round(after.user + after.system - before.user - before.system, 2),
        "slow_started": latency("slow", "task-started"),
        "retry_succeeded": latency("retry", "task-succeeded"),
        "fast_succeeded": latency("fast", "task-succeeded"),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.costs", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="events per measurement")
    parser.add_argument("--burst", type=int, default=300, help="slow and retrying tasks")
    args = parser.parse_args(argv)
    stack = Stack()
    stack.start_redis()
    os.environ["REDIS_URL"] = stack.url
    env = dict(stack.env)
    from celery_app import celery
    from web import broker_transport

    try:
        for label, transport in (
            ("kombu's Redis transport", kombu_redis.Transport),
            ("the site's (one client per channel)", broker_transport.Transport),
        ):
            cost = publish_cost(celery, stack.url, transport, args.events // 4)
            print(f"publish one event, {label}: {cost:.0f} µs CPU")
        for label, direct in (("Celery's Receiver.capture", False), ("the hub's reader", True)):
            cost = read_cost(celery, env, args.events, direct)
            print(f"read one event, {label}: {cost:.0f} µs CPU")
        figures = burst(stack, celery, args.burst)
        print(
            f"worker, {figures['tasks']} tasks ({args.burst} slow + {args.burst} retrying at "
            f"once, then fast at 150/s for 8 s): {figures['worker_cpu_s']} s CPU"
        )
        for name in ("slow_started", "retry_succeeded", "fast_succeeded"):
            s = figures[name]
            print(f"  {name}: p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, max {s['max_ms']} ms")
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
