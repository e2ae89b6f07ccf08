"""The websocket, one per open page: receive, validate, dispatch, reply.

Task events do not pass through here: the hub (web/live/hub.py) writes them to the connection.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from ..extensions import sock
from ..learners import current_learner
from . import protocol, runner, task_log
from .delivery import Key
from .hub import get_hub
from .outbox import Connection

log = logging.getLogger(__name__)

bp = Blueprint("ws", __name__)


def handle(message: dict, learner: str) -> dict:
    """Answer one validated browser message."""
    action = message["action"]
    if action == "ping":
        return protocol.pong()
    if action == "sync":
        ids = message.get("task_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) and len(i) <= 64 for i in ids):
            return protocol.error("invalid_params", "task_ids must be a list of task id strings.")
        ids = ids[: task_log.MAX_TASKS]
        mine = task_log.owned(learner, ids)
        refused = [i for i in ids if i not in mine]
        if refused and not mine:
            return {
                **protocol.error(
                    "not_your_task",
                    f"Task {refused[0][:8]}… was not sent from this browser, so it is not yours "
                    "to follow.",
                ),
                "task_ids": refused,
            }
        reply = {"type": "snapshot", "tasks": task_log.states(mine)}
        return {**reply, "refused": refused} if refused else reply
    # action == "run": the one runner, for experiments whose transport is the websocket.
    _status, reply = runner.run(
        message.get("experiment"),
        message.get("params"),
        message.get("ref"),
        transport=runner.WEBSOCKET,
    )
    return reply


@sock.route("/ws", bp=bp)
def socket(ws):
    learner = current_learner()
    hub = get_hub()
    hub.start(wait=current_app.config["STREAM_READY_TIMEOUT"])
    conn = Connection.from_config(ws, Key.learner(learner), current_app.config)
    hub.connect(conn)
    limit = current_app.config["WS_MAX_MESSAGE_BYTES"]

    def on_message(raw) -> None:
        message = None
        try:
            message = protocol.parse_action(raw, limit)
            reply = handle(message, learner)
        except protocol.ProtocolError as exc:
            reply = protocol.error(exc.code, str(exc))
        except (RedisError, OperationalError) as exc:
            # Redis is restarting: say so and keep the socket; the page can try again.
            log.warning("websocket action failed, Redis unavailable: %s", exc)
            reply = protocol.error(
                "broker_unavailable", "The site cannot reach Redis right now; try again."
            )
            if isinstance(message.get("ref"), str):
                reply["ref"] = message["ref"][:64]
        conn.send(reply)

    try:
        conn.send(protocol.hello(hub.ready.is_set()))
        # This thread runs its messages and writes whatever output its senders could not write
        # at once (web/live/outbox.py).
        conn.serve(on_message)
    finally:
        hub.disconnect(conn)
