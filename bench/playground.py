"""The playground's speed: Run pressed -> the worker's banner on the learner's websocket.

    python -m bench.playground [--runs 20] [--burst 30]

Also presses Run for ``--burst`` learners at once (all must finish or wait in the queue
cleanly) and samples the memory of each run's sandbox (every process of its slot's uid).
Targets: banner p50 <= 1 s, p95 <= 2 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time

import psutil

from config import ROOT, Settings
from playground import slots
from playground.settings import PlaygroundSettings
from tests.support.playground_stack import ADD, Coder
from tests.support.stack import Stack, poll

from .stats import percentile

VIEW = "result = add.delay(2, 3)\nprint(result.get(timeout=10))\n"


def press_to_banner(coder: Coder) -> tuple[float, float, str]:
    """Seconds from pressing Run to its banner, and to its end, on the websocket."""
    started = time.perf_counter()
    run_id = coder.press_run(VIEW, {"tasks.py": ADD})
    coder.session.until(lambda m: m.get("run_id") == run_id and m.get("kind") == "banner", 30)
    banner = time.perf_counter() - started
    ended = coder.wait_ended(run_id, 60)
    return banner, time.perf_counter() - started, ended["state"]


class MemorySampler:
    """Peak RSS of each slot's sandbox (all processes of its uid), sampled every 50 ms."""

    def __init__(self, settings: PlaygroundSettings):
        self.uids = [settings.uid_base + n for n in range(settings.concurrency)]
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            for uid in self.uids:
                rss = 0
                for pid in slots.processes_of(uid):
                    try:
                        rss += psutil.Process(pid).memory_info().rss
                    except psutil.Error:
                        continue
                self.peak = max(self.peak, rss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def burst(base_url: str, count: int) -> dict:
    """``count`` learners press Run at once; each run must end (none lost, none stuck)."""
    coders = [Coder(base_url) for _ in range(count)]
    results: list = [None] * count
    positions: list = [None] * count

    def press(n: int) -> None:
        status, body = coders[n].learner.post(
            "/api/playground/runs", {"files": {"tasks.py": ADD}, "view": VIEW}
        )
        positions[n] = body.get("position")
        ended = coders[n].wait_ended(body["run_id"], 300) if status == 202 else {"state": status}
        results[n] = (ended["state"], time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=press, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for coder in coders:
        coder.close()
    states = [r[0] for r in results]
    return {
        "learners": count,
        "finished": states.count("finished"),
        "other_states": sorted({str(s) for s in states if s != "finished"}),
        "max_position": max(p for p in positions if p is not None) if any(positions) else 0,
        "all_done_s": round(max(r[1] for r in results), 2),
    }


def spread(seconds: list[float]) -> dict:
    def ms(p: float) -> float:
        return round(percentile(seconds, p) * 1000, 1)

    return {"n": len(seconds), "p50_ms": ms(50), "p95_ms": ms(95), "max_ms": ms(100)}


def measure(
    stack: Stack, base_url: str, runs: int = 20, burst_size: int = 30, pause: float = 1.0
) -> dict:
    """Start a playground worker on ``stack``, then time runs pressed on ``base_url``.

    ``pause``: seconds between one run's end and the next press (a learner reads the result
    first); a warm sandbox needs about half a second of CPU to get warm again.
    """
    settings = Settings.from_env().playground
    stack.start_playground_worker(settings.concurrency)
    coder = Coder(base_url)
    press_to_banner(coder)  # the first run pays for imports the page cache then holds
    banners, totals, states = [], [], []
    with MemorySampler(settings) as memory:
        for _ in range(runs):
            time.sleep(pause)
            banner, total, state = press_to_banner(coder)
            banners.append(banner)
            totals.append(total)
            states.append(state)
    coder.close()
    poll(lambda: stack.redis().llen("playground") == 0, 30, message="an empty queue")
    with MemorySampler(settings) as burst_memory:
        crowd = burst(base_url, burst_size)
    return {
        "concurrency": settings.concurrency,
        "warm": settings.warm,
        "nice": settings.limits.nice,
        "pause_s": pause,
        "runs": runs,
        "press_to_banner": spread(banners),
        "press_to_end": spread(totals),
        "states": sorted(set(states)),
        "memory_per_run_mb": round(memory.peak / 2**20, 1),
        "burst": {**crowd, "memory_per_run_mb": round(burst_memory.peak / 2**20, 1)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.playground")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--burst", type=int, default=30)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between runs (1)")
    args = parser.parse_args(argv)
    stack = Stack()
    try:
        stack.start_redis()
        stack.web, stack.base_url = stack.start_web()
        results = measure(stack, stack.base_url, args.runs, args.burst, args.pause)
        results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        stack.stop()
        shutil.rmtree(stack.dir, ignore_errors=True)
    out = ROOT / "bench" / "results" / "playground.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
