"""The worker's entry point: ``celery -A celery_app worker``.

Celery is configured from ``config.Settings.celery_config()`` and bound to Flask by
``web.celery_ext.celery_init_app``. This module only builds the Flask app and hands its Celery
object to the worker, so tasks run inside a Flask app context.

The imports point one way and never come back:
``celery_app -> web -> sandbox_tasks -> celery.shared_task``. The tasks never import this
module or the Flask app (they use ``@shared_task``), which is what keeps the circle from
forming; lesson 6 walks through it.
"""

from web import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
