"""A task that logs as it works, and a handler that streams its lines to the page (chapter 9).

``get_task_logger(__name__)`` gives this module a logger under Celery's ``celery.task``
logger, whose formatter adds the task's name and id to every line in the worker's log. The
handler below adds one more destination: each line this module logs inside a task also goes
out as a custom ``task-log`` event through Celery's own event stream, the same path as
``task-started`` or ``task-progress``, so the site routes it to the learner who sent the task.
"""

from __future__ import annotations

import logging
import threading
import time

from celery import current_app, current_task, shared_task
from celery.app.log import TaskFormatter
from celery.utils.log import get_task_logger
from kombu.exceptions import OperationalError

logger = get_task_logger(__name__)

# A line longer than this is cut: a log event must stay a small message.
MAX_LINE = 400


class TaskEventHandler(logging.Handler):
    """Send each record logged inside a running task as a ``task-log`` event."""

    def __init__(self):
        super().__init__()
        self._sending = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        task = current_task
        # Outside a worker (a direct call) there is no task id to report under; and a send
        # that itself logs must not recurse.
        if not task or task.request.called_directly or getattr(self._sending, "on", False):
            return
        self._sending.on = True
        try:
            # The same format the worker's own log uses for task lines (worker_task_log_format).
            # (Colour off: the worker colours a terminal, and escape codes mean nothing on a page.)
            formatter = TaskFormatter(current_app.conf.worker_task_log_format, use_color=False)
            line = formatter.format(record)
            task.send_event(
                "task-log",
                level=record.levelname,
                message=record.getMessage()[:MAX_LINE],
                line=line[:MAX_LINE],
                logger=record.name,
            )
        except (OperationalError, OSError):
            self.handleError(record)
        finally:
            self._sending.on = False


logger.addHandler(TaskEventHandler())


class OrderRefused(ValueError):
    """The failure a learner asked the order to have."""


@shared_task(bind=True)
def process_order(self, order_id: int, items: int, outcome: str = "ok") -> dict:
    """Pretend to pack an order, logging each step at the level it deserves."""
    logger.info("Packing order %s with %s items", order_id, items)
    for item in range(1, items + 1):
        logger.debug("Item %s of order %s picked", item, order_id)
        time.sleep(0.5)
    if outcome == "slow courier":
        logger.warning("Courier API slow for order %s; retrying would be safe", order_id)
    if outcome == "refused":
        try:
            raise OrderRefused(f"order {order_id}: the address was refused")
        except OrderRefused:
            logger.exception("Could not ship order %s", order_id)
            raise
    logger.info("Order %s shipped", order_id)
    return {"order": order_id, "items": items}
