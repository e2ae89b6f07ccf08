"""Lesson 6: which tasks the running worker knows, and what it does with a name it does not."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from web.live import workers

from .base import ChoiceParam, Experiment

# Long enough for a busy worker on a shared 2-core machine to answer the broadcast.
INSPECT_TIMEOUT = 1.0

# Every name a learner may send, and what it stands for. Learners pick from this menu; they
# never type a task name, so nothing they send can name one of Celery's own tasks.
NAMES = {
    "sandbox_tasks.basics.add": "the real name of add, as the worker registered it",
    "sandbox_tasks.basics.ad": "a one-letter typo of the real name",
    "basics.add": "the name add would get if some process imported its module as plain `basics`",
    "sandbox_tasks.reports.build_report": (
        "a task in a module the worker never imported (no such module is listed in its include)"
    ),
}


@dataclass(frozen=True)
class TaskByName:
    """A task known only by name, sent the way ``celery.send_task(name, ...)`` sends it."""

    name: str

    def apply_async(self, args=(), kwargs=None, **options):
        celery = current_app.extensions["celery"]
        return celery.send_task(self.name, args=args, kwargs=kwargs, **options)


def group_by_module(names: list[str]) -> dict[str, list[str]]:
    """Group dotted task names by the module part: {"sandbox_tasks.basics": ["add"]}."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name in sorted(names):
        module, _, function = name.rpartition(".")
        groups[module or "(no module)"].append(function)
    return dict(groups)


def own_task_names() -> set[str]:
    """Task names this web process's Celery app has registered (Celery's own left out)."""
    celery = current_app.extensions["celery"]
    return {name for name in celery.tasks if not name.startswith("celery.")}


def module_table(groups: dict[str, list[str]]) -> str:
    """One line per module: its dotted path, then the task functions it defines."""
    width = max(len(module) for module in groups)
    return "\n".join(f"{module:<{width}}  {', '.join(fns)}" for module, fns in groups.items())


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def list_registered(params: dict, lab) -> dict:
    celery = current_app.extensions["celery"]
    try:
        answers = workers.registered(celery, timeout=INSPECT_TIMEOUT)
    except workers.WorkersUnavailable as exc:
        return {
            "show": [{"label": "error", "value": str(exc)}],
            "explain": "The broker did not answer, so no worker could be asked anything.",
        }
    if not answers:
        return {
            "show": [{"label": "replies", "value": f"none within {INSPECT_TIMEOUT:g} s"}],
            "explain": "No worker answered the broadcast: none is running, or all are too busy "
            "to reply. With no worker, nothing that runs tasks has registered anything.",
        }
    mine = own_task_names()
    show = []
    for worker, names in sorted(answers.items()):
        table = module_table(group_by_module(names))
        show.append(
            {"label": f"registered in {worker}, by module", "value": table, "format": "code"}
        )
        missing = sorted(mine - set(names))
        show.append(
            {
                "label": f"known to this web process but not to {worker}",
                "value": ", ".join(missing) or "none: both sides know the same tasks",
            }
        )
    modules = {m for names in answers.values() for m in group_by_module(names)}
    return {
        "workers": answers,
        "show": show,
        "explain": (
            f"{_plural(len(answers), 'worker')} answered an inspect().registered() broadcast. "
            f"The tasks come from {_plural(len(modules), 'module')}, none of them the Flask "
            "app's own file: a task can live in any module, as long as the worker imports it "
            "when it starts. Each name is the module's dotted path plus the function's name. "
            f"(The page waited about {INSPECT_TIMEOUT:g} s because a broadcast cannot know how "
            "many workers will reply, so it listens for the whole timeout.)"
        ),
    }


def send_by_name(params: dict, lab) -> dict:
    name = params["name"]
    task_id = lab.send(TaskByName(name), args=(2, 3))
    known_here = name in own_task_names()
    return {
        "task_id": task_id,
        "show": [
            {
                "label": "sent",
                "value": f"celery.send_task({name!r}, args=(2, 3))",
                "format": "code",
            },
            {"label": "what this name is", "value": NAMES[name]},
            {"label": "registered in this web process", "value": "yes" if known_here else "no"},
        ],
        "explain": (
            "send_task publishes a message that carries only the task's name: the web process "
            "checks nothing, so the message is queued whatever the name. The worker looks the "
            "name up in its own registry. If it is there, the card runs to succeeded. If not, "
            'the worker logs "Received unregistered task of type ...", discards the message '
            "without running anything, stores a NotRegistered failure in the result backend "
            "and sends task-failed: the card goes from sent to failed with no received or "
            "started event."
        ),
    }


# Four tiny projects, fixed here on the server, that differ only in who imports whom. The
# experiment writes one to a fresh directory and lets a real Python import its app module, as
# `celery -A app worker` does first.
def _app_py(imports: str, tail: str = "") -> str:
    """An app.py with a signup view that sends a task; only its imports and tail vary."""
    return (
        f"{imports}\n"
        "flask_app = Flask(__name__)\n\n\n"
        '@flask_app.post("/signup")\n'
        "def signup():\n"
        '    send_email.delay("ada@example.com")\n'
        '    return "queued"\n'
        f"{tail}"
    )


def _tasks_py(imports: str, decorator: str) -> str:
    return f'{imports}\n\n\n{decorator}\ndef send_email(to):\n    return f"sent to {{to}}"\n'


_CIRCLE_TASKS = _tasks_py("from app import celery", "@celery.task")
_APP_IMPORTS_TASKS_FIRST = _app_py(
    "from celery import Celery\nfrom flask import Flask\n\nfrom tasks import send_email\n\n"
    "celery = Celery(__name__)"
)
LAYOUTS = {
    "tasks import the app": {"app.py": _APP_IMPORTS_TASKS_FIRST, "tasks.py": _CIRCLE_TASKS},
    "same, import moved to the bottom": {
        "app.py": _app_py(
            "from celery import Celery\nfrom flask import Flask\n\ncelery = Celery(__name__)",
            "\n\nfrom tasks import send_email  # down here to dodge the circle\n",
        ),
        "tasks.py": _CIRCLE_TASKS,
    },
    "celery_app.py in the middle": {
        "celery_app.py": "from celery import Celery\n\ncelery = Celery(__name__)\n",
        "tasks.py": _tasks_py("from celery_app import celery", "@celery.task"),
        "app.py": _app_py(
            "from flask import Flask\n\n"
            "from celery_app import celery\nfrom tasks import send_email\n"
        ),
    },
    "@shared_task (this site's way)": {
        "app.py": _APP_IMPORTS_TASKS_FIRST,
        "tasks.py": _tasks_py("from celery import shared_task", "@shared_task"),
    },
}
IMPORT_APP = (
    "import app; "
    "print('imported app; its Celery app has tasks:', "
    "sorted(n for n in app.celery.tasks if not n.startswith('celery.')))"
)
LAYOUT_TIMEOUT = 20.0
# Each run starts a Python process (~0.15 s of CPU): a class pressing at once queues for a few
# slots per web process instead of starting a hundred interpreters on two cores.
LAYOUT_SLOTS = 2


def _layout_slots() -> threading.BoundedSemaphore:
    return current_app.extensions.setdefault(
        "lesson6_layout_slots", threading.BoundedSemaphore(LAYOUT_SLOTS)
    )


def run_layout(files: dict[str, str]) -> tuple[int, str]:
    """Write ``files`` to a fresh directory, import ``app`` there in a new Python, and report."""
    with tempfile.TemporaryDirectory(prefix="celerylab-layout-") as directory:
        for name, text in files.items():
            Path(directory, name).write_text(text)
        # Only what Python needs: the site's own settings must not leak into the toy project.
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"}
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_APP],
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=LAYOUT_TIMEOUT,
        )
        output = (done.stdout + done.stderr).replace(directory + os.sep, "")
    lines = output.strip().splitlines()
    return done.returncode, "\n".join(lines[-7:])


def try_layout(params: dict, lab) -> dict:
    files = LAYOUTS[params["layout"]]
    shown = [{"label": name, "value": text, "format": "code"} for name, text in files.items()]
    slots = _layout_slots()
    if not slots.acquire(timeout=LAYOUT_TIMEOUT):
        return {
            "show": shown,
            "explain": "Too many of these are running right now: the "
            "machine is busy. Try again in a moment.",
        }
    try:
        returncode, output = run_layout(files)
    except subprocess.TimeoutExpired:
        return {
            "show": shown,
            "explain": f"Python did not finish within {LAYOUT_TIMEOUT:g} s: "
            "the machine is too busy. Try again in a moment.",
        }
    finally:
        slots.release()
    shown.append(
        {
            "label": f"python -c 'import app' exited with {returncode}",
            "value": output,
            "format": "code",
        }
    )
    if returncode != 0:
        explain = (
            'Importing app.py ran "from tasks import send_email" before app.py had created '
            "celery; tasks.py then asked the half-built app module for celery, and Python "
            'stopped with the circular-import error above. A worker started with "celery -A '
            'app worker" dies the same way, before it can run a single task.'
        )
    elif "moved to the bottom" in params["layout"]:
        explain = (
            "It imports, but only because of line order: celery exists before the bottom "
            "import runs. Move that import to the top (an import sorter will) and the same "
            "error comes back. The circle is still there, just hidden."
        )
    else:
        explain = (
            "It imports cleanly, and the worker's Celery app has the task: every import "
            "points one way, so no module ever asks for a name from a module that is still "
            "half-built."
        )
    return {"returncode": returncode, "show": shown, "explain": explain}


EXPERIMENTS = (
    Experiment(
        "lesson6.registered",
        "celery.control.inspect().registered()",
        list_registered,
        mode="direct",
        help="Asks every running worker, over the broker, which task names it has registered.",
    ),
    Experiment(
        "lesson6.unknown",
        "celery.send_task(name, args=(2, 3))",
        send_by_name,
        params=(ChoiceParam("name", "Task name", tuple(NAMES), "sandbox_tasks.basics.ad"),),
        help="Sends a task by name only; one of these names is real.",
    ),
    Experiment(
        "lesson6.layout",
        "python -c 'import app'",
        try_layout,
        params=(ChoiceParam("layout", "Layout", tuple(LAYOUTS), "tasks import the app"),),
        mode="direct",
        help="Writes a tiny two- or three-file project and lets a real Python import it.",
    ),
)
