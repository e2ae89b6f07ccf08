"""The people in a class, for tests and for the crowd script: an instructor and many learners.

    python -m tests.support.classroom_people --learners 100 [--presses 3]

starts its own Redis, worker and web server (tests/support/stack.py), opens a class, and has
that many websocket learners join it and press lesson 5's ``.delay()`` button at once, then
prints what the instructor's projector socket saw: when each learner's task reached it, and the
counters.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import urllib.error

import websocket

from tests.support.learners import Learner, Session
from tests.support.stack import Stack, poll


class Instructor(Learner):
    """A browser signed in with the instructor link (the token leaves the address at once)."""

    def __init__(self, base_url: str, token: str):
        super().__init__(base_url)
        self.landed_on = None  # where the sign-in link led; None if it was refused
        try:
            with self.opener.open(f"{base_url}/classroom/instructor?token={token}") as response:
                response.read()
                self.landed_on = response.url
        except urllib.error.HTTPError as exc:
            exc.close()

    def get(self, path: str) -> tuple[int, bytes]:
        return fetch(self, path)

    def open_class(self) -> str:
        status, body = self.post("/api/classroom/classes", {})
        assert status == 201, body
        return body["code"]

    def projector(self, code: str, read_hello: bool = True) -> websocket.WebSocket:
        ws = websocket.create_connection(
            f"{self.base_url.replace('http', 'ws')}/classroom/{code}/ws",
            timeout=30,
            header=[f"Cookie: {self.cookie}"],
            origin=self.base_url,
        )
        self.sockets.append(ws)
        if read_hello:
            hello = json.loads(ws.recv())
            assert hello["type"] == "hello", hello
            self.snapshot = hello
        return ws


def fetch(who: Learner, path: str) -> tuple[int, bytes]:
    """GET ``path`` with ``who``'s cookie; return the status and the raw body."""
    try:
        with who.opener.open(who.base_url + path, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def join(learner: Learner, code: str, nickname: str) -> dict:
    status, body = learner.post("/api/classroom/join", {"code": code, "nickname": nickname})
    assert status == 200, body
    return body


def crowd(base_url: str, instructor: Instructor, code: str, n: int, presses: int = 1) -> dict:
    """N learners join and each press ``presses`` times at once; the projector watches."""
    learners = [Learner(base_url) for _ in range(n)]
    try:
        for i, who in enumerate(learners):
            join(who, code, f"learner {i + 1}")
        sessions = [who.session() for who in learners]
        projector = instructor.projector(code)
        seen: dict[str, float] = {}
        done: set[str] = set()
        sent_at: dict[str, float] = {}
        errors: list = []
        delivery: list[float] = []
        replied: list[float] = []

        def go(session: Session):
            try:
                for _ in range(presses):
                    started = time.time()
                    sent_at[session.start("lesson5.delay", seconds=1)] = started
                    replied.append(time.time() - started)
            except (AssertionError, OSError, websocket.WebSocketException) as exc:
                errors.append(repr(exc))

        total = n * presses
        counters: dict = {}

        def projector_has_everything():
            projector.settimeout(60)
            msg = json.loads(projector.recv())
            now = time.time()
            if msg["type"] == "class-tasks":
                for e in msg["events"]:
                    # How long the event took from its producer to the projector.
                    delivery.append(now - e["at"])
                    seen.setdefault(e["task_id"], now)
                    if e["state"] == "succeeded":
                        done.add(e["task_id"])
                counters.update(msg["counters"])
            elif msg["type"] == "counters":
                counters.update(msg["counters"])
            return len(done) >= total and counters.get("succeeded", 0) >= total

        # The projector is read while the learners press, so its times are when events arrive.
        watcher = threading.Thread(
            target=poll, args=(projector_has_everything, 120), kwargs={"interval": 0}
        )
        watcher.start()
        started = time.time()
        threads = [threading.Thread(target=go, args=(s,)) for s in sessions]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        watcher.join()
        assert len(done) >= total, f"the projector saw {len(done)} of {total} tasks finish"
        lags = [seen[t] - sent_at[t] for t in sent_at if t in seen]

        def ms(values: list[float]) -> dict:
            ordered = sorted(values)
            return {
                "p50": round(1000 * statistics.median(ordered), 1),
                "p95": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
                "max": round(1000 * ordered[-1], 1),
            }

        return {
            "learners": n,
            "tasks": total,
            "errors": errors,
            "wall_s": round(time.time() - started, 2),
            "press_to_task_id_ms": ms(replied),
            "press_to_projector_ms": ms(lags),
            "event_to_projector_ms": ms(delivery),
            "counters": counters,
        }
    finally:
        for who in learners:
            who.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--presses", type=int, default=1)
    args = parser.parse_args()
    stack = Stack()
    try:
        stack.start_redis()
        stack.start_worker(concurrency=64)
        _, base = stack.start_web(threads=args.learners * 2 + 64)
        teacher = Instructor(base, stack.instructor_token)
        code = teacher.open_class()
        print(json.dumps(crowd(base, teacher, code, args.learners, args.presses), indent=2))
        teacher.close()
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
