"""Exercise checks: did the run *really* do what the exercise asks?

A check never reads the learner's code. It draws fresh inputs before each run (a random
number, a random greeting: so a view or task that returns a literal cannot pass), and after
the run it judges the run's validated summary (``playground.outcome.Summary.as_dict()``):
the worker's banner and registered tasks, each task's events and result, the view's exit
and traceback, and when the view returned. Each check is a plain function of
``(inputs, run)``, tested with hand-made summaries; the verdict says what really happened.

    CHECKS[check_id] = Check(draw=lambda rng: {...}, judge=lambda inputs, run: Verdict(...))
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str  # what really happened, in one or two sentences a learner understands

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Check:
    draw: Callable[[random.Random], dict]
    judge: Callable[[dict, dict], Verdict]


# -- reading a run ----------------------------------------------------------------------------
def tasks_named(run: dict, name: str) -> list[dict]:
    """The run's tasks whose name is ``name`` or ends in ``.name`` (any module)."""
    return [t for t in run.get("tasks") or [] if (t.get("name") or "").rsplit(".", 1)[-1] == name]


def registered(run: dict, name: str) -> bool:
    return any(t.rsplit(".", 1)[-1] == name for t in run.get("registered_tasks") or [])


def last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def view_error(run: dict) -> str:
    return last_line((run.get("view") or {}).get("traceback"))


def worker_error(run: dict) -> str:
    """The last error line the worker printed (an import error that stopped it, say)."""
    # A worker that dies while importing prints its traceback before any log line, so the
    # collector reports it as the banner.
    lines = (run.get("banner") or "").splitlines() + list(run.get("output", {}).get("worker") or [])
    for line in reversed(lines):
        if "Error" in line or "Exception" in line:
            return line.strip()[:300]
    return ""


def events(task: dict, state: str) -> list[dict]:
    return [e for e in task.get("events") or [] if e.get("state") == state]


def failure(task: dict) -> str:
    exc = task.get("exception") or next(
        (e["fields"].get("exception", "") for e in events(task, "failed")), ""
    )
    return str(exc)[:300]


def common_failure(run: dict, name: str) -> Verdict | None:
    """The verdict for a run that never got as far as the task ``name`` succeeding."""
    if run.get("reason") in ("wall_clock", "memory", "cpu", "processes", "output"):
        return Verdict(False, f"The run was stopped at a limit: {run.get('message')}")
    if run.get("reason") == "worker_error" or run.get("banner") is None:
        why = worker_error(run)
        return Verdict(
            False,
            "Your worker never started, so no task could run"
            + (f": {why}" if why else " (see its log)."),
        )
    if not registered(run, name):
        return Verdict(
            False,
            f"The worker started, but its [tasks] list has no {name}: as far as Celery "
            "knows it is a plain function (is it decorated as a task?).",
        )
    found = tasks_named(run, name)
    if not found:
        if view_error(run):
            return Verdict(
                False, f"The view raised before any {name} task was sent: {view_error(run)}"
            )
        return Verdict(
            False,
            f"No {name} task reached the worker: the view called it directly, so it ran "
            "inside the view's own process. Send it with .delay() or .apply_async().",
        )
    task = found[-1]
    if task.get("state") == "failed":
        return Verdict(False, f"{name} reached the worker but failed there: {failure(task)}")
    if task.get("state") != "succeeded":
        return Verdict(
            False, f"{name} never finished on the worker (its last state: {task.get('state')})."
        )
    return None


def result_of(run: dict, name: str) -> str:
    """The repr of the latest successful ``name`` task's return value, as the worker sent it."""
    done = [t for t in tasks_named(run, name) if t.get("state") == "succeeded"]
    return str(done[-1].get("result", "")) if done else ""


def _word(rng: random.Random) -> str:
    # A name with a number, so that a literal has no real chance to match (72,000 of them).
    name = rng.choice(("Ada", "Grace", "Linus", "Guido", "Barbara", "Ken", "Radia", "Edsger"))
    return f"{name}{rng.randint(1000, 9999)}"


# -- the checks -------------------------------------------------------------------------------
def judge_add(inputs: dict, run: dict) -> Verdict:
    expected = inputs["x"] + inputs["y"]
    failed = common_failure(run, "add")
    if failed:
        return failed
    got = result_of(run, "add")
    if got != repr(expected):
        return Verdict(
            False,
            f"add ran on the worker but returned {got}, not "
            f"{inputs['x']} + {inputs['y']} = {expected} (this run's numbers).",
        )
    return Verdict(
        True,
        f"The worker, not the view, ran add({inputs['x']}, {inputs['y']}) and returned {expected}.",
    )


def judge_greeting(inputs: dict, run: dict) -> Verdict:
    failed = common_failure(run, "greet")
    if failed:
        if "application context" in failed.message:
            return Verdict(
                False,
                "greet ran on the worker outside any Flask app context, so "
                "current_app failed (Working outside of application context). "
                "Make every task run inside the app's context.",
            )
        return failed
    got, greeting = result_of(run, "greet"), inputs["greeting"]
    if greeting not in got:
        return Verdict(
            False,
            f"greet returned {got}, which does not carry this run's "
            f"GREETING ({greeting!r}) from app.config.",
        )
    return Verdict(
        True,
        f"The worker read app.config['GREETING'] ({greeting!r}) inside the "
        f"Flask app's context and returned {got}.",
    )


def judge_retries(inputs: dict, run: dict) -> Verdict:
    tasks = tasks_named(run, "fetch")
    retries = max((len(events(t, "retry")) for t in tasks), default=0)
    failed = common_failure(run, "fetch")
    if failed:
        if tasks and retries == 0:
            return Verdict(
                False, f"fetch failed on its first try and no retry happened: {failure(tasks[-1])}"
            )
        if tasks and retries and tasks[-1].get("state") == "failed":
            return Verdict(
                False, f"fetch was retried {retries} time(s) and then gave up: {failure(tasks[-1])}"
            )
        return failed  # a limit, or a task that never finished: the common verdict says which
    if retries < inputs["fail_times"]:
        return Verdict(False, f"fetch succeeded but was retried only {retries} time(s).")
    token = inputs["token"]
    if token not in result_of(run, "fetch"):
        return Verdict(
            False,
            f"fetch returned {result_of(run, 'fetch')}, not the service's "
            f"answer for this run's token {token!r}.",
        )
    return Verdict(
        True,
        f"The service failed {inputs['fail_times']} time(s); Celery retried "
        f"fetch {retries} time(s) with a growing wait, then it succeeded.",
    )


def judge_kwargs(inputs: dict, run: dict) -> Verdict:
    failed = common_failure(run, "order")
    if failed:
        return failed
    task = [t for t in tasks_named(run, "order") if t.get("state") == "succeeded"][-1]
    sent_kwargs = " ".join(
        str(e["fields"].get("kwargs", "")) for e in task.get("events") or [] if e.get("fields")
    )
    missing = [k for k in ("quantity", "gift_wrap") if f"'{k}'" not in sent_kwargs]
    if missing:
        return Verdict(
            False,
            f"The message's kwargs did not carry {', '.join(missing)}: the "
            f"worker received kwargs {sent_kwargs[:200] or '{}'}.",
        )
    expected = f"{inputs['quantity']} x {inputs['item']}, gift-wrapped"
    if expected not in result_of(run, "order"):
        return Verdict(False, f"order returned {result_of(run, 'order')}, not {expected!r}.")
    return Verdict(
        True,
        f"The message carried kwargs {sent_kwargs[:200]} and the worker returned {expected!r}.",
    )


def judge_returns_first(inputs: dict, run: dict) -> Verdict:
    failed = common_failure(run, "build_report")
    if failed:
        return failed
    task = [t for t in tasks_named(run, "build_report") if t.get("state") == "succeeded"][-1]
    if inputs["ref"] not in str(task.get("result", "")):
        return Verdict(
            False,
            f"build_report returned {task.get('result')}, not the report "
            f"for this run's ref {inputs['ref']!r}.",
        )
    done = [e["timestamp"] for e in events(task, "succeeded") if e.get("timestamp")]
    returned = run.get("view_returned_at")
    if not done or returned is None:
        return Verdict(False, "The run did not show when the view returned and the task ended.")
    gap = done[-1] - returned
    if gap < 1:
        return Verdict(
            False,
            f"The view waited for the task: it returned {-gap:.1f} s after "
            "the task finished. Send it and return at once; do not wait on .get().",
        )
    return Verdict(
        True,
        f"The view returned {gap:.1f} s before its task finished: the "
        "worker did the slow part while the page was already answered.",
    )


def judge_modules(inputs: dict, run: dict) -> Verdict:
    failed = common_failure(run, "welcome")
    if failed:
        if "circular import" in failed.message or "partially initialized" in failed.message:
            return Verdict(
                False,
                "The worker could not import your modules: they import each "
                f"other in a circle. {worker_error(run)}",
            )
        return failed
    name = inputs["name"]
    if name not in result_of(run, "welcome"):
        return Verdict(
            False,
            f"welcome returned {result_of(run, 'welcome')}, not a welcome "
            f"for this run's name {name!r}.",
        )
    return Verdict(
        True,
        f"The worker imported celery_app, app and tasks with no circle, "
        f"registered welcome and returned {result_of(run, 'welcome')}.",
    )


def expected_shipping(inputs: dict) -> str:
    return (
        f"{inputs['name']}, a customer for {inputs['days']} days: shipping {sorted(inputs['ids'])}"
    )


def judge_json(inputs: dict, run: dict) -> Verdict:
    failed = common_failure(run, "ship")
    if failed:
        if "not JSON serializable" in failed.message:
            return Verdict(
                False,
                "The view could not send the task: Celery's JSON serializer "
                f"refused an argument. {view_error(run)}",
            )
        return failed
    expected = expected_shipping(inputs)
    if expected not in result_of(run, "ship"):
        return Verdict(False, f"ship returned {result_of(run, 'ship')}, not {expected!r}.")
    return Verdict(
        True,
        f"The ids and the customer crossed the broker as JSON and the "
        f"worker returned {expected!r}.",
    )


def pool_of(run: dict) -> str:
    """The pool the worker's banner names (``concurrency: 2 (prefork)``), or ''."""
    for line in (run.get("banner") or "").splitlines():
        if "concurrency:" in line and "(" in line:
            name = line.rsplit("(", 1)[-1].strip(" )")
            return {"thread": "threads"}.get(name, name)  # the banner says "thread"
    return ""


def judge_soft_limit(inputs: dict, run: dict) -> Verdict:
    job, pool = inputs["job"], pool_of(run) or "this"
    tasks = tasks_named(run, "crunch")
    # The worker's own log line, written by the pool when it signalled the task.
    fired = any(
        "Soft time limit (1s) exceeded for" in line and "crunch" in line
        for line in run.get("output", {}).get("worker") or []
    )
    last = tasks[-1] if tasks else {}
    if fired and last.get("state") == "failed" and "SoftTimeLimitExceeded" in failure(last):
        return Verdict(
            True,
            f"The {pool} pool interrupted crunch after 1 s with SoftTimeLimitExceeded; the "
            "task did not catch it, so it failed (catch it to clean up and return).",
        )
    failed = common_failure(run, "crunch")
    if failed:
        return failed
    got = result_of(run, "crunch")
    if "ran to the end" in got:
        return Verdict(
            False,
            f"The task ran all 3 s: the {pool} pool does not enforce soft time limits "
            f"(crunch returned {got}).",
        )
    if f"cut short: {job}" not in got:
        return Verdict(False, f"crunch returned {got}, not the cut-short answer for job {job!r}.")
    if not fired:
        return Verdict(
            False,
            f"crunch returned {got}, but the worker never logged that its soft time limit "
            "was exceeded: no limit fired.",
        )
    return Verdict(
        True,
        f"The {pool} pool signalled crunch after 1 s: SoftTimeLimitExceeded was raised inside "
        f"the task, which cleaned up and returned {got}.",
    )


CHECKS: dict[str, Check] = {
    "add_on_worker": Check(
        lambda rng: {"x": rng.randint(100, 999), "y": rng.randint(100, 999)}, judge_add
    ),
    "greeting_from_config": Check(
        lambda rng: {
            "greeting": f"{rng.choice(('Hello', 'Bonjour', 'Hola', 'Ciao', 'Hej'))} "
            f"#{rng.randint(1000, 9999)}",
            "name": _word(rng),
        },
        judge_greeting,
    ),
    "retry_with_backoff": Check(
        lambda rng: {"fail_times": rng.randint(1, 2), "token": f"t{rng.randint(10000, 99999)}"},
        judge_retries,
    ),
    "keyword_arguments": Check(
        lambda rng: {
            "item": rng.choice(("teapot", "lamp", "kite", "atlas")),
            # Wide enough that two runs (or a literal) practically never match.
            "quantity": rng.randint(11, 999),
        },
        judge_kwargs,
    ),
    "view_returns_first": Check(
        lambda rng: {"ref": f"r{rng.randint(10000, 99999)}"}, judge_returns_first
    ),
    "modules_without_circle": Check(lambda rng: {"name": _word(rng)}, judge_modules),
    "json_arguments": Check(
        lambda rng: {
            "name": _word(rng),
            "ids": rng.sample(range(1, 100), 3),
            "days": rng.randint(10, 900),
        },
        judge_json,
    ),
    "soft_time_limit_fires": Check(
        lambda rng: {"job": f"job-{rng.randint(10000, 99999)}"}, judge_soft_limit
    ),
}


class Trial:
    """One run of one exercise: its fresh inputs, when the view returned, then the verdict."""

    def __init__(self, exercise: str, check_id: str, rng: random.Random | None = None):
        self.exercise, self.check = exercise, CHECKS[check_id]
        self.inputs = self.check.draw(rng or random.SystemRandom())
        self.view_returned_at: float | None = None

    def watch(self, on_report: Callable[[dict], str | None]) -> Callable[[dict], str | None]:
        """Wrap the run's report handler to note when the view returned."""

        def watched(report: dict) -> str | None:
            if report.get("k") == "view" and self.view_returned_at is None:
                self.view_returned_at = time.time()
            return on_report(report)

        return watched

    def judge(self, run: dict) -> dict:
        """The verdict on the run's summary, with this run's inputs, as plain data."""
        try:
            verdict = self.check.judge(
                self.inputs, {**run, "view_returned_at": self.view_returned_at}
            )
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
            # A summary of an unexpected shape is the run's doing, not a pass.
            verdict = Verdict(False, f"The run's outcome could not be read ({type(exc).__name__}).")
        return {"exercise": self.exercise, "inputs": self.inputs, **verdict.as_dict()}
