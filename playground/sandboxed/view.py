"""Run the learner's view code once, as a Flask view's body would (inside ``app.py``'s app
context when there is one), and tell the collector which tasks it sent and how it ended.

    python -m playground.sandboxed.view CONTROL_FD
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback

from celery.signals import after_task_publish

from . import APP_DIR, VIEW_FILE, inputs
from .boot import learner_app


def _flask_context():
    """``app.py``'s app context: its Flask object, or what its ``create_app()`` returns."""
    if not os.path.exists(os.path.join(APP_DIR, "app.py")):
        return contextlib.nullcontext()
    import app as module  # the learner's app.py
    import flask

    flask_app = next((v for v in vars(module).values() if isinstance(v, flask.Flask)), None)
    if flask_app is None and callable(getattr(module, "create_app", None)):
        flask_app = module.create_app()
    if not isinstance(flask_app, flask.Flask):
        raise RuntimeError("app.py defines no Flask app (nor a create_app() that returns one)")
    return flask_app.app_context()


def main(control_fd: int) -> int:
    control = os.fdopen(control_fd, "w", buffering=1)

    def tell(**fields) -> None:
        control.write(json.dumps(fields) + "\n")

    @after_task_publish.connect(weak=False)
    def _sent(sender=None, headers=None, **_):
        # Only what this process sent: the run ends once each of these is final.
        if headers and headers.get("id"):
            tell(sent=headers["id"], name=sender)

    try:
        learner_app()
        namespace = {"__name__": "__view__", "lab_inputs": inputs.load()}
        # The view sees the names tasks.py defines, as a view module that imported them would.
        tasks = sys.modules.get("tasks")
        if tasks is not None:
            namespace.update({k: v for k, v in vars(tasks).items() if not k.startswith("__")})
        with open(VIEW_FILE, encoding="utf-8") as f:
            code = compile(f.read(), "view.py", "exec")
        with _flask_context():
            exec(code, namespace)
    except BaseException:  # the learner's code may raise anything, SystemExit included
        tell(traceback=traceback.format_exc())
        return 1
    finally:
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    import kombu.transport.redis  # noqa: F401  (warm: imported before the files exist)

    sys.stdin.readline()  # "go": the worker is ready
    sys.exit(main(int(sys.argv[1])))
