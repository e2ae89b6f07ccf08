"""A task module that exists but that nothing imports: the worker never registers its task.

Chapter 10 sends ``send_welcome`` by name. This package's ``__init__`` does not list this
module and no other module imports it, exactly the slip of a project whose Celery ``include``
(or ``imports``) list misses a module.
"""

from celery import shared_task


@shared_task
def send_welcome(email: str) -> str:
    return f"welcome mail sent to {email}"
