"""Sending a canvas (chain, group, chord, or one call) so every task in it reaches the learner.

``Lab.send`` routes one task. A canvas sends several, and most of them are published later by
the worker (the next step of a chain, a chord's body). Their ids are fixed in advance with
``Signature.freeze()``, and each gets a route before anything is sent, so the hub can hand
every event of every task to the learner who built the canvas.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import current_app

from web.live.hub import get_hub
from web.safety import admission


@contextmanager
def send_batch(celery):
    """A producer whose publishes go to Redis together, in one transaction, when the block ends.

    A canvas sent through it writes every message it sends now (a group's or a chord header's
    tasks, a chain's first step) and each one's ``task-sent`` in one round trip, not two each
    (kombu's ``Producer.batch``), as one Redis transaction (web/broker_transport.py
    ``PublishBatch``). All or nothing: a canvas that fails to serialize part way (lesson 7's
    limits apply to its arguments too) sends none of it, rather than its first tasks alone,
    and so does one whose connection breaks before Redis has the whole transaction. Nothing
    else runs in Redis between them, so the worker cannot report one of them before its
    ``task-sent`` is out.

    A single ``.delay()`` press does not use it (``Lab.send``): its message would then wait for
    its ``task-sent`` to be built, and the worker would start the task later. Measured with
    ``python -m bench --skip browser,classroom,pages,playground``: the press went from 1.36× to
    1.45× raw Celery. The page's event log orders what arrives by the events' own timestamps
    instead (site/static/js/lab.js).

    A batch is sent once, without kombu's retry: a failure raises (``BatchPublishError`` when
    the reply was lost, so whether Redis ran it is not known), which the runner answers like
    any broker error.
    """
    with celery.producer_or_acquire() as producer, producer.batch():
        yield producer


def send_canvas(lab, canvas, tasks: list[tuple[str, str]], holder: str | None = None):
    """Admit, route and send every ``(task_id, task_name)`` of ``canvas`` for ``lab``'s learner.

    A canvas holds one of its learner's (and address's) admission slots, in ``holder``'s name:
    the task whose final event ends the canvas (a chain's last step, a chord's body; by
    default the first task, the one sent directly). So one learner has at most their bound's
    worth of canvases in the lab, each of a handful of tasks. One slot, not one per task: a
    chain whose second step fails never runs the rest, and slots held by tasks that will never
    run would refuse the learner's next presses until their deadline. The slot is admitted
    with every route in one round trip, or refused (LabError) with nothing written or sent.
    Return what ``canvas.apply_async()`` returned (an ``AsyncResult`` or ``GroupResult``).
    """
    hub = get_hub()
    hub.start(wait=current_app.config["STREAM_READY_TIMEOUT"])
    address = admission.client_address()
    routes = {
        task_id: {
            "learner": lab.learner,
            "classroom": lab.classroom,
            "experiment": lab.experiment.name,
            "task_name": name,
            "address": address,
        }
        for task_id, name in tasks
    }
    writes = [
        command for task_id, route in routes.items() for command in hub.route_writes(task_id, route)
    ]
    holder = holder or tasks[0][0]
    lab.admit(holder, address, 0, writes)  # a refusal (LabError) sends nothing
    for task_id, route in routes.items():
        hub.cache_route(task_id, route)
    sent = False
    try:
        # Every message the canvas sends now, and each one's task-sent, in one round trip;
        # no queue declared first, as for a single press (Lab.send says why).
        with send_batch(current_app.extensions["celery"]) as producer:
            result = canvas.apply_async(producer=producer, declare=[])
        sent = True
    finally:
        if not sent:
            for task_id in routes:
                hub.forget_route(task_id, lab.learner)
            admission.release(holder, lab.learner, address)
    lab.sent.extend(routes)
    return result
