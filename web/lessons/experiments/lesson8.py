"""Lesson 8: chain, group and chord, built from a small form and run on the real worker.

The learner picks a number of steps, their durations (from a fixed list) and, if they like, one
step that fails. The server builds the canvas from those choices; the browser never sends code.
The outcome carries the canvas's shape (nodes, edges and each node's task id) so the page can
draw it and light each node as that task's events arrive.
"""

from __future__ import annotations

from celery import chain, chord, group

from sandbox_tasks.workflows import add_up, step

from .base import ChoiceParam, Experiment, ExperimentError, IntParam
from .canvas import send_canvas

# Seconds per step ("1-2-3-4": 1 s, then 2 s, ...); a canvas uses the first ``steps`` of them.
DURATIONS = {
    "1-1-1-1": (1, 1, 1, 1),
    "1-2-3-4": (1, 2, 3, 4),
    "3-1-2-1": (3, 1, 2, 1),
    "2-2-2-2": (2, 2, 2, 2),
}
NO_FAILURE = "none"
FAIL_CHOICES = (NO_FAILURE, "step 1", "step 2", "step 3", "step 4")


def _plan(params: dict) -> list[dict]:
    """One entry per step: what it adds, how long it takes, whether it fails."""
    steps = params["steps"]
    seconds = DURATIONS[params["durations"]][:steps]
    failing = 0 if params["fail"] == NO_FAILURE else int(params["fail"].split()[1])
    if failing > steps:
        raise ExperimentError(
            f"There is no step {failing} in a canvas of {steps} steps: pick a step from 1 to "
            f"{steps}, or none.",
            "fail",
        )
    return [{"n": n, "seconds": s, "fail": n == failing} for n, s in enumerate(seconds, start=1)]


def _signature(plan_step: dict, chained: bool, first: bool):
    """``step.s(...)`` for one step, its id frozen now so it can be routed before sending."""
    n, seconds = plan_step["n"], plan_step["seconds"]
    options = {"fail": True} if plan_step["fail"] else {}
    # In a chain, every step after the first gets the previous result as its first argument.
    args = (n, seconds) if chained and not first else (0, n, seconds)
    sig = step.s(*args, **options)
    sig.freeze()
    fail = ", fail=True" if plan_step["fail"] else ""
    shown = ", ".join(str(a) for a in args)
    return sig, f"step.s({shown}{fail})"


def _node(key: str, sig, label: str, column: int, row: int, role: str = "step") -> dict:
    return {
        "key": key,
        "task_id": sig.id,
        "label": label,
        "column": column,
        "row": row,
        "role": role,
    }


def build(shape: str, plan: list[dict]):
    """Return (canvas, nodes, edges, the code that builds it) for ``shape``."""
    chained = shape == "chain"
    parts = [_signature(p, chained, i == 0) for i, p in enumerate(plan)]
    sigs = [sig for sig, _ in parts]
    codes = [code for _, code in parts]
    if chained:
        nodes = [
            _node(f"s{i + 1}", sig, code, column=i, row=0) for i, (sig, code) in enumerate(parts)
        ]
        edges = [[f"s{i}", f"s{i + 1}"] for i in range(1, len(parts))]
        return chain(*sigs), nodes, edges, "chain(\n    " + ",\n    ".join(codes) + ",\n)"
    nodes = [_node(f"s{i + 1}", sig, code, column=0, row=i) for i, (sig, code) in enumerate(parts)]
    header = "group(\n    " + ",\n    ".join(codes) + ",\n)"
    if shape == "group":
        return group(*sigs), nodes, [], header
    body = add_up.s()
    body.freeze()
    middle = (len(parts) - 1) / 2
    nodes.append(_node("body", body, "add_up.s()", column=1, row=middle, role="body"))
    edges = [[node["key"], "body"] for node in nodes[:-1]]
    code = "chord(\n    [" + ", ".join(codes) + "],\n    add_up.s(),\n)"
    return chord(sigs, body), nodes, edges, code


def _explain(shape: str, plan: list[dict]) -> str:
    failing = next((p["n"] for p in plan if p["fail"]), None)
    total = sum(p["seconds"] for p in plan)
    longest = max(p["seconds"] for p in plan)
    if shape == "chain":
        text = (
            f"A chain runs one step at a time: each is sent by the worker only when the one "
            f"before it has succeeded, with that result as its first argument. Expect about "
            f"{total} s in all."
        )
        if failing and failing < len(plan):
            text += (
                f" Step {failing} raises, so the steps after it are never sent: they never "
                "run, and the result backend marks them failed with step "
                f"{failing}'s error."
            )
        elif failing:
            text += f" Step {failing}, the last, raises: the chain's result is its error."
        return text
    if shape == "group":
        text = (
            f"A group sends every step at once; free pool threads run them side by side, so "
            f"the whole group takes about {longest} s, its longest step. The group's result "
            "is the list of their results, in the order you wrote them."
        )
        if failing:
            text += f" Step {failing} fails on its own; the others are not affected."
        return text
    text = (
        "A chord is a group (the header) plus a body that the worker sends once every header "
        "task has finished, with the list of their results. The site's Redis result backend "
        "counts the finished header tasks; without a result backend a chord cannot work."
    )
    if failing:
        text += (
            f" Step {failing} fails, so the body is never sent: once the last header task is "
            "done, the backend stores a ChordError as the body's result instead."
        )
    return text


def _run(shape: str):
    def run(params: dict, lab) -> dict:
        plan = _plan(params)
        canvas, nodes, edges, code = build(shape, plan)
        names = {"step": step.name, "body": add_up.name}
        tasks = [(n["task_id"], names[n["role"]]) for n in nodes]
        # The canvas holds its admission slot until the task whose result is its result ends.
        send_canvas(lab, canvas, tasks, holder=nodes[-1]["task_id"])
        return {
            # The card the page shows first: the task whose result is the canvas's result.
            "task_id": nodes[-1]["task_id"],
            "canvas": {"shape": shape, "nodes": nodes, "edges": edges},
            "show": [{"label": "the canvas the server built", "value": code, "format": "code"}],
            "explain": _explain(shape, plan),
        }

    return run


def _params(steps_default: int) -> tuple:
    return (
        IntParam("steps", "Steps", minimum=2, maximum=4, default=steps_default),
        ChoiceParam("durations", "Seconds per step", tuple(DURATIONS), "1-2-3-4"),
        ChoiceParam("fail", "Failing step", FAIL_CHOICES, NO_FAILURE),
    )


EXPERIMENTS = (
    Experiment(
        "lesson8.chain",
        "chain(…).apply_async()",
        _run("chain"),
        params=_params(3),
        help="Each step adds its number to the previous step's result.",
    ),
    Experiment(
        "lesson8.group",
        "group(…).apply_async()",
        _run("group"),
        params=_params(3),
        help="Every step starts from 0 and adds its own number.",
    ),
    Experiment(
        "lesson8.chord",
        "chord(…)(add_up.s())",
        _run("chord"),
        params=_params(3),
        help="The header's results, as one list, become the body's argument.",
    ),
)
