"""Lesson 5: the same slow task, called directly, with ``.delay()``, and with a countdown."""

from sandbox_tasks.timing import slow_task

from .base import Experiment, IntParam


def call_directly(params: dict, lab) -> dict:
    # A plain call runs the task body right here, in the web process, while the browser waits.
    return {"result": slow_task(params["seconds"])}


def send_with_delay(params: dict, lab) -> dict:
    # slow_task.delay(seconds) is apply_async(args=(seconds,)); lab.send calls apply_async so
    # it can choose the task id first and route the task's events back to this learner.
    return {"task_id": lab.send(slow_task, args=(params["seconds"],))}


def send_with_countdown(params: dict, lab) -> dict:
    return {"task_id": lab.send(slow_task, args=(params["seconds"],),
                                countdown=params["countdown"])}


SECONDS = IntParam("seconds", "Seconds", minimum=1, maximum=30, default=3)

EXPERIMENTS = (
    Experiment(
        "lesson5.direct", "Call directly", call_directly,
        params=(IntParam("seconds", "Seconds", minimum=1, maximum=10, default=3),),
        mode="direct",
        help="slow_task(seconds): the web process runs it and the page waits.",
    ),
    Experiment(
        "lesson5.delay", ".delay()", send_with_delay, params=(SECONDS,),
        help="slow_task.delay(seconds): a message goes to the broker; a worker runs it.",
    ),
    Experiment(
        "lesson5.countdown", "apply_async(countdown=…)", send_with_countdown,
        params=(SECONDS, IntParam("countdown", "Countdown", minimum=1, maximum=30, default=5)),
        help="apply_async(args, countdown=5): the worker receives it now and starts it later.",
    ),
)
