"""Admission control: how much work one client may have in the lab, and the lab in all.

A task counts against its learner and its address from the moment it is sent until its final
event (succeeded, failed, rejected, revoked) reaches the web process that sent it, or until it
could no longer be running (the hold: its countdown plus the time limit plus a margin),
whichever comes first. Both are sorted sets of task ids scored by that deadline, so counting
forgets lost events by itself, and a task whose sender went away (a web process restarted) is
forgotten at its deadline. Only the sender removes it (web/live/hub.py): every process sees
every event, and one removal is enough.

Dropping the cookie makes a new learner, never a new address, so the address bound is what
holds a cookieless flood; it is sized for a whole class behind one NAT address. The queue
bound (messages waiting in Redis) says "the lab is busy, try again in N s" to everyone before
the queue grows so long that a click would wait behind it. Held direct calls (lesson 5, which
hold a request for seconds) are counted the same way, per learner and per address. Each
refusal names the bound it met: ``too_many_tasks`` (the learner's), ``network_too_many_tasks``
(the address's), ``call_waiting`` (a held call) and ``busy`` (the queue); the per-second request
limit (web/safety/guard.py) alone is ``rate_limited``. A ``.delay()`` press's count against that
limit is taken here, first, in the same script as its admission and route: one round trip.

The client's address is the peer's, or, only when the peer is a configured proxy
(``CELERY_LAB_TRUSTED_PROXIES``), the last address in X-Forwarded-For that is not a proxy.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from flask import current_app, has_request_context, request

import config
import lifecycle

from .. import keys
from ..errors import LabError
from ..extensions import get_redis
from .guard import RATE_KEY_SECONDS, RequestCount, rate_limited

FINAL_STATES = lifecycle.FINAL

_scripts: list = []


def _admit_script(db):
    """The admission script, sent by its SHA (redis-py loads it again if Redis lost it)."""
    if not _scripts:
        _scripts.append(db.register_script(_ADMIT))
    return _scripts[0]


# KEYS: learner set, address set, queue. ARGV: now, deadline, task id, learner cap, address
# cap, queue cap, then (a JSON list of Redis commands run once admitted, in the same round
# trip: the sender's route, web/live/hub.py), then the request's per-second counter and its
# limit ("" and 0: counted already, web/safety/guard.py). Returns {0} (admitted) or {1 learner
# | 2 address | 3 queue, seconds to wait} or {4}: past the second's limit, counted and nothing
# else done, as if the limit had been checked first. The commands and the counter name their
# own keys: this site's Redis is one server, not a cluster, so they need not be in KEYS.
_ADMIT = """
local now = tonumber(ARGV[1])
if ARGV[8] ~= '' then
  local count = redis.call('INCR', ARGV[8])
  redis.call('EXPIRE', ARGV[8], tonumber(ARGV[10]))
  if count > tonumber(ARGV[9]) then return {4, 1} end
end
for i = 1, 2 do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now) end
local caps = {tonumber(ARGV[4]), tonumber(ARGV[5])}
for i = 1, 2 do
  if caps[i] > 0 and redis.call('ZCARD', KEYS[i]) >= caps[i] then
    local first = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    return {i, math.ceil(tonumber(first[2]) - now)}
  end
end
local depth = redis.call('LLEN', KEYS[3])
if tonumber(ARGV[6]) > 0 and depth >= tonumber(ARGV[6]) then return {3, depth} end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[3])
  redis.call('EXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2]) - now) + 1)
end
for _, command in ipairs(cjson.decode(ARGV[7])) do redis.call(unpack(command)) end
return {0}
"""


def client_address() -> str:
    """The client's address: X-Forwarded-For is believed only from a configured proxy."""
    if not has_request_context():
        return "-"
    peer = request.remote_addr or "-"
    trusted = current_app.config.get("TRUSTED_PROXIES", ())
    if peer not in trusted:
        return peer
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if address not in trusted:
            return address[:64]
    return peer


def _busy(retry_after: int) -> LabError:
    return LabError(
        f"The lab is busy right now: try again in {retry_after} s.",
        "busy",
        503,
        retry_after=retry_after,
    )


def admit(
    task_id: str,
    learner: str,
    address: str,
    hold_seconds: float,
    per_client: bool = True,
    then: Sequence[Sequence[str | int]] = (),
    request: RequestCount | None = None,
) -> None:
    """Count ``task_id`` against its learner and address, or raise LabError.

    ``per_client=False`` (the instructor's burst) is held by the queue's bound only. ``then``:
    Redis commands to run only if the task is admitted, in the same round trip (a press costs
    one round trip fewer than admitting, then writing its route). ``request``: the press's
    per-second count, if not taken yet; it is taken here, first, in the same round trip.
    """
    cfg = current_app.config
    now = time.time()
    db = get_redis()
    outcome = _admit_script(db)(
        keys=[
            keys.outstanding("learner", learner),
            keys.outstanding("address", address),
            config.QUEUE,
        ],
        args=[
            now,
            now + hold_seconds,
            task_id,
            cfg["MAX_TASKS_PER_LEARNER"] if per_client else 0,
            cfg["MAX_TASKS_PER_ADDRESS"] if per_client else 0,
            cfg["MAX_QUEUED_TASKS"],
            json.dumps([list(command) for command in then]),
            *_request_args(request),
        ],
        client=db,
    )
    which = int(outcome[0])
    if request is not None and not request.taken:
        request.counted(which == 4)
    if which == 0:
        return
    if which == 4:
        raise rate_limited()
    if which == 3:
        # Roughly how long the worker takes to drain what waits, at its usual pace.
        raise _busy(max(1, min(30, math.ceil(int(outcome[1]) / 100))))
    wait = max(1, min(30, int(outcome[1])))
    # Each bound its own code, so a page or a script can tell whose tasks are in the way.
    who, code, cap = (
        ("this browser", "too_many_tasks", cfg["MAX_TASKS_PER_LEARNER"])
        if which == 1
        else ("your network", "network_too_many_tasks", cfg["MAX_TASKS_PER_ADDRESS"])
    )
    raise LabError(
        f"{cap} tasks from {who} are still waiting or running: let some finish, or try again "
        f"in {wait} s.",
        code,
        429,
        retry_after=wait,
    )


def _request_args(request: RequestCount | None) -> tuple:
    if request is None or request.taken:
        return ("", 0, 0)
    return (request.key, request.limit, RATE_KEY_SECONDS)


def release(task_id: str, learner: str, address: str | None, db=None) -> None:
    """Stop counting ``task_id`` (its final event arrived, or it was never sent)."""
    release_many([(task_id, learner, address)], db)


def release_many(tasks: Sequence[tuple[str, str, str | None]], db=None) -> None:
    """``release`` each (task id, learner, address), all in one round trip, without MULTI."""
    db = db or get_redis()
    pipe = db.pipeline(transaction=False)
    for task_id, learner, address in tasks:
        pipe.zrem(keys.outstanding("learner", learner), task_id)
        if address:
            pipe.zrem(keys.outstanding("address", address), task_id)
    pipe.execute()


@contextmanager
def held_call(learner: str, address: str) -> Iterator[None]:
    """Count one held direct call for the learner and the address while it runs."""
    cfg = current_app.config
    db = get_redis()
    counted = [
        (keys.held_calls("learner", learner), cfg["MAX_HELD_CALLS_PER_LEARNER"]),
        (keys.held_calls("address", address), cfg["MAX_HELD_CALLS_PER_ADDRESS"]),
    ]
    slots = current_app.extensions["held_calls"]
    if slots.take(address, learner, (cfg["MAX_HELD_CALLS"], 0, 0)) is not None:
        raise _busy(5)  # every thread this process may give to held calls is taken
    try:
        with _held_per_client(db, counted):
            yield
    finally:
        slots.give_back(address, learner)


@contextmanager
def _held_per_client(db, counted: list) -> Iterator[None]:
    pipe = db.pipeline()
    for key, _ in counted:
        pipe.incr(key)
        pipe.expire(key, 120)  # a process that died mid-call frees its count in time
    counts = pipe.execute()[::2]
    try:
        if any(cap > 0 and n > cap for n, (_, cap) in zip(counts, counted, strict=True)):
            raise LabError(
                "You already have a call waiting for its answer: let it finish first.",
                "call_waiting",
                429,
                retry_after=2,
            )
        yield
    finally:
        pipe = db.pipeline()
        for key, _ in counted:
            pipe.decr(key)
        pipe.execute()
