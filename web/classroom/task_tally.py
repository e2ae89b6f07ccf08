"""A class's tasks as counted from the worker's events: totals, who is where, recent events.

Every web process receives every Celery event, so each would count each event once more. One
Lua script makes counting exactly-once and atomic: it adds the event's fingerprint (task id,
type, producer timestamp: the same in every process) to a set, and only the process that added
it first updates the counters. The script also keeps each task's latest state, so "waiting",
"running" and the rest are exact counts, not guesses, and an event that arrives late (the web's
``task-sent`` after the worker's ``task-received``) never moves a task backwards.
"""

from __future__ import annotations

import json

import redis

import lifecycle

from .. import keys
from .rooms import CLASS_TTL_SECONDS

LOG_LENGTH = 200

# Whether a state moves a task (only forward, except after a retry) is lifecycle.py's
# rule: its generated Lua, prepended when the script is registered, defines lifecycle_advances.
# "purged" is what the instructor's purge makes of waiting tasks.
_RECORD = """
local class, tasks, counters, by_learner = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local seen, log = KEYS[5], KEYS[6]
local task, state, fingerprint, learner, entry = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ttl, log_length = tonumber(ARGV[6]), tonumber(ARGV[7])
if redis.call('HGET', class, 'status') ~= 'open' then return 0 end
if redis.call('SADD', seen, fingerprint) == 0 then return 0 end
local old = redis.call('HGET', tasks, task)
local move = lifecycle_advances(old, state)
if not old then
  redis.call('HINCRBY', counters, 'sent', 1)
  redis.call('HINCRBY', by_learner, learner .. ':sent', 1)
end
if state == 'retry' then redis.call('HINCRBY', counters, 'retried', 1) end
if move then
  if old then redis.call('HINCRBY', counters, 'now:' .. old, -1) end
  redis.call('HINCRBY', counters, 'now:' .. state, 1)
  redis.call('HSET', tasks, task, state)
  if state == 'succeeded' or state == 'failed' then
    redis.call('HINCRBY', counters, state, 1)
    redis.call('HINCRBY', by_learner, learner .. ':' .. state, 1)
  end
end
if entry ~= '' then
  redis.call('LPUSH', log, entry)
  redis.call('LTRIM', log, 0, log_length - 1)
end
for _, key in ipairs({tasks, counters, by_learner, seen, log}) do redis.call('EXPIRE', key, ttl) end
return 1
"""

# Waiting tasks the instructor purged never produce another event: say so in their state.
_PURGE = """
local tasks, counters = KEYS[1], KEYS[2]
local moved = 0
local all = redis.call('HGETALL', tasks)
for i = 1, #all, 2 do
  if all[i + 1] == 'sent' then
    redis.call('HSET', tasks, all[i], 'purged')
    moved = moved + 1
  end
end
if moved > 0 then
  redis.call('HINCRBY', counters, 'now:sent', -moved)
  redis.call('HINCRBY', counters, 'now:purged', moved)
end
return moved
"""

# What the projector shows, from the counters hash.
COUNTERS = (
    "sent",
    "waiting",
    "reserved",
    "running",
    "retrying",
    "succeeded",
    "failed",
    "retried",
    "purged",
    "runs_started",
    "runs_finished",
)


class Recorder:
    """Counts class task events in Redis; one per app, its scripts registered once."""

    def __init__(self, db: redis.Redis):
        self.db = db
        self._record = db.register_script(lifecycle.LUA + _RECORD)
        self._purge = db.register_script(_PURGE)

    def record(self, code: str, message: dict, learner: str, nickname: str) -> bool:
        """Count one task event for class ``code``; False if another process already did."""
        fingerprint = f"{message['task_id']}:{message['state']}:{message.get('timestamp')}"
        # Progress reports would flood the short log; the counters still see every event.
        entry = (
            ""
            if message["state"] == "progress"
            else json.dumps(log_entry(message, nickname), separators=(",", ":"))
        )
        parts = ("", "tasks", "counters", "by_learner", "seen", "log")
        return bool(
            self._record(
                keys=[keys.classroom(code, part) for part in parts],
                args=[
                    message["task_id"],
                    message["state"],
                    fingerprint,
                    learner,
                    entry,
                    CLASS_TTL_SECONDS,
                    LOG_LENGTH,
                ],
            )
        )

    def mark_purged(self, code: str) -> int:
        return int(
            self._purge(keys=[keys.classroom(code, "tasks"), keys.classroom(code, "counters")])
        )


def counters(db: redis.Redis, code: str) -> dict[str, int]:
    raw = {k: int(v) for k, v in db.hgetall(keys.classroom(code, "counters")).items()}

    def now(state: str) -> int:
        return max(0, raw.get(f"now:{state}", 0))

    return {
        "sent": raw.get("sent", 0),
        "waiting": now("sent"),
        "reserved": now("received"),
        "running": now("started") + now("progress"),
        "retrying": now("retry"),
        "succeeded": raw.get("succeeded", 0),
        "failed": raw.get("failed", 0),
        "retried": raw.get("retried", 0),
        "purged": now("purged"),
        # Playground runs (web/your_turn/runs.py): counts only, never a learner's code.
        "runs_started": raw.get("runs_started", 0),
        "runs_finished": raw.get("runs_finished", 0),
    }


def recent(db: redis.Redis, code: str, limit: int = 60) -> list[dict]:
    """The class's latest task events, oldest first (as a projector replays them)."""
    return [json.loads(e) for e in reversed(db.lrange(keys.classroom(code, "log"), 0, limit - 1))]


def log_entry(message: dict, nickname: str) -> dict:
    """The part of a task event the projector shows: who, what, which state, when."""
    fields = message.get("fields") or {}
    entry = {
        "task_id": message["task_id"],
        "who": nickname,
        "experiment": message.get("experiment"),
        "task": (message.get("task_name") or "").rsplit(".", 1)[-1],
        "state": message["state"],
        "at": message.get("timestamp") or message.get("received_at"),
    }
    if message["state"] == "progress":
        entry["progress"] = [fields.get("current"), fields.get("total")]
    if fields.get("eta"):
        entry["eta"] = fields["eta"]
    if fields.get("exception"):
        entry["error"] = str(fields["exception"])[:120]
    return entry
