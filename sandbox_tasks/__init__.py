"""The tasks learners trigger, one module per concept.

Every task here is declared with ``@shared_task``: it binds to whichever Celery app is
current, so this package never imports the Flask app or ``celery_app`` (no import circle).
The worker imports this package because ``config.Settings.celery_config`` lists it in
``include``; the web process imports the modules its experiments use.
"""

from . import (  # noqa: F401  (importing a module registers its tasks)
    arguments,
    basics,
    decorators,
    flask_config,
    logs,
    pitfalls,
    playground,
    serialization,
    timing,
    workflows,
)
