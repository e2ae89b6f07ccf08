"""Lesson 3: what the decorator gives a function: a name, ``.delay``, ``self``, retries."""

from __future__ import annotations

from celery import shared_task


def plain_add(x: int, y: int) -> int:
    """Add two numbers. No decorator: Celery has never heard of it."""
    return x + y


@shared_task
def decorated_add(x: int, y: int) -> int:
    """Add two numbers: the same body, registered by the decorator."""
    return x + y


@shared_task(bind=True)
def show_request(self) -> dict:
    """Return what Celery knows about this very call: ``self.request``."""
    fields = ["id", "task", "args", "kwargs", "retries", "hostname"]
    fields += ["delivery_info", "root_id", "parent_id", "origin", "eta"]
    fields += ["timelimit", "called_directly"]
    # Called directly there is no message, so some fields do not exist.
    return {name: getattr(self.request, name, None) for name in fields}


class ServiceUnavailable(Exception):
    """Stands in for a service that is briefly down (a timeout, a 503)."""


def flaky(self, failures: int) -> dict:
    """Fail on the first ``failures`` runs, then succeed.

    The attempt number comes from ``self.request.retries``: Celery carries
    the count in the message, so it is right whichever worker or thread
    runs the retry.
    """
    attempt = self.request.retries + 1
    if attempt <= failures:
        raise ServiceUnavailable(f"attempt {attempt}: the service is down")
    return {"task_id": self.request.id, "attempt": attempt}


MAX_RETRIES_CHOICES = range(5)


def flaky_task(max_retries: int):
    """Register ``flaky`` as a task that gives up after ``max_retries``.

    ``shared_task(function, **options)`` is what ``@shared_task(**options)``
    does, as a plain call. One call per limit makes one task per limit.
    """
    return shared_task(
        flaky,
        name=f"{__name__}.flaky_max_retries_{max_retries}",
        bind=True,
        autoretry_for=(ServiceUnavailable,),
        retry_backoff=1,
        retry_backoff_max=4,
        retry_jitter=False,  # in production, keep jitter: see the lesson
        max_retries=max_retries,
    )


FLAKY_TASKS = {n: flaky_task(n) for n in MAX_RETRIES_CHOICES}
