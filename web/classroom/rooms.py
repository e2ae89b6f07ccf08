"""A class: opened by the instructor, joined by learners with a short code and a nickname.

Everything lives in Redis (keys in web/keys.py), so any web process can serve any class and a
restart loses nothing. Learners have no accounts: joining ties the learner id in their cookie
to a nickname that only the instructor's screens show. Every function takes the Redis client.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
import secrets
import time

import redis
from flask import session

from .. import keys
from ..errors import LabError

# No 0/O, 1/I/L: a code read off a projector from the back of a room is typed right.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 5
CLASS_TTL_SECONDS = 30 * 24 * 3600
NICKNAME_MAX = 24
SKIPPED = "-"
_CODE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
# Letters (any script), digits, and a few separators; it must start with a letter or digit.
_NICKNAME = re.compile(r"^[^\W_][\w .'-]*$")


class ClassroomError(LabError):
    """A class action that cannot be done; the join form catches it to draw itself again."""


def clean_code(raw: object) -> str:
    """Turn what a learner typed (" k7qx-4 ") into a code, or say what a code looks like."""
    text = re.sub(r"[\s-]", "", raw).upper() if isinstance(raw, str) else ""
    if not _CODE.match(text):
        raise ClassroomError(
            f"A class code is {CODE_LENGTH} letters and digits, like the one on the projector.",
            "bad_code",
        )
    return text


def clean_nickname(raw: object) -> str:
    text = " ".join(raw.split()) if isinstance(raw, str) else ""
    if not text:
        raise ClassroomError("Choose a nickname to join with.", "bad_nickname")
    if len(text) > NICKNAME_MAX:
        raise ClassroomError(f"A nickname is at most {NICKNAME_MAX} characters.", "bad_nickname")
    if not _NICKNAME.match(text):
        raise ClassroomError(
            "A nickname uses letters, digits, spaces and . ' - only, starting with a letter "
            "or digit.",
            "bad_nickname",
        )
    return text


def _touch(pipe, code: str, *parts: str) -> None:
    for part in ("", *parts):
        pipe.expire(keys.classroom(code, part), CLASS_TTL_SECONDS)


def from_session() -> str | None:
    """The join code in this browser's session (set on joining), or None; no Redis call."""
    code = session.get("classroom")
    return code if isinstance(code, str) and _CODE.match(code) else None


# -- classes ---------------------------------------------------------------------------------
def create(db: redis.Redis) -> dict:
    """Open a new class under a fresh code."""
    now = time.time()
    for _ in range(20):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        # HSETNX claims the code atomically: two instructors can never get the same one.
        if db.hsetnx(keys.classroom(code), "code", code):
            break
    else:
        raise ClassroomError("Could not find a free class code; try again.", "busy", 503)
    pipe = db.pipeline()
    pipe.hset(keys.classroom(code), mapping={"status": "open", "created_at": now})
    pipe.zadd(keys.classes(), {code: now})
    pipe.expire(keys.classes(), CLASS_TTL_SECONDS)
    _touch(pipe, code)
    pipe.execute()
    return get(db, code)


def get(db: redis.Redis, code: str) -> dict | None:
    info = db.hgetall(keys.classroom(code))
    if not info.get("code"):
        return None
    return {
        "code": code,
        "status": info.get("status", "open"),
        "created_at": float(info.get("created_at", 0)),
        "opened": time.strftime(
            "%Y-%m-%d %H:%M UTC", time.gmtime(float(info.get("created_at", 0)))
        ),
        "closed_at": float(info["closed_at"]) if info.get("closed_at") else None,
        "lesson": info.get("lesson") or None,
        "members": db.hlen(keys.classroom(code, "members")),
    }


def require(db: redis.Redis, code: str, open_only: bool = False) -> dict:
    info = get(db, code)
    if info is None:
        raise ClassroomError(f"There is no class {code!r} (or it ended long ago).", "no_class", 404)
    if open_only and info["status"] != "open":
        raise ClassroomError(f"Class {code} has closed.", "closed", 409)
    return info


def find(db: redis.Redis, raw_code: object, open_only: bool = False) -> dict:
    """The class a code (as typed or as in a URL) names, or a ClassroomError saying why not."""
    return require(db, clean_code(raw_code), open_only=open_only)


def recent(db: redis.Redis, limit: int = 20) -> list[dict]:
    codes = db.zrevrange(keys.classes(), 0, limit - 1)
    return [info for info in (get(db, c) for c in codes) if info is not None]


def close(db: redis.Redis, code: str) -> dict:
    """Close the class (again is fine): nobody can join; its results stay for export."""
    info = require(db, code)
    if info["status"] != "closed":
        db.hset(keys.classroom(code), mapping={"status": "closed", "closed_at": time.time()})
    return require(db, code)


def set_lesson(db: redis.Redis, code: str, slug: str | None) -> dict:
    require(db, code, open_only=True)
    db.hset(keys.classroom(code), "lesson", slug or "")
    return require(db, code)


# -- members ---------------------------------------------------------------------------------
NO_SUCH_CLASS = "There is no open class with that code. Check the code on the projector."


def join(
    db: redis.Redis,
    code: str,
    learner: str,
    nickname: str,
    rejoin_key: object = None,
    max_members: int = 0,
) -> dict:
    """Add the learner under ``nickname``; joining again (or renaming) is fine.

    A nickname held by another learner id is theirs, unless ``rejoin_key`` is the key its
    holder was given on joining: then this is that learner back (cookie lost, another browser),
    and the answer's ``learner`` is the id to carry on as. Every join hands out a fresh key.
    A code that names no class and one that names a closed class get the same answer, so that
    trying codes tells nobody which ones exist.
    """
    info = get(db, code)
    if info is None or info["status"] != "open":
        raise ClassroomError(NO_SUCH_CLASS, "no_such_class", 404)
    nickname = clean_nickname(nickname)
    if max_members and info["members"] >= max_members and member(db, code, learner) is None:
        raise ClassroomError(
            f"This class is full ({max_members} learners); ask your instructor.", "class_full", 409
        )
    nicknames = keys.classroom(code, "nicknames")
    folded = nickname.casefold()
    # HSETNX makes "is the nickname free?" and "take it" one step, even across web processes.
    if not db.hsetnx(nicknames, folded, learner):
        holder = db.hget(nicknames, folded)
        if holder != learner:
            if not _key_matches(db, code, folded, rejoin_key):
                raise ClassroomError(
                    f"Someone in this class is already {nickname!r}; pick another. If that is "
                    "you, rejoin from the browser you joined with, or give your rejoin key.",
                    "nickname_taken",
                    409,
                )
            if db.get(keys.learner_class(learner)):
                leave(db, learner)  # the id this browser had meanwhile is given up
            learner = holder
    previous = member(db, code, learner)
    old_class = db.get(keys.learner_class(learner))
    if old_class and old_class != code:
        leave(db, learner)
    pipe = db.pipeline()
    if previous and previous["nickname"].casefold() != folded:
        pipe.hdel(nicknames, previous["nickname"].casefold())
    joined_at = previous["joined_at"] if previous else time.time()
    pipe.hset(
        keys.classroom(code, "members"),
        learner,
        json.dumps({"nickname": nickname, "joined_at": joined_at}),
    )
    pipe.set(keys.learner_class(learner), code, ex=CLASS_TTL_SECONDS)
    rejoin = new_rejoin_key()
    if previous and previous["nickname"].casefold() != folded:
        pipe.hdel(keys.classroom(code, "rejoin"), previous["nickname"].casefold())
    pipe.hset(keys.classroom(code, "rejoin"), folded, _digest(rejoin))
    _touch(pipe, code, "members", "nicknames", "rejoin")
    pipe.execute()
    return {"code": code, "nickname": nickname, "learner": learner, "rejoin": rejoin}


# -- rejoining: a learner who lost their cookie comes back as themselves ------------------------
REJOIN_GROUPS = 3  # XXXX-XXXX-XXXX from CODE_ALPHABET: 60 bits, typed off a phone if need be


def new_rejoin_key() -> str:
    return "-".join(
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(REJOIN_GROUPS)
    )


def _normal_key(raw: object) -> str:
    return re.sub(r"[\s-]", "", raw).upper()[:64] if isinstance(raw, str) else ""


def _digest(key: str) -> str:
    # Only a digest is kept: whoever reads Redis still cannot rejoin as anyone.
    return hashlib.sha256(_normal_key(key).encode()).hexdigest()


def _key_matches(db: redis.Redis, code: str, folded: str, raw: object) -> bool:
    key = _normal_key(raw)
    stored = db.hget(keys.classroom(code, "rejoin"), folded)
    if not key or not stored:
        return False
    return hmac.compare_digest(_digest(key), stored)


def member(db: redis.Redis, code: str, learner: str) -> dict | None:
    raw = db.hget(keys.classroom(code, "members"), learner)
    return json.loads(raw) if raw else None


def members(db: redis.Redis, code: str) -> dict[str, dict]:
    return {k: json.loads(v) for k, v in db.hgetall(keys.classroom(code, "members")).items()}


def leave(db: redis.Redis, learner: str) -> None:
    code = db.get(keys.learner_class(learner))
    if not code:
        return
    mine = member(db, code, learner)
    pipe = db.pipeline()
    if mine:
        pipe.hdel(keys.classroom(code, "nicknames"), mine["nickname"].casefold())
        pipe.hdel(keys.classroom(code, "rejoin"), mine["nickname"].casefold())
    pipe.hdel(keys.classroom(code, "members"), learner)
    pipe.delete(keys.learner_class(learner))
    pipe.execute()


def remove(db: redis.Redis, code: str, nickname: str) -> str:
    """The instructor takes ``nickname`` out of class ``code``; return the learner id."""
    folded = clean_nickname(nickname).casefold()
    learner = db.hget(keys.classroom(code, "nicknames"), folded)
    if not learner or db.get(keys.learner_class(learner)) != code:
        raise ClassroomError(f"Nobody in this class is called {nickname!r}.", "no_member", 404)
    leave(db, learner)
    return learner


def in_class(db: redis.Redis, code: str, learner: str) -> bool:
    """Whether ``learner`` is a member of class ``code`` now (a cookie may say so after leaving)."""
    return bool(db.hexists(keys.classroom(code, "members"), learner))


def class_of(db: redis.Redis, learner: str) -> dict | None:
    """The open class this learner is in, with their nickname, or None."""
    code = db.get(keys.learner_class(learner))
    info = get(db, code) if code else None
    if info is None or info["status"] != "open":
        return None
    mine = member(db, code, learner)
    return {**info, "nickname": mine["nickname"]} if mine else None


# -- answers and tallies ---------------------------------------------------------------------
def record_answer(
    db: redis.Redis, code: str, learner: str, question: str, choice: str | None
) -> None:
    """Count the learner's answer in the class (their latest answer replaces an earlier one)."""
    pipe = db.pipeline()
    pipe.hset(keys.classroom(code, f"answers:{question}"), learner, choice or SKIPPED)
    _touch(pipe, code, f"answers:{question}")
    pipe.execute()


def tallies(db: redis.Redis, code: str, questions: list) -> dict[str, dict]:
    """For each question: how many chose each choice, and how many skipped it."""
    pipe = db.pipeline()
    for q in questions:
        pipe.hvals(keys.classroom(code, f"answers:{q.id}"))
    out = {}
    for q, answers in zip(questions, pipe.execute(), strict=True):
        counts = {key: 0 for key in q.choice_keys}
        for a in answers:
            if a in counts:
                counts[a] += 1
        out[q.id] = {"counts": counts, "skipped": answers.count(SKIPPED), "total": len(answers)}
    return out


def reveal(db: redis.Redis, code: str, question: str, shown: bool) -> None:
    pipe = db.pipeline()
    if shown:
        pipe.sadd(keys.classroom(code, "revealed"), question)
    else:
        pipe.srem(keys.classroom(code, "revealed"), question)
    _touch(pipe, code, "revealed")
    pipe.execute()


def revealed(db: redis.Redis, code: str) -> set[str]:
    return db.smembers(keys.classroom(code, "revealed"))


# -- export ----------------------------------------------------------------------------------
def _cell(value) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: make it plain text.
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def export_csv(db: redis.Redis, code: str, questions: list) -> str:
    """One row per learner: nickname, tasks, and each answer with whether it was right."""
    people = members(db, code)
    by_learner = db.hgetall(keys.classroom(code, "by_learner"))
    pipe = db.pipeline()
    for q in questions:
        pipe.hgetall(keys.classroom(code, f"answers:{q.id}"))
    answers = dict(zip((q.id for q in questions), pipe.execute(), strict=True))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "nickname",
            "joined_at",
            "tasks_sent",
            "tasks_succeeded",
            "tasks_failed",
            *(f"{q.id}{suffix}" for q in questions for suffix in ("", " correct")),
        ]
    )
    for learner, info in sorted(people.items(), key=lambda kv: kv[1]["nickname"].casefold()):
        row = [
            _cell(info["nickname"]),
            time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(info["joined_at"])),
        ]
        row += [
            by_learner.get(f"{learner}:{what}", "0") for what in ("sent", "succeeded", "failed")
        ]
        for q in questions:
            choice = answers[q.id].get(learner)
            if choice is None:
                row += ["", ""]
            elif choice == SKIPPED:
                row += ["skipped", "no"]
            else:
                row += [choice, "yes" if q.grade(choice) else "no"]
        writer.writerow(row)
    return out.getvalue()
