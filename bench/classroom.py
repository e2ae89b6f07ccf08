"""A classroom: N simulated learners on their own websockets, pressing buttons for a while.

Every learner presses the slow task within the same second (a class told "press it now"), the
retrying task once in the next second, and a fast task every ``interval`` seconds or so
(jittered) until ``duration`` is up; then they wait for their tasks to finish. The bench's tape
of the event channel (``EventTape``, decoded after the class) holds every event the worker and
web sent, which is what "expected" means: each learner should get exactly the events of its
own tasks, and nothing else.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import websocket

from launcher.supervisor import die_with_parent
from web.live import protocol

from .clients import EventTape, Learner, Observer
from .stats import summary

FAST = ("lesson1.delay", {"x": 2, "y": 3})
SLOW = ("lesson5.delay", {"seconds": 2})
RETRY = ("lesson3.retry", {"failures": 1})
FINAL = {"succeeded", "failed", "rejected", "revoked"}
BURST = 2.0  # seconds: everyone's slow click (first second) and retry click (second)
QUIET = 1.0  # seconds without a message after a learner's last task ended


@dataclass
class Click:
    kind: str
    at: float  # seconds after the start
    ref: str = ""
    clicked: float = 0.0  # wall clock
    late: float = 0.0  # how long after its planned moment the client managed to send it
    task_id: str | None = None
    reply: dict | None = None


@dataclass
class SimLearner:
    index: int
    learner: Learner | None  # None once back from the load generator's process
    clicks: list[Click]
    messages: list[tuple[float, dict]] = field(default_factory=list)
    error: str | None = None

    def run(self, start: float, drain_until: float, experiments: dict) -> None:
        pending = sorted(self.clicks, key=lambda c: c.at)
        by_ref: dict[str, Click] = {}
        finished: set[str] = set()
        try:
            while True:
                now = time.monotonic()
                while pending and now >= start + pending[0].at:
                    click = pending.pop(0)
                    click.late = now - (start + click.at)
                    click.ref = f"{self.index}-{len(by_ref)}"
                    by_ref[click.ref] = click
                    click.clicked = self.learner.press(*experiments[click.kind], ref=click.ref)
                if not pending and now > drain_until:
                    return
                sent = {c.task_id for c in by_ref.values() if c.task_id}
                done = not pending and all(c.reply for c in by_ref.values()) and sent <= finished
                wait = start + pending[0].at - now if pending else drain_until - now
                # Once all is done, listen a little longer: an event can arrive after the final
                # one (task-sent comes from the web, the others from the worker).
                message = self.learner.receive(QUIET if done else min(wait, 0.5))
                if message is None:
                    if done:
                        return
                    continue
                self.messages.append((time.time(), message))
                click = by_ref.get(message.get("ref"))
                if click is not None and message["type"] in ("sent", "error"):
                    click.reply = message
                    click.task_id = message.get("task_id")
                if message.get("type") == "task" and message["state"] in FINAL:
                    finished.add(message["task_id"])
        except (OSError, websocket.WebSocketException) as exc:  # the report says so
            self.error = repr(exc)


def schedule(rng: random.Random, duration: float, interval: float) -> list[Click]:
    # The whole class presses the slow task within the same second ("press it now"), the
    # retrying task in the next, then a fast one now and then.
    clicks = [Click("slow", rng.uniform(0.0, 1.0)), Click("retry", rng.uniform(1.0, 2.0))]
    at = rng.uniform(0.0, interval)
    while at < duration:
        clicks.append(Click("fast", at))
        at += rng.uniform(0.5, 1.5) * interval
    return clicks


def connect(base_urls: list[str], count: int) -> tuple[list[Learner], float]:
    """Open ``count`` learners' sockets, spread over the web processes in turn."""
    started = time.monotonic()

    def one(i):
        learner = Learner(base_urls[i % len(base_urls)])
        learner.connect()
        return learner

    with ThreadPoolExecutor(16) as pool:
        learners = list(pool.map(one, range(count)))
    return learners, time.monotonic() - started


def simulate(
    base_urls: list[str],
    observer: Observer | None,
    count: int,
    duration: float,
    interval: float,
    experiments: dict,
    seed: int = 1,
) -> tuple[list[SimLearner], float]:
    learners, connect_seconds = connect(base_urls, count)
    sims = [
        SimLearner(i, learner, schedule(random.Random(seed * 10_000 + i), duration, interval))
        for i, learner in enumerate(learners)
    ]
    start = time.monotonic() + 0.5
    drain_until = start + duration + 60
    threads = [
        threading.Thread(target=s.run, args=(start, drain_until, experiments), daemon=True)
        for s in sims
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for sim in sims:
        sim.learner.close()
    return sims, connect_seconds


def _generate(conn, base_urls, count, duration, interval, experiments, seed) -> None:
    """The load generator's process: run the class, send back what each learner saw."""
    die_with_parent()  # a bench killed mid-class takes its class with it
    sims, connect_seconds = simulate(base_urls, None, count, duration, interval, experiments, seed)
    for sim in sims:
        sim.learner = None  # its socket cannot cross processes, and is closed anyway
    conn.send((sims, connect_seconds))
    conn.close()


class Generator:
    """``simulate`` in a process of its own, so the clients' CPU is not the site's or the bench's.

    ``pid`` is known once entered, for the resource sampler; ``result()`` waits for the class.
    """

    def __init__(self, base_urls, count, duration, interval, experiments, seed: int = 1):
        ctx = multiprocessing.get_context("spawn")
        self._mine, theirs = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=_generate,
            args=(theirs, base_urls, count, duration, interval, experiments, seed),
            name=f"bench-class-{count}",
        )
        self._theirs = theirs

    def __enter__(self) -> Generator:
        self.process.start()
        self._theirs.close()
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def result(self, timeout: float = 900) -> tuple[list[SimLearner], float]:
        if not self._mine.poll(timeout):
            raise RuntimeError(f"the load generator sent nothing in {timeout} s")
        return self._mine.recv()

    def __exit__(self, *exc) -> None:
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _missing(made: list[str], got: dict[str, int], into: dict[str, int]) -> None:
    """Count the event types the observer saw for a task that its learner did not get."""
    left = dict(got)
    for kind in made:
        state = protocol.state_for(kind)
        if left.get(state, 0) > 0:
            left[state] -= 1
        else:
            into[kind] = into.get(kind, 0) + 1


def analyse(sims: list[SimLearner], observer: EventTape | Observer) -> dict:
    """Delivered vs expected events, misrouted ones, and the latencies a learner feels."""
    expected = delivered = misrouted = 0
    click_to_event, fast_done, slow_started, lag, answer, late = [], [], [], [], [], []
    # Where a slow task's wait for its start went, by the web's and the worker's own clocks:
    # click -> task-sent (the web), -> task-received (the queue in Redis), -> task-started
    # (the worker's pool).
    stages: dict[str, list[float]] = {"web": [], "queue": [], "pool": []}
    lag_by_state: dict[str, list[float]] = {}
    steady = []  # click -> event for clicks after the opening burst
    unanswered, broken, tasks = 0, 0, 0
    kinds: dict[str, int] = {}
    refused_by: dict[str, int] = {}
    missing_by: dict[str, int] = {}
    for sim in sims:
        broken += sim.error is not None
        mine = {c.task_id for c in sim.clicks if c.task_id}
        first: dict[str, dict[str, float]] = {}  # task id -> state -> first arrival
        made_at: dict[str, dict[str, float]] = {}  # task id -> state -> its event's timestamp
        got: dict[str, dict[str, int]] = {}  # task id -> state -> how many arrived
        for arrived, message in sim.messages:
            if message.get("type") != "task":
                continue
            if message["task_id"] not in mine:
                misrouted += 1
                continue
            delivered += 1
            first.setdefault(message["task_id"], {}).setdefault(message["state"], arrived)
            counts = got.setdefault(message["task_id"], {})
            counts[message["state"]] = counts.get(message["state"], 0) + 1
            if message.get("timestamp"):
                lag.append(max(0.0, arrived - message["timestamp"]))
                lag_by_state.setdefault(message["state"], []).append(lag[-1])
                made_at.setdefault(message["task_id"], {}).setdefault(
                    message["state"], message["timestamp"]
                )
        for click in sim.clicks:
            kinds[click.kind] = kinds.get(click.kind, 0) + 1
            late.append(click.late)
            if click.reply is None:
                unanswered += 1
                continue
            if click.task_id is None:
                code = click.reply.get("error", "?")
                refused_by[code] = refused_by.get(code, 0) + 1
                continue
            tasks += 1
            made = [kind for kind, _ in observer.of(click.task_id) if protocol.state_for(kind)]
            expected += len(made)
            _missing(made, got.get(click.task_id, {}), missing_by)
            seen = first.get(click.task_id, {})
            answer.append(next(a for a, m in sim.messages if m is click.reply) - click.clicked)
            if seen:
                click_to_event.append(min(seen.values()) - click.clicked)
                if click.at >= BURST:
                    steady.append(min(seen.values()) - click.clicked)
            if click.kind == "fast" and "succeeded" in seen:
                fast_done.append(seen["succeeded"] - click.clicked)
            if click.kind == "slow" and "started" in seen:
                slow_started.append(seen["started"] - click.clicked)
                at = made_at.get(click.task_id, {})
                if {"sent", "received", "started"} <= at.keys():
                    stages["web"].append(at["sent"] - click.clicked)
                    stages["queue"].append(at["received"] - at["sent"])
                    stages["pool"].append(at["started"] - at["received"])
    return {
        "learners": len(sims),
        "clicks": kinds,
        "tasks": tasks,
        "refused_clicks": sum(refused_by.values()),
        "refused_by": refused_by,
        "unanswered_clicks": unanswered,
        "broken_sockets": broken,
        "events": {
            "expected": expected,
            "delivered": delivered,
            "misrouted": misrouted,
            "missing": max(0, expected - delivered),
            "missing_by_type": missing_by,
        },
        # The simulated class shares the machine: clicks sent late mean the clients are the
        # bottleneck, and every latency above is inflated by them.
        "clients_late": summary(late),
        "click_to_reply": summary(answer),
        "click_to_event": summary(click_to_event),
        "click_to_event_after_burst": summary(steady),
        "event_lag": summary(lag),
        "event_lag_by_state": {state: summary(v) for state, v in sorted(lag_by_state.items())},
        "fast_click_to_succeeded": summary(fast_done),
        "slow_click_to_started": {
            **summary(slow_started),
            "all_started": len(slow_started) == kinds.get("slow", 0),
            "stages": {name: summary(values) for name, values in stages.items()},
        },
    }


# The figures a run of a class is judged by (bench/report.py's targets).
RUN_FIGURES = {
    "click_to_event_p99_ms": lambda row: row["click_to_event"]["p99_ms"],
    "after_burst_p99_ms": lambda row: row["click_to_event_after_burst"]["p99_ms"],
    "event_lag_p99_ms": lambda row: row["event_lag"]["p99_ms"],
    "last_slow_start_ms": lambda row: row["slow_click_to_started"]["max_ms"],
}


def run_summary(row: dict) -> dict:
    """One run's target figures and its correctness counts."""
    return {
        **{name: figure(row) for name, figure in RUN_FIGURES.items()},
        "all_started": row["slow_click_to_started"]["all_started"],
        "refused_clicks": row["refused_clicks"],
        "unanswered_clicks": row["unanswered_clicks"],
        "events": row["events"],
    }


def median_run(runs: list[dict]) -> dict:
    """The run whose click → first event p99 is the median, with every run's ``run_summary``.

    One run of a class on two shared cores swings more than most changes do (bench/README.md):
    the median of several, with each one's figures beside it, is what a change is judged by.
    """
    ordered = sorted(runs, key=lambda row: row["click_to_event"]["p99_ms"] or 0.0)
    return {**ordered[(len(ordered) - 1) // 2], "runs": [run_summary(row) for row in runs]}


def runs_of(row: dict) -> list[dict]:
    """Every run of ``row``'s class (a results file from before runs were kept: its one)."""
    return row.get("runs") or [run_summary(row)]
