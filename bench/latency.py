"""Stream latency: the site's websocket round trip for add(2, 3) against two raw Celery floors.

The three are interleaved, one request at a time, on the same Redis and worker, so noise from
anything else on the machine falls on all three alike:

- ``site``: what a lesson page does (site/static/js/lab.js): a learner presses add.delay(2, 3)
  over the websocket (``lesson1.delay``) until the page receives its ``task-succeeded`` message;
- ``raw_get``: a plain script's ``add.delay(2, 3).get()``;
- ``raw_event``: a plain ``apply_async`` until a bare ``app.events.Receiver`` sees
  ``task-succeeded``.
"""

from __future__ import annotations

import time
import uuid

from .clients import Learner, Observer
from .stats import ratio, summary

ADD = "sandbox_tasks.basics.add"
EXPERIMENT = ("lesson1.delay", {"x": 2, "y": 3})
# Requests rotate over this many learners, so the per-learner rate limit never applies.
LEARNERS = 20


class SitePath:
    def __init__(self, base_url: str):
        self.learners = [Learner(base_url) for _ in range(LEARNERS)]
        for learner in self.learners:
            learner.connect()
        self.count = 0

    def once(self, timeout: float = 30) -> float:
        learner = self.learners[self.count % LEARNERS]
        self.count += 1
        ref = f"lat-{self.count}"
        started = time.perf_counter()
        learner.press(*EXPERIMENT, ref=ref)
        task_id, done = None, set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = learner.receive(deadline - time.monotonic())
            if message is None:
                break
            if message.get("ref") == ref:
                if message["type"] != "sent":
                    raise RuntimeError(f"the site refused the click: {message}")
                task_id = message["task_id"]
            elif message.get("type") == "task" and message["state"] == "succeeded":
                done.add(message["task_id"])
            if task_id in done:
                return time.perf_counter() - started
        raise RuntimeError(f"no task-succeeded for {ref} within {timeout}s")

    def close(self) -> None:
        for learner in self.learners:
            learner.close()


def raw_get(app) -> float:
    started = time.perf_counter()
    result = app.send_task(ADD, args=(2, 3))
    result.get(timeout=30)
    return time.perf_counter() - started


def raw_event(app, observer: Observer) -> float:
    task_id = str(uuid.uuid4())
    seen = observer.expect(task_id, "task-succeeded")
    started = time.perf_counter()
    app.send_task(ADD, args=(2, 3), task_id=task_id)
    if not seen.wait(30):
        raise RuntimeError("the observer never saw task-succeeded")
    return time.perf_counter() - started


def measure(base_url: str, app, observer: Observer, iterations: int, warmup: int = 20) -> dict:
    """Run the three paths in turn ``warmup + iterations`` times; keep the last ``iterations``."""
    site = SitePath(base_url)
    paths = {
        "site": site.once,
        "raw_get": lambda: raw_get(app),
        "raw_event": lambda: raw_event(app, observer),
    }
    samples: dict[str, list[float]] = {name: [] for name in paths}
    names = list(paths)
    try:
        for i in range(warmup + iterations):
            # Rotate who goes first, so no path always follows the same one.
            for name in names[i % len(names) :] + names[: i % len(names)]:
                took = paths[name]()
                if i >= warmup:
                    samples[name].append(took)
    finally:
        site.close()
    result = {name: summary(values) for name, values in samples.items()}
    site_p50 = result["site"]["p50_ms"]
    result["ratios"] = {
        "site_vs_raw_event_p50": ratio(site_p50, result["raw_event"]["p50_ms"]),
        "site_vs_raw_get_p50": ratio(site_p50, result["raw_get"]["p50_ms"]),
        "site_vs_raw_event_p99": ratio(result["site"]["p99_ms"], result["raw_event"]["p99_ms"]),
        "site_vs_raw_get_p99": ratio(result["site"]["p99_ms"], result["raw_get"]["p99_ms"]),
    }
    return result
