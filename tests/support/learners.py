"""Learners as the tests drive them over HTTP and websockets, and helpers to read what they got.

A ``Learner`` is one browser's worth of identity (a cookie jar, HTTP calls, websockets); a
``Session`` follows one websocket's messages. The fixtures that make them are in tests/conftest.py.
"""

from __future__ import annotations

import http.cookiejar
import json
import time
import urllib.request

import websocket

from tests.support.stack import poll
from web import keys
from web.lessons.experiments import EXPERIMENTS

FINAL = ("succeeded", "failed")


def learner_of(client) -> str:
    """The learner id in a test client's session."""
    with client.session_transaction() as session:
        return session["learner"]


class Learner:
    """One browser's worth of identity: a cookie jar, HTTP calls and websockets."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        with self.opener.open(base_url + "/") as response:
            response.read()
        self.sockets: list[websocket.WebSocket] = []
        self.press_session: Session | None = None

    @property
    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def post(self, path: str, body) -> tuple[int, dict]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        return self._json(request)

    def get_json(self, path: str) -> tuple[int, dict]:
        """GET ``path``; return the status and the JSON body, as ``post`` does."""
        return self._json(self.base_url + path)

    def _json(self, request) -> tuple[int, dict]:
        """The status and JSON body of ``request``, an error status included."""
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read())

    def socket(self, origin: str | None = None) -> websocket.WebSocket:
        ws = websocket.create_connection(
            self.base_url.replace("http", "ws") + "/ws",
            timeout=30,
            header=[f"Cookie: {self.cookie}"],
            origin=origin or self.base_url,
        )
        hello = json.loads(ws.recv())
        assert hello["type"] == "hello"
        self.sockets.append(ws)
        return ws

    def session(self, origin: str | None = None) -> Session:
        """A new websocket that keeps every message it receives (see ``Session``)."""
        return Session(self.socket(origin))

    def press(self, experiment: str, params=None, session: Session | None = None) -> dict:
        """Press ``experiment``'s button the way its page does; return the runner's reply.

        Each experiment has one transport (``Experiment.transport``): a direct call is a POST,
        anything else a ``run`` action on ``session`` (by default one socket this learner opens
        for its presses). Success is ``reply["type"] == "sent"`` either way; ``params`` go as
        given, bad ones too.
        """
        if transport_of(experiment) == "http":
            status, reply = self.post(f"/api/experiments/{experiment}", params)
            # The status says what the body says: 200 with a reply, an error's own otherwise.
            assert (status == 200) == (reply.get("type") == "sent"), (status, reply)
            return reply
        if session is None:
            if self.press_session is None:
                self.press_session = self.session()
            session = self.press_session
        return session.run_with(experiment, params)

    def close(self):
        for ws in self.sockets:
            ws.close(timeout=1)
            ws.shutdown()  # close() leaves the socket open if the server closed first


def transport_of(experiment: str) -> str:
    """The transport ``experiment`` runs over, as its page uses it; an unknown name: the socket."""
    known = EXPERIMENTS.get(experiment)
    return known.transport if known is not None else "websocket"


def receive_until(ws, predicate, timeout: float = 30) -> list[dict]:
    """Collect messages from ``ws`` until one satisfies ``predicate``; return them all."""
    seen = []
    deadline = time.monotonic() + timeout

    def one():
        # Each read waits only for what is left: a server ping must not restart the clock.
        ws.settimeout(max(0.1, deadline - time.monotonic()))
        message = json.loads(ws.recv())
        seen.append(message)
        return predicate(message)

    poll(one, timeout, interval=0, message=f"a matching message (saw {seen[-5:]})")
    return seen


def events_of(messages: list[dict], task_id: str) -> list[dict]:
    """The events of ``task_id`` among ``messages``, in the order they arrived."""
    return [m for m in messages if m.get("type") == "task" and m["task_id"] == task_id]


def by_state(events: list[dict]) -> dict[str, dict]:
    """Each state's event (the latest, for a state that came more than once)."""
    return {e["state"]: e for e in events}


class Session:
    """One learner's websocket and every message it has received, in order, in ``seen``.

    A task's first events can arrive before the reply to the run action that sent it (the hub
    writes them from its own thread while the reply is being built), so nothing read is thrown
    away: ``events`` and ``lifecycle`` look in ``seen`` first and read on only for what is missing.
    """

    def __init__(self, ws: websocket.WebSocket):
        self.ws = ws
        self.seen: list[dict] = []

    def send(self, message: dict | str) -> None:
        """Send ``message`` as JSON; a str goes as it is (a raw frame)."""
        self.ws.send(message if isinstance(message, str) else json.dumps(message))

    def until(self, predicate, timeout: float = 30) -> list[dict]:
        """Read until a message satisfies ``predicate``; return the messages this read."""
        start = len(self.seen)

        def keep(message: dict) -> bool:
            self.seen.append(message)  # before the predicate, which may look at ``seen``
            return predicate(message)

        receive_until(self.ws, keep, timeout)
        return self.seen[start:]

    def run(self, experiment: str, **params) -> dict:
        """Press a button: send a run action; return its reply (``sent`` or ``error``)."""
        return self.run_with(experiment, params)

    def run_with(self, experiment: str, params, ref: str | None = "t") -> dict:
        """``run`` with ``params`` exactly as given, bad ones too; ``ref=None`` sends no ref."""
        message = {"action": "run", "experiment": experiment, "params": params}
        if ref is not None:
            message["ref"] = ref
        self.send(message)
        return self.until(lambda m: m["type"] in ("sent", "error"))[-1]

    def start(self, experiment: str, **params) -> str:
        """``run`` an experiment that must send a task; return the task's id."""
        reply = self.run(experiment, **params)
        assert reply["type"] == "sent", reply
        return reply["task_id"]

    def events(self, task_id: str, until=FINAL, timeout: float = 30) -> list[dict]:
        """Every event of ``task_id``, once one whose state is in ``until`` has arrived."""

        def ends(m: dict) -> bool:
            return m.get("type") == "task" and m["task_id"] == task_id and m["state"] in until

        if not any(ends(m) for m in self.seen):
            self.until(ends, timeout)
        return events_of(self.seen, task_id)

    def final(self, task_id: str, until=FINAL, timeout: float = 30) -> dict:
        """The event that ended ``task_id`` (a task-sent may still arrive after it)."""
        return [e for e in self.events(task_id, until, timeout) if e["state"] in until][-1]

    def lifecycle(self, task_id: str, states, timeout: float = 30) -> dict[str, dict]:
        """Each state's event for ``task_id``, once all ``states`` have arrived, in any order."""

        def complete(_message: dict | None = None) -> bool:
            return set(states) <= {e["state"] for e in events_of(self.seen, task_id)}

        if not complete():
            self.until(complete, timeout)
        return by_state(events_of(self.seen, task_id))

    def sync(self, *task_ids: str) -> dict:
        """Ask for the tasks' states in the result backend; return the snapshot (or error)."""
        self.send({"action": "sync", "task_ids": list(task_ids)})
        return self.until(lambda m: m["type"] in ("snapshot", "error"))[-1]

    def ping(self) -> list[dict]:
        """Ping and read up to the pong (the socket still answers); return what was read."""
        self.send({"action": "ping"})
        return self.until(lambda m: m["type"] == "pong")

    def task_ids(self) -> set[str]:
        """The id of every task this socket has heard of."""
        return {m["task_id"] for m in self.seen if m.get("type") == "task"}


def shown(outcome: dict) -> dict:
    """An outcome's ``show`` items, as label -> value."""
    return {item["label"]: item["value"] for item in outcome.get("show", [])}


def learner_id(stack, learner: Learner, experiment: str, params: dict) -> str:
    """The id in ``learner``'s signed cookie, read off the route of a task they send."""
    body = learner.press(experiment, params)
    assert body["type"] == "sent", body
    return json.loads(stack.redis().get(keys.route(body["task_id"])))["learner"]
