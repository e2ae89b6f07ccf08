"""Lesson 2: the live wiring of Flask, Celery, Redis and the workers, and config in a task."""

from __future__ import annotations

import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from kombu.utils.url import maybe_sanitize_url

from sandbox_tasks.flask_config import read_setting
from web.extensions import get_redis
from web.live import workers

from .base import ChoiceParam, Experiment

# How long to wait for workers to answer; a worker on a busy machine answers in milliseconds.
ASK_TIMEOUT = 1.0

# Settings a learner may read. SECRET_KEY, REDIS_URL and the instructor token are deliberately
# not on the list: the choice is validated on the server, so nothing else can be asked for.
SETTINGS = ("SITE_NAME", "ROUTE_TTL_SECONDS", "RATE_LIMIT_PER_SECOND", "MAX_CONTENT_LENGTH")


def _ask_workers(celery) -> tuple[list[dict], list[dict]]:
    # Each question waits out its whole timeout (Celery cannot know how many workers exist),
    # so ask both at once.
    with ThreadPoolExecutor(max_workers=2) as pool:
        pinged = pool.submit(workers.ping, celery, ASK_TIMEOUT)
        described = pool.submit(workers.describe, celery, ASK_TIMEOUT)
        return pinged.result(), described.result()


def _explain_workers(replies: list[dict], pools: list[dict], depth: int) -> str:
    waiting = f"{depth} message{'s' if depth != 1 else ''} waiting in the queue"
    if not replies:
        return (
            f"No worker answered the ping within {ASK_TIMEOUT:g} s. Redis itself is up (it "
            f"reported {waiting}), so the web app can still send tasks: they will sit in the "
            "queue until a worker starts and takes them (make worker starts one)."
        )
    fastest = min(replies, key=lambda r: r["rtt_ms"])
    pool_words = "; ".join(
        f"{p['worker']} runs tasks in its pool ({p['implementation'] or p['pool']}), "
        f"up to {p['concurrency']} at once"
        for p in pools
    )
    return (
        f"{len(replies)} worker{'s' if len(replies) != 1 else ''} answered the ping through "
        f"Redis ({fastest['worker']} in {fastest['rtt_ms']} ms, there and back). "
        f"{pool_words or 'No worker described its pool in time'}. Right now there "
        f"{'is' if depth == 1 else 'are'} {waiting}."
    )


def show_connection(params: dict, lab) -> dict:
    celery = current_app.extensions["celery"]
    broker = maybe_sanitize_url(celery.conf.broker_url, mask="***")
    wiring = [
        {"label": "Broker (password hidden)", "value": broker, "format": "code"},
        {
            "label": "Result backend",
            "value": maybe_sanitize_url(str(celery.conf.result_backend), mask="***"),
            "format": "code",
        },
        {
            "label": "Queue this app sends to",
            "value": celery.conf.task_default_queue,
            "format": "code",
        },
    ]
    try:
        replies, pools = _ask_workers(celery)
        depth = workers.queue_depth(get_redis())
    except workers.WorkersUnavailable as exc:
        return {
            "workers": [],
            "show": wiring,
            "explain": f"The broker at {broker} did not answer ({exc}). Without it the web app "
            "cannot send tasks and no worker can receive them. Is Redis running?",
        }
    return {
        "workers": [r["worker"] for r in replies],
        "queue_depth": depth,
        "show": wiring
        + [
            {"label": "Messages waiting in the queue", "value": depth},
            {
                "label": "Workers that answered celery.control.ping()",
                "value": replies,
                "format": "json",
            },
            {
                "label": "Each worker's pool (celery.control.inspect().stats())",
                "value": pools,
                "format": "json",
            },
        ],
        "explain": _explain_workers(replies, pools, depth),
    }


def read_in_worker(params: dict, lab) -> dict:
    name = params["setting"]
    task_id = lab.send(read_setting, args=(name,))
    return {
        "task_id": task_id,
        "show": [
            {
                "label": f"This web process's app.config[{name!r}]",
                "value": repr(current_app.config[name]),
                "format": "code",
            },
            {
                "label": "Sent by the web process",
                "value": f"pid {os.getpid()} on {socket.gethostname()}",
            },
        ],
        "explain": (
            f"The message carries only the setting's name, {name!r}. The worker runs "
            "read_setting inside its own Flask app context (FlaskTask pushes one around every "
            "task) and reads current_app.config there. When the card succeeds, its result holds "
            "the value the worker read and the worker's pid: compare both with the lines above."
        ),
    }


def read_without_context(params: dict, lab) -> dict:
    name = params["setting"]
    outcome: dict = {}

    def attempt() -> None:
        # A fresh thread starts with no Flask context at all, like a worker whose tasks are
        # not wrapped by FlaskTask. .run is the bare function, without Task.__call__.
        try:
            outcome["value"] = read_setting.run(name)
        except RuntimeError as exc:
            outcome["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=attempt, name="no-app-context")
    thread.start()
    thread.join(timeout=5)
    error = outcome.get("error")
    return {
        "error_raised": error,
        "show": [
            {
                "label": f"read_setting.run({name!r}) in a thread with no app context",
                "value": error or repr(outcome.get("value")),
                "format": "code",
            }
        ],
        "explain": (
            "current_app only means something while an app context is pushed. This thread had "
            "none, so Flask raised the error above instead of guessing which app you meant. "
            "That is exactly what a worker would do without FlaskTask: the task body would run, "
            "reach for current_app.config and fail."
            if error
            else "The bare function found an app context after all, so it read the setting."
        ),
    }


SETTING = ChoiceParam("setting", "Setting", choices=SETTINGS, default="SITE_NAME")

EXPERIMENTS = (
    Experiment(
        "lesson2.connection",
        "celery.control.ping()",
        show_connection,
        mode="direct",
        help="Ask Redis and the running workers, live: who is there, how fast, how busy.",
    ),
    Experiment(
        "lesson2.config",
        "read_setting.delay(setting)",
        read_in_worker,
        params=(SETTING,),
        help="A task reads one Flask setting in the worker, through current_app.",
    ),
    Experiment(
        "lesson2.no_context",
        "read_setting.run(setting)",
        read_without_context,
        params=(SETTING,),
        mode="direct",
        help="The same body, run in a thread that has no Flask app context.",
    ),
)
