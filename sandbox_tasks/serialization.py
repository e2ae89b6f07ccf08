"""Lesson 7: what survives the trip through the broker, and what the worker refuses to open."""

from __future__ import annotations

import logging

from celery import shared_task, signals
from kombu.exceptions import ContentDisallowed

log = logging.getLogger(__name__)

REFUSED_EVENT = "task-refused"


@shared_task
def describe_argument(value) -> str:
    """Say what this worker received: the type and repr of ``value`` after decoding."""
    return f"{type(value).__name__}: {value!r}"


# Why a signal handler lives here: a worker that refuses a message's content type (pickle,
# when it accepts JSON only) logs "Received invalid task message: Refusing to deserialize
# untrusted content ..." and drops the message before any task-received event exists, so the
# page that sent it would hear nothing at all. Celery's ``task_rejected`` signal fires in the
# worker at that moment; this turns it into one custom event, under the message's own task
# id, so the site's event stream can route the refusal to the learner who sent it. The worker
# imports this module through ``include``, which is what connects the handler there.
@signals.task_rejected.connect
def report_refused_content(sender=None, message=None, exc=None, **kwargs) -> None:
    """Send a ``task-refused`` event when the worker will not decode a message's content."""
    if not isinstance(exc, ContentDisallowed) or message is None:
        return
    headers = message.headers or {}
    dispatcher = getattr(sender, "event_dispatcher", None)
    if not headers.get("id") or dispatcher is None:
        return
    dispatcher.send(
        REFUSED_EVENT,
        uuid=headers["id"],
        name=headers.get("task"),
        content_type=message.content_type,
        exception=f"ContentDisallowed: {exc}",
    )
    log.info("refused %s message for task %s", message.content_type, headers["id"])
