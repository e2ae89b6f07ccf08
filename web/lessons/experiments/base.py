"""Experiments: the named, server-side actions a learner's buttons may trigger.

The browser only ever names an experiment and supplies its parameters; each parameter is
declared here with its type and bounds and validated before anything is sent. Learners never
send code, task names or serialized bytes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery import uuid
from flask import current_app

from web.classroom.rooms import from_session as classroom_in_session
from web.classroom.rooms import in_class
from web.errors import LabError
from web.extensions import get_redis
from web.learners import current_learner
from web.live.hub import get_hub
from web.safety import admission
from web.safety.guard import RequestCount, rate_limited

from .task_reprs import repr_options


class ExperimentError(LabError):
    """Bad input for an experiment, naming the parameter (``field``) that was wrong.

    Kept apart because question files are checked against the experiments at load time
    (web/quiz/questions.py catches it), and its validators name a field more than a code.
    """

    def __init__(
        self,
        message: str,
        field: str | None = None,
        code: str = "invalid_params",
        status: int = 400,
        retry_after: int | None = None,
    ):
        super().__init__(message, code, status, retry_after=retry_after, field=field or None)
        self.field = field


@dataclass(frozen=True)
class IntParam:
    """A whole number between ``minimum`` and ``maximum`` (inclusive)."""

    name: str
    label: str
    minimum: int
    maximum: int
    default: int

    def clean(self, raw: Any) -> int:
        # bool is an int in Python; a learner who sends true meant something else.
        # ASCII digits only, and not too many: str.isdigit() says yes to "²", which int() cannot
        # read, and int() refuses more than 4300 digits.
        if isinstance(raw, str) and re.fullmatch(r"-?[0-9]{1,18}", raw.strip()):
            raw = int(raw.strip())
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ExperimentError(
                f"{self.label} must be a whole number from {self.minimum} to {self.maximum}.",
                self.name,
            )
        if not self.minimum <= raw <= self.maximum:
            raise ExperimentError(
                f"{self.label} must be from {self.minimum} to {self.maximum}; you sent {raw}.",
                self.name,
            )
        return raw

    def describe(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "kind": "int",
            "min": self.minimum,
            "max": self.maximum,
            "default": self.default,
        }


def operand(name: str, default: int) -> IntParam:
    """One number of ``add(x, y)`` or ``multiply(a, b)``, labelled by its name."""
    return IntParam(name, name, minimum=-1000, maximum=1000, default=default)


# add(x, y)'s inputs, in every lesson that sends add.
ADD_OPERANDS = (operand("x", 2), operand("y", 3))


@dataclass(frozen=True)
class ChoiceParam:
    """One of a fixed list of strings."""

    name: str
    label: str
    choices: tuple[str, ...]
    default: str

    def clean(self, raw: Any) -> str:
        if raw not in self.choices:
            raise ExperimentError(
                f"{self.label} must be one of: {', '.join(self.choices)}.", self.name
            )
        return raw

    def describe(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "kind": "choice",
            "choices": list(self.choices),
            "default": self.default,
        }


@dataclass(frozen=True)
class Experiment:
    """One button: ``run(params, lab)`` returns what the learner gets back at once."""

    name: str
    label: str
    run: Callable[[dict, Lab], dict]
    params: tuple = ()
    # "task": answers with a task id, then events stream in. "direct": answers with a result.
    mode: str = "task"
    help: str = ""
    # A direct call that holds the request for seconds (lesson 5): counted per client.
    holds: bool = False

    @property
    def transport(self) -> str:
        """How this experiment is run: "http" (a POST) or "websocket" (the page's socket).

        A direct call answers with its result, and the request it holds is the lesson's point
        (lesson 5: the page waits), so it stays a request. Everything else answers at once with
        a task id and its events stream on the socket; a press over that socket is cheaper than
        a fetch (in headless Chromium here about 0.8 ms against 3.5-4.4 ms). The runner
        (web/live/runner.py) refuses an experiment on the other transport.
        """
        return "http" if self.mode == "direct" else "websocket"

    def clean(self, body: Any) -> dict:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise ExperimentError(
                'Send the parameters as a JSON object, like {"seconds": 3}.', code="bad_body"
            )
        known = {p.name for p in self.params}
        unknown = sorted(set(body) - known)
        if unknown:
            raise ExperimentError(
                f"Unknown parameter {unknown[0][:40]!r}; this experiment takes: "
                f"{', '.join(sorted(known)) or 'nothing'}.",
                unknown[0][:40],
            )
        cleaned = {}
        for param in self.params:
            if param.name not in body:
                raise ExperimentError(f"{param.label} is missing.", param.name)
            cleaned[param.name] = param.clean(body[param.name])
        return cleaned


@dataclass
class Lab:
    """What an experiment may do: send tasks on behalf of the current learner."""

    experiment: Experiment
    learner: str
    classroom: str | None = None
    sent: list = field(default_factory=list)
    # Count the tasks against the learner's and the address's bounds (the instructor's burst
    # does not); the queue's own bound applies to every task.
    limits: bool = True
    # The request's per-second count (web/safety/guard.py), if the caller left it to the lab:
    # taken with the first task's admission, or by ``count_request`` before any other work.
    request: RequestCount | None = None

    def count_request(self) -> None:
        """Take the request's count now if nothing took it yet; raise LabError past the limit."""
        if self.request is not None and self.request.take():
            raise rate_limited()

    def send(self, task, args=(), kwargs=None, **options) -> str:
        """Send ``task`` like ``apply_async`` does, routed back to this learner's sockets."""
        hub = get_hub()
        hub.start(wait=current_app.config["STREAM_READY_TIMEOUT"])
        task_id = options.pop("task_id", None) or uuid()
        address = admission.client_address()
        route = {
            "learner": self.learner,
            "classroom": self.classroom,
            "experiment": self.experiment.name,
            "task_name": task.name,
            "address": address,
        }
        # Admitted and routed in one round trip: the route is written only if admitted.
        self.admit(
            task_id, address, options.get("countdown") or 0, hub.route_writes(task_id, route)
        )
        hub.cache_route(task_id, route)
        queued = False
        try:
            kwargs = kwargs or {}
            # The site's Celery app (a task sent by name alone has none of its own).
            celery = current_app.extensions["celery"]
            # declare=[]: Celery would "declare" the queue before every message (kombu binds a
            # copy of the Queue and checks its cache: ~10 % of this send's CPU, measured with
            # a probe of 2,000 sends). On Redis a message to the default exchange is pushed
            # straight onto the queue's list, which no declaration changes; the worker
            # declares the queues it consumes from itself.
            options = {"declare": [], **repr_options(celery, args, kwargs), **options}
            task.apply_async(args=args, kwargs=kwargs, task_id=task_id, **options)
            queued = True
        finally:
            if not queued:
                # The send raised (an EncodeError in lesson 7, a broker outage): no route left.
                hub.forget_route(task_id, self.learner)
                admission.release(task_id, self.learner, address)
        self.sent.append(task_id)
        return task_id

    def admit(self, task_id: str, address: str, countdown: float, then=()) -> None:
        """Count ``task_id`` against this learner's and address's bounds (``then``: if so)."""
        config = current_app.config
        # Longest it could still be waiting or running: countdown, the time limit, a margin.
        hold = countdown + config["CELERY"].get("task_time_limit", 60) + 30
        # A refusal (LabError, with Retry-After) reaches the runner as any bad press does.
        admission.admit(
            task_id,
            self.learner,
            address,
            hold,
            per_client=self.limits,
            then=then,
            request=self.request,
        )


def run_experiment(
    experiment: Experiment,
    body: Any,
    classroom: str | None = None,
    request: RequestCount | None = None,
) -> dict:
    """Validate ``body``, run the experiment for the current learner, and describe the outcome.

    ``request``: the request's per-second count, not taken yet. A ``.delay()`` press takes it
    in its first task's admission (one round trip fewer); a direct call, which works in this
    process, takes it before it starts.
    """
    params = experiment.clean(body)
    # A learner in a class: their tasks also show on the class's projector.
    learner = current_learner()
    if classroom is None:
        classroom = classroom_in_session()
        # The cookie remembers a class even after the learner left it (or was removed, or
        # replays an old cookie): only a member's tasks reach the class's projector.
        if classroom is not None and not in_class(get_redis(), classroom, learner):
            classroom = None
    lab = Lab(experiment=experiment, learner=learner, classroom=classroom, request=request)
    if experiment.mode == "direct":
        lab.count_request()
    started = time.perf_counter()
    if experiment.holds:
        with admission.held_call(lab.learner, admission.client_address()):
            outcome = experiment.run(params, lab)
    else:
        outcome = experiment.run(params, lab)
    lab.count_request()  # an experiment that sent nothing is counted all the same
    outcome.setdefault("mode", experiment.mode)
    outcome["experiment"] = experiment.name
    outcome["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return outcome
