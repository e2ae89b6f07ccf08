"""What a run did, as the learner is told: one bounded summary built from validated reports.

``Summary.apply`` takes one report (already through ``playground.report``) and returns the
live messages it makes; ``Summary.end`` decides how the run ended and which limit, if any,
stopped it. Everything here is plain data, so it is tested with hand-made reports.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import lifecycle

from .settings import Limits

STATES = ("queued", "starting", "running", "finished", "failed", "stopped")
ENDED = ("finished", "failed", "stopped")
MAX_TASKS = 50
MAX_EVENTS_PER_TASK = 12
SIGXCPU = 24

# Text that a process prints when a limit refused it (Python's own error messages).
_LIMIT_SIGNS = (
    ("memory", "MemoryError"),
    ("memory", "Cannot allocate memory"),
    ("open_files", "Too many open files"),
    ("processes", "Resource temporarily unavailable"),
    ("file_size", "File too large"),
    ("disk", "No space left on device"),
)


def limit_message(limit: str, limits: Limits, detail: str = "") -> str:
    """The sentence a learner reads when ``limit`` stopped (part of) their run."""
    return {
        "memory": f"A process asked for more memory than the {limits.memory_mb} MB each may "
        "use and was refused (MemoryError, or ENOMEM for a shared mapping).",
        "cpu": f"A process used up its {limits.cpu_seconds} s of CPU time and was stopped "
        "(SIGXCPU): is there an endless loop?",
        "processes": f"The run tried to start more than {limits.processes} processes or "
        "threads; the extra ones were refused.",
        "file_size": f"A file grew past {limits.file_mb} MB, the most one file may hold.",
        "disk": f"The run's files filled its {limits.files_mb} MB directory.",
        "open_files": f"A process tried to keep more than {limits.open_files} files open.",
        "output": f"The {detail or 'run'} printed more than {limits.output_kb} KB, so the run "
        "was stopped.",
        "wall_clock": f"The run took longer than {limits.wall_seconds} s and was stopped.",
    }[limit]


REASON_MESSAGES = {
    "done": "The view returned and every task it sent has finished.",
    "view_error": "The view raised an exception (see its traceback).",
    "worker_error": "The worker stopped before the run was over (see its log).",
    "replaced": "You pressed Run again, so this run was stopped.",
    "sandbox_error": "The sandbox ended before the run reported how it went.",
    "unavailable": "The playground cannot run code on this server.",
}


def limits_in(text: str | None) -> list[str]:
    if not text:
        return []
    return [limit for limit, sign in _LIMIT_SIGNS if sign in text]


@dataclass
class Summary:
    run_id: str
    learner: str
    limits: Limits
    exercise: str | None = None
    state: str = "queued"
    reason: str | None = None
    message: str | None = None
    limits_hit: list[dict] = field(default_factory=list)
    banner: str | None = None
    registered: list[str] | None = None
    output: dict = field(default_factory=lambda: {"worker": [], "view": []})
    output_bytes: dict = field(default_factory=lambda: {"worker": 0, "view": 0})
    view: dict | None = None
    tasks: dict = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    ended_at: float | None = None
    over_output: str | None = None  # the stream that passed its cap

    # -- reports --------------------------------------------------------------------------
    def apply(self, report: dict) -> list[dict]:
        kind = report["k"]
        if kind == "phase":
            self.state = report["phase"]
            if self.started_at is None:
                self.started_at = time.time()
            return [{"kind": "state", "state": self.state}]
        if kind == "banner" and self.banner is None:
            self.banner, self.registered = report["text"], report["tasks"]
            return [{"kind": "banner", "text": self.banner, "tasks": self.registered}]
        if kind == "out":
            return self._output(report["stream"], report["text"])
        if kind == "event":
            return self._event(report)
        if kind == "result":
            # The result backend's word on a task whose final event never came.
            fields = {**report["fields"], "source": "result_backend"}
            return self._event({**report, "fields": fields, "timestamp": time.time()})
        if kind == "view" and self.view is None:
            self.view = {"exit": report["exit"], "traceback": report["traceback"]}
            for limit in limits_in(report["traceback"]):
                self.hit(limit)
            if report["exit"] == -SIGXCPU:
                self.hit("cpu")
            return [{"kind": "view", **self.view}]
        if kind == "worker_exit" and report["code"] == -SIGXCPU:
            self.hit("cpu")
        if kind == "traceback":  # one of the view's processes ended with this
            for limit in limits_in(report["text"]):
                self.hit(limit)
        return []

    def _output(self, stream: str, text: str) -> list[dict]:
        cap = self.limits.output_kb * 1024
        size = len(text.encode()) + 1
        if self.output_bytes[stream] + size > cap:
            self.over_output = self.over_output or stream
            return []
        self.output_bytes[stream] += size
        self.output[stream].append(text)
        for limit in limits_in(text):
            self.hit(limit)
        return [{"kind": "output", "stream": stream, "text": text}]

    def _event(self, report: dict) -> list[dict]:
        # The learner's tasks move as the site's own do (lifecycle.py): a late event changes
        # nothing, and after a retry the next delivery starts the task over.
        task_id, state = report["uuid"], lifecycle.EVENTS[report["type"]]
        fields = report["fields"]
        task = self.tasks.get(task_id)
        if task is None:
            if len(self.tasks) >= MAX_TASKS:
                return []
            task = self.tasks[task_id] = {"task_id": task_id, "name": None, "state": state}
            task["events"] = []
        task["name"] = task["name"] or fields.get("name")
        if lifecycle.advances(task["state"], state):
            task["state"] = state
        if len(task["events"]) < MAX_EVENTS_PER_TASK:
            task["events"].append(
                {"state": state, "timestamp": report["timestamp"], "fields": fields}
            )
        for key in ("result", "exception"):
            if key in fields and state in ("succeeded", "failed"):
                task[key] = fields[key]
        if state in ("failed", "retry"):
            for limit in limits_in(fields.get("exception", "") + fields.get("traceback", "")):
                self.hit(limit)
        return [
            {
                "kind": "task",
                "task_id": task_id,
                "task_name": task["name"],
                "state": state,
                "timestamp": report["timestamp"],
                "fields": fields,
            }
        ]

    def hit(self, limit: str, detail: str = "") -> None:
        if all(h["limit"] != limit for h in self.limits_hit):
            message = limit_message(limit, self.limits, detail)
            self.limits_hit.append({"limit": limit, "message": message})

    # -- the end ------------------------------------------------------------------------
    def end(self, done_reason: str | None, stopped: str | None) -> dict:
        """Settle state, reason and message; ``stopped`` is a reason the outside enforced."""
        if stopped in ("wall_clock", "output"):
            self.hit(stopped, self.over_output or "")
        if stopped in ("replaced", "output"):
            self.state, self.reason = "stopped", stopped
        elif self.limits_hit:
            # The first limit met is the cause; the wall clock (added last) only if alone.
            self.state, self.reason = "stopped", self.limits_hit[0]["limit"]
        elif done_reason == "done":
            self.state, self.reason = "finished", "done"
        elif done_reason in ("view_error", "worker_error", "unavailable"):
            self.state, self.reason = "failed", done_reason
        else:
            self.state, self.reason = "failed", "sandbox_error"
        self.message = next(
            (h["message"] for h in self.limits_hit if h["limit"] == self.reason),
            REASON_MESSAGES.get(self.reason, ""),
        )
        self.ended_at = time.time()
        return self.ended_message()

    def ended_message(self) -> dict:
        return {
            "kind": "ended",
            "state": self.state,
            "reason": self.reason,
            "message": self.message,
            "limits": self.limits_hit,
        }

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "exercise": self.exercise,
            "state": self.state,
            "reason": self.reason,
            "message": self.message,
            "limits_hit": self.limits_hit,
            "banner": self.banner,
            "registered_tasks": self.registered,
            "output": self.output,
            "view": self.view,
            "tasks": list(self.tasks.values()),
            "created_at": self.created_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
        }
