"""The playground's run: one task = one learner's code in one sandbox (``playground`` queue).

Its Celery id is the run id. The web records ``run id -> learner`` before sending it, so the
live messages this task relays (Celery events ``playground-<kind>``, tagged with the run id)
reach the learner through the same hub as every task event. Only a playground worker
(``run.py``'s, consuming ``-Q playground``) runs it; its concurrency caps runs at once.
"""

from __future__ import annotations

import logging
import threading
import time

from celery import shared_task
from flask import current_app

from playground import outcome, runner, sandbox, slots, store
from playground.settings import QUEUE, PlaygroundSettings
from playground.warm import SandboxPool

log = logging.getLogger(__name__)
SAVE_EVERY = 0.25  # seconds between summary writes while a run streams


class Relay:
    """Sends a run's live messages as Celery events on one held connection."""

    def __init__(self, dispatcher, run_id: str):
        self.dispatcher, self.run_id = dispatcher, run_id

    def __call__(self, message: dict, run_id: str | None = None) -> None:
        fields = {k: v for k, v in message.items() if k != "kind"}
        self.dispatcher.send(f"playground-{message['kind']}", uuid=run_id or self.run_id, **fields)


_POOL_LOCK = threading.Lock()


def pool_for(app, settings: PlaygroundSettings) -> SandboxPool:
    """This worker process's sandboxes and slots (one pool per process, kept on its app)."""
    with _POOL_LOCK:
        pool = getattr(app, "playground_pool", None)
        if pool is None:
            pool = SandboxPool(settings, sandbox.launcher(settings), warm=settings.warm)
            app.playground_pool = pool
        return pool


def announce_queue(redis, relay: Relay) -> None:
    """Tell every queued run its new position (a run just started or ended)."""
    for n, run_id in enumerate(store.queued_ids(redis, QUEUE), start=1):
        relay({"kind": "state", "state": "queued", "position": n}, run_id=run_id)


@shared_task(bind=True, name="sandbox_tasks.playground.run", acks_late=True)
def run(self, learner: str, files: dict, view: str, exercise: str | None = None) -> dict:
    settings = current_app.config["PLAYGROUND"]  # config.Settings.playground
    redis = current_app.extensions["redis"]
    run_id = self.request.id
    summary = outcome.Summary(
        run_id=run_id, learner=learner, limits=settings.limits, exercise=exercise
    )
    catalogue = current_app.extensions.get("exercises")  # web/your_turn/exercises.py, if loaded
    trial = catalogue.begin(exercise) if catalogue is not None and exercise else None
    with self.app.events.default_dispatcher(hostname=self.request.hostname) as dispatcher:
        relay = Relay(dispatcher, run_id)

        def finish(done_reason: str | None, stopped: str | None) -> dict:
            ended, saved_summary = summary.end(done_reason, stopped), summary.as_dict()
            if trial is not None and stopped != "replaced" and done_reason != "unavailable":
                # An exercise: judge what really happened (playground/exercises.py), record it.
                verdict = ended["verdict"] = saved_summary["verdict"] = trial.judge(saved_summary)
                catalogue.record(redis, learner, verdict)
            relay(ended)
            store.save(redis, learner, saved_summary)
            announce_queue(redis, relay)
            return {"state": summary.state, "reason": summary.reason}

        if store.stop_requested(redis, run_id):
            return finish(None, "replaced")
        try:
            pool = pool_for(self.app, settings)
            slot, box = pool.lease()
        except (sandbox.SandboxUnavailable, slots.NoFreeSlot, OSError) as exc:
            log.error("playground run %s cannot start: %s", run_id, exc)
            return finish("unavailable", None)
        announce_queue(redis, relay)
        saved = {"at": 0.0}

        def on_report(report: dict) -> str | None:
            for message in summary.apply(report):
                relay(message)
            now = time.monotonic()
            if report["k"] == "phase" or now - saved["at"] > SAVE_EVERY:
                store.save(redis, learner, summary.as_dict())
                saved["at"] = now
            return "output" if summary.over_output else None

        try:
            ended = runner.run_sandbox(
                settings,
                box,
                {"files": files, "view": view, "inputs": trial and trial.inputs},
                trial.watch(on_report) if trial else on_report,
                lambda: store.stop_requested(redis, run_id),
            )
            if ended.stderr and ended.done_reason is None:
                log.warning("playground run %s: sandbox said %s", run_id, ended.stderr[-500:])
            return finish(ended.done_reason, ended.stopped)
        finally:
            # After finish: the slot's next (warm) sandbox starts once this run has ended.
            pool.give_back(slot)
