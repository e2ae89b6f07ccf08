"""Cheaper tracebacks for retries: billiard copies each code object once, not once per retry.

Every retry (and every failure) makes Celery build billiard's ``ExceptionInfo``, a picklable
copy of the traceback, and in the worker that happens about twice per retry. On Python 3.11
the copy of each frame's code object lists all its instruction positions: Celery's own
``trace_task`` has 2,341, about 0.5 ms of CPU per copy on this kind of machine, so the 300
retrying tasks of a class's opening burst cost the worker as much as 1,200 fast tasks
(bench/README.md, "Where the time goes, continued").

A code object never changes, and billiard's copy of it (``_Code``) is only ever read, so
:func:`install` makes billiard keep one copy per code object and hand it to every traceback
that passes through that code. Tracebacks read the same, line for line. The copies are held
by weak reference, so a code object that goes away (a reloaded module) takes its copy along.
"""

from __future__ import annotations

import threading
import weakref

from billiard import einfo

_copies: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()  # the pool's threads build tracebacks at once


def shared_code_copy(code):
    """billiard's copy of ``code``, made the first time and shared after."""
    copy = _copies.get(code)
    if copy is None:
        copy = einfo._Code(code)
        with _lock:
            copy = _copies.setdefault(code, copy)
    return copy


def install() -> None:
    """Make billiard's tracebacks share their code copies (idempotent; the worker calls it)."""
    einfo._Frame.Code = staticmethod(shared_code_copy)
