"""Every Redis key the site writes, in one place, all under the ``celerylab:`` namespace.

| key                               | type   | holds                                      | expiry |
|-----------------------------------|--------|--------------------------------------------|--------|
| celerylab:route:<task id>         | string | JSON {learner, classroom, experiment, ...} | 6 h    |
| celerylab:learner:<id>:tasks      | list   | the learner's recent task ids, newest first| 6 h    |
| celerylab:ratelimit:<id>:<second> | string | requests counted in that second            | 5 s    |

Celery's own keys (the queue ``celery_lab``, ``celery-task-meta-<id>``, ``unacked*``) belong
to Celery and are not listed here.
"""

PREFIX = "celerylab:"


def route(task_id: str) -> str:
    return f"{PREFIX}route:{task_id}"


def learner_tasks(learner: str) -> str:
    return f"{PREFIX}learner:{learner}:tasks"


def rate_limit(learner: str, second: int) -> str:
    return f"{PREFIX}ratelimit:{learner}:{second}"
