"""A task's lifecycle, defined once: its states in order, which are final, and how it moves.

Events from different producers arrive out of order (the web's ``task-sent`` can come after
the worker's ``task-received``), so every place that tracks a task keeps the furthest state it
has seen and lets a late event change nothing. That rule, ``advances``, lives only here:

- the browser gets it as data in every page (``for_browser``, read by
  site/static/js/lib/lifecycle.js): the states, their labels, and the table of moves;
- the classroom's Lua script gets the same table as Lua source (``LUA``,
  web/classroom/task_tally.py);
- Python code calls ``advances`` itself.

The table is computed from ``advances``, so no other language writes the rule again.
"""

from __future__ import annotations

# In lifecycle order. "purged" is never an event: the instructor's purge makes it of tasks that
# were still waiting in the queue (web/classroom/task_tally.py), so it sits between sent and
# received.
STATES = (
    "sent",
    "purged",
    "received",
    "started",
    "progress",
    "retry",
    "succeeded",
    "failed",
    "rejected",
    "revoked",
)
# The states a Celery event can put a task in (every state but the instructor's "purged").
EVENT_STATES = tuple(s for s in STATES if s != "purged")
FINAL = frozenset({"succeeded", "failed", "rejected", "revoked"})
RANK = {state: rank for rank, state in enumerate(STATES)}

# Celery's event types, in our vocabulary. task-progress and task-refused are this project's
# own custom events (sandbox_tasks/progress.py, sandbox_tasks/serialization.py).
EVENTS = {
    "task-sent": "sent",
    "task-received": "received",
    "task-started": "started",
    "task-progress": "progress",
    "task-retried": "retry",
    "task-succeeded": "succeeded",
    "task-failed": "failed",
    "task-rejected": "rejected",
    # The worker refused to decode the message: for the learner, a rejection.
    "task-refused": "rejected",
    "task-revoked": "revoked",
}

# Celery's result states (what the result backend says), in our vocabulary. There is no
# PROGRESS: tasks report progress with a custom event, never with update_state. IGNORED is
# never stored (a task that raises Ignore leaves no result), so it has no entry either.
RESULTS = {
    "PENDING": "sent",
    "RECEIVED": "received",
    "STARTED": "started",
    "RETRY": "retry",
    "SUCCESS": "succeeded",
    "FAILURE": "failed",
    "REJECTED": "rejected",
    "REVOKED": "revoked",
}

# Short words for a state where a screen names it in plain language (the projector's feed).
LABELS = {
    "sent": "in queue",
    "purged": "purged",
    "received": "taken",
    "started": "running",
    "progress": "running",
    "retry": "retrying",
    "succeeded": "succeeded",
    "failed": "failed",
    "rejected": "rejected",
    "revoked": "revoked",
}


def advances(current: str | None, new: str) -> bool:
    """Whether a task in ``current`` (None: not seen yet) moves to ``new`` on this event.

    A task only moves forward, and a final state is final. The exception is a retry: the
    worker sends the same task again, so a retried task starts over with its new delivery
    (received, started...), except for the re-send's own ``sent``, which Celery publishes just
    before the ``task-retried`` event and so can only be late.
    """
    if new not in RANK:
        return False  # not a lifecycle state (a logged line): it never moves a task
    if current is None:
        return True
    if current in FINAL:
        return False
    if current == "retry":
        return new != "sent"
    return RANK[new] > RANK[current]


def moves() -> dict[str, list[str]]:
    """The whole rule as a table: for each state, the states a task in it moves to."""
    return {old: [new for new in STATES if advances(old, new)] for old in STATES}


def for_browser() -> dict:
    """What a page needs to follow a task: rendered into base.html as JSON."""
    return {
        "states": list(STATES),
        "final": sorted(FINAL, key=RANK.__getitem__),
        "labels": LABELS,
        "moves": moves(),
    }


def template_context() -> dict:
    """A context processor: every template can render ``lab_lifecycle``."""
    return {"lab_lifecycle": for_browser()}


def _lua_set(names) -> str:
    return "{" + ", ".join(f"{name}=true" for name in names) + "}"


def lua_source() -> str:
    """Lua that defines ``lifecycle_advances(old, new)`` from the table above."""
    table = ", ".join(f"{old}={_lua_set(news)}" for old, news in moves().items())
    return (
        f"local lifecycle_states = {_lua_set(STATES)}\n"
        f"local lifecycle_moves = {{{table}}}\n"
        "local function lifecycle_advances(old, new)\n"
        "  if not old then return lifecycle_states[new] == true end\n"
        "  return lifecycle_moves[old] ~= nil and lifecycle_moves[old][new] == true\n"
        "end\n"
    )


# Built once at import: prepended to the classroom's Lua script.
LUA = lua_source()
