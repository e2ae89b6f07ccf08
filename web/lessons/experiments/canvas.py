"""Sending a canvas (chain, group, chord, or one call) so every task in it reaches the learner.

``Lab.send`` routes one task. A canvas sends several, and most of them are published later by
the worker (the next step of a chain, a chord's body). Their ids are fixed in advance with
``Signature.freeze()``, and each gets a route before anything is sent, so the hub can hand
every event of every task to the learner who built the canvas.
"""

from __future__ import annotations

from flask import current_app

from web.live.hub import get_hub


def send_canvas(lab, canvas, tasks: list[tuple[str, str]]):
    """Route each ``(task_id, task_name)`` of ``canvas`` to ``lab``'s learner, then send it.

    Return what ``canvas.apply_async()`` returned (an ``AsyncResult`` or ``GroupResult``).
    """
    lab.count_request()  # before any route is written: a canvas is not admitted task by task
    hub = get_hub()
    hub.start(wait=current_app.config["STREAM_READY_TIMEOUT"])
    for task_id, name in tasks:
        hub.remember_route(
            task_id,
            {
                "learner": lab.learner,
                "classroom": lab.classroom,
                "experiment": lab.experiment.name,
                "task_name": name,
            },
        )
    sent = False
    try:
        result = canvas.apply_async()
        sent = True
    finally:
        if not sent:
            for task_id, _ in tasks:
                hub.forget_route(task_id, lab.learner)
    lab.sent.extend(task_id for task_id, _ in tasks)
    return result
