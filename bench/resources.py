"""Memory (RSS) and CPU of the web server, the worker and Redis while a phase runs."""

from __future__ import annotations

import threading
import time

import psutil


def family(pid: int) -> list[psutil.Process]:
    """A process and all its children (gunicorn's master and worker, say)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _rss_and_cpu(pids: list[int]) -> tuple[int, float]:
    rss, cpu = 0, 0.0
    for process in (p for pid in pids for p in family(pid)):
        try:
            with process.oneshot():
                rss += process.memory_info().rss
                times = process.cpu_times()
                cpu += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return rss, cpu


class Sampler:
    """Samples RSS every ``interval`` seconds; CPU is the time used over the whole phase."""

    def __init__(self, pids: dict[str, list[int]], interval: float = 0.25):
        self.pids = pids
        self.interval = interval
        self.peak_rss = dict.fromkeys(pids, 0)
        self._cpu_start: dict[str, float] = {}
        self._started = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._started = time.monotonic()
        self._cpu_start = {name: _rss_and_cpu(pid)[1] for name, pid in self.pids.items()}
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        wall = time.monotonic() - self._started
        self.result = {}
        for name, pid in self.pids.items():
            rss, cpu = _rss_and_cpu(pid)
            self.peak_rss[name] = max(self.peak_rss[name], rss)
            self.result[name] = {
                "peak_rss_mb": round(self.peak_rss[name] / 2**20, 1),
                # Percent of one core, averaged over the phase (200 = both cores of two).
                "cpu_percent": round(100 * (cpu - self._cpu_start[name]) / wall, 1),
            }

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for name, pid in self.pids.items():
                self.peak_rss[name] = max(self.peak_rss[name], _rss_and_cpu(pid)[0])
