"""The ``argsrepr`` and ``kwargsrepr`` of a press's task, made cheaply where that is exact.

Celery puts a repr of every task's arguments in its message (the ``task-received`` event and
lesson 4 show them), made with ``celery.utils.saferepr``: a careful pure-Python printer that
cuts long values and deep nesting. It was ~20 % of a ``.delay()`` in the web (130 of 670 µs,
here, for ``add(2, 3)``). For numbers, booleans, None and short plain words (a keyword
argument's name, a choice) in shallow tuples, lists and dicts, which is what nearly every
button sends, ``repr`` writes the very same text, at a fraction of the cost. Anything else
(other strings, whose quotes and escapes saferepr writes its own way, deeper nesting it
elides, text past its size limit) is left to Celery: ``None`` means "let Celery do
it", so what a learner sees is always what Celery itself would have written.
"""

from __future__ import annotations

import re
from typing import Any

_SCALARS = (bool, int, float, type(None))
# Strings whose repr is the same in both: no quotes, backslashes or anything escaped.
_WORD = re.compile(r"[A-Za-z0-9_ .:+-]{0,100}")
# saferepr elides containers nested deeper than the app's task_repr_maxlevels (3 by default):
# the arguments' own tuple or dict, and one level inside it, are always within that.
_DEPTH = 2


def _scalar(value: Any) -> bool:
    kind = type(value)
    return kind in _SCALARS or (kind is str and _WORD.fullmatch(value) is not None)


def _plain(value: Any, depth: int) -> bool:
    if _scalar(value):
        return True
    if depth == 0 or type(value) not in (tuple, list, dict):
        return False
    if type(value) is dict:
        return all(_scalar(k) and _plain(v, depth - 1) for k, v in value.items())
    return all(_plain(item, depth - 1) for item in value)


def plain_repr(value: Any, maxsize: int) -> str | None:
    """``repr(value)`` if it is exactly what saferepr would write, else None."""
    if not _plain(value, _DEPTH):
        return None
    text = repr(value)
    return text if len(text) <= maxsize else None


def repr_options(app, args: Any, kwargs: Any) -> dict:
    """``argsrepr``/``kwargsrepr`` options for ``apply_async``: only those made exactly here."""
    options = {}
    argsrepr = plain_repr(args, app.amqp.argsrepr_maxsize)
    if argsrepr is not None:
        options["argsrepr"] = argsrepr
    kwargsrepr = plain_repr(kwargs, app.amqp.kwargsrepr_maxsize)
    if kwargsrepr is not None:
        options["kwargsrepr"] = kwargsrepr
    return options
