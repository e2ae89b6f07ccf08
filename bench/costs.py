"""CPU per operation on the live path, each beside the stock Celery/kombu way of doing it.

``.venv/bin/python -m bench.costs [--events 20000] [--burst 300]`` starts its own redis-server
(and, for the last part, one worker as run.py starts it) and prints, in this process's own CPU
time (``time.thread_time``) so that other load on the machine matters less than for the
latency benchmarks:

- publishing one Celery event, through kombu's own Redis transport and through the site's
  (web/broker_transport.py: one Redis client per channel);
- reading one event from the stream, with Celery's ``Receiver.capture`` and with the hub's
  reader (web/live/event_stream.py), both ending in the receiver's own ``process``;
- a learner's ``.delay()`` press, end to end (``--learners`` sockets pressing ``add(2, 3)``
  one at a time each, as a page does, until its ``task-succeeded``): the CPU every process of
  the stack spends per press (the web's, all its gunicorn processes; the worker's; Redis's;
  and the learners' own clients, in this process), and so the most presses a second this
  machine's cores could serve, whatever the latency;
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


def press_cost(stack: Stack, learners: int, presses: int, rounds: int = 2) -> list[dict]:
    """ms of CPU per press, by process, for ``rounds`` rounds of ``learners`` × ``presses``."""
    from .clients import Learner

    worker = stack.start_worker("costs", concurrency=64)
    web, base_url = stack.start_web(processes=2)
    clients = [Learner(base_url) for _ in range(learners)]
    for client in clients:
        client.connect()

    def cpu(pid: int) -> float:
        process = psutil.Process(pid)
        times = [p.cpu_times() for p in (process, *process.children(recursive=True))]
        return sum(t.user + t.system for t in times)

    pids = {
        "web": web.popen.pid,
        "worker": worker.popen.pid,
        "redis": stack.redis_process.popen.pid,
    }

    def press_all(client: Learner, round_: int) -> None:
        for i in range(presses):
            ref = f"{round_}-{i}"
            client.press("lesson1.delay", {"x": 2, "y": 3}, ref=ref)
            task_id, succeeded = None, set()
            # The task's events may come before the press's reply (the hub writes them from
            # its own thread): done once both the reply and its task-succeeded are in.
            while task_id is None or task_id not in succeeded:
                message = client.receive(30)
                if message is None:
                    raise RuntimeError(f"press {ref}: nothing for 30 s")
                if message.get("ref") == ref and message["type"] == "error":
                    raise RuntimeError(f"press {ref} refused: {message}")
                if message.get("ref") == ref:
                    task_id = message["task_id"]
                if message.get("type") == "task" and message["state"] == "succeeded":
                    succeeded.add(message["task_id"])
            time.sleep(1 / 15)  # inside the learner's rate limit (20 a second)

    rows = []
    try:
        for round_ in range(rounds):
            before = {name: cpu(pid) for name, pid in pids.items()}
            mine = time.process_time()
            threads = [
                threading.Thread(target=press_all, args=(client, round_)) for client in clients
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            n = learners * presses
            row = {name: 1000 * (cpu(pid) - before[name]) / n for name, pid in pids.items()}
            row["clients"] = 1000 * (time.process_time() - mine) / n
            rows.append({name: round(value, 2) for name, value in row.items()})
    finally:
        for client in clients:
            client.close()
        web.stop()
        worker.stop()
    return rows


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


PARTS = ("publish", "read", "press", "burst")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.costs", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="events per measurement")
    parser.add_argument("--burst", type=int, default=300, help="slow and retrying tasks")
    parser.add_argument("--learners", type=int, default=50, help="sockets pressing at once")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"what to measure, comma-separated (default: all of {','.join(PARTS)})",
    )
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        parser.error(
            f"--parts takes some of {', '.join(PARTS)}; not {', '.join(unknown) or 'nothing'}"
        )
    for flag in ("events", "burst", "learners"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag} must be at least 1")
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
            if "publish" not in parts:
                break
            cost = publish_cost(celery, stack.url, transport, max(1, args.events // 4))
            print(f"publish one event, {label}: {cost:.0f} µs CPU")
        for label, direct in (("Celery's Receiver.capture", False), ("the hub's reader", True)):
            if "read" not in parts:
                break
            cost = read_cost(celery, env, args.events, direct)
            print(f"read one event, {label}: {cost:.0f} µs CPU")
        for row in press_cost(stack, args.learners, presses=20) if "press" in parts else ():
            total = sum(row.values())
            print(
                f"a .delay() press, {args.learners} learners one press at a time each: "
                + ", ".join(f"{name} {ms:.2f}" for name, ms in row.items())
                + f" ms CPU; {total:.2f} ms in all: at most {1000 * os.cpu_count() / total:.0f}"
                f" presses a second on {os.cpu_count()} cores"
            )
        if "burst" not in parts:
            return 0
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
