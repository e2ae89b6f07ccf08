"""What one web process holds at once: open websockets, and direct calls holding a request.

Each open websocket holds a thread of the web server for its whole life (two, with
simple-websocket's reader), and so does a held direct call: both are counted here, in all and
per client, and refused past their caps before a thread is committed, with a message and
Retry-After, never by a connection left hanging. The counts are per process, like the threads.
"""

from __future__ import annotations

import threading
from collections import Counter

from flask import Flask, current_app, g, jsonify, request

from ..learners import current_learner
from .admission import client_address


class Slots:
    """Counts of what is held now, in all, per address and per learner."""

    def __init__(self):
        self._lock = threading.Lock()
        self.total = 0
        self.by_address: Counter[str] = Counter()
        self.by_learner: Counter[str] = Counter()

    def take(self, address: str, learner: str, caps: tuple[int, int, int]) -> str | None:
        """Hold one; return None, or which cap refused it ("all", "address", "learner")."""
        total_cap, address_cap, learner_cap = caps
        with self._lock:
            if total_cap and self.total >= total_cap:
                return "all"
            if address_cap and self.by_address[address] >= address_cap:
                return "address"
            if learner_cap and self.by_learner[learner] >= learner_cap:
                return "learner"
            self.total += 1
            self.by_address[address] += 1
            self.by_learner[learner] += 1
            return None

    def give_back(self, address: str, learner: str) -> None:
        with self._lock:
            self.total -= 1
            for counter, key in ((self.by_address, address), (self.by_learner, learner)):
                counter[key] -= 1
                if counter[key] <= 0:
                    del counter[key]


SOCKET_REFUSALS = {
    "all": (503, "The site has as many pages open as it can hold: try again in a minute."),
    "address": (429, "Too many pages are open from your network: close some and try again."),
    "learner": (429, "Too many pages of this site are open in this browser: close some."),
}


def take_socket_slot():
    """Before a websocket upgrade: hold a slot, or refuse with a message (never a hang)."""
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return None
    cfg = current_app.config
    address, learner = client_address(), current_learner()
    refused = current_app.extensions["sockets"].take(
        address,
        learner,
        (cfg["MAX_SOCKETS"], cfg["MAX_SOCKETS_PER_ADDRESS"], cfg["MAX_SOCKETS_PER_LEARNER"]),
    )
    if refused is not None:
        status, message = SOCKET_REFUSALS[refused]
        response = jsonify(error="too_many_sockets", message=message)
        response.status_code = status
        response.headers["Retry-After"] = "60" if refused == "all" else "10"
        return response
    g.socket_slot = (address, learner)
    return None


def give_back_socket_slot(_exc=None) -> None:
    slot = g.pop("socket_slot", None)
    if slot is not None:
        current_app.extensions["sockets"].give_back(*slot)


def init_app(app: Flask) -> None:
    app.extensions["sockets"] = Slots()
    app.extensions["held_calls"] = Slots()
    app.before_request(take_socket_slot)
    # A websocket's request ends when its socket does: that is when the slot is free again.
    app.teardown_request(give_back_socket_slot)
