"""The worker's tracebacks copy each code object once, and read exactly as billiard's own."""

from __future__ import annotations

import sys

import pytest
from billiard import einfo

from worker import tracebacks


class _Refused(Exception):
    pass


def _deep(n: int):
    if n == 0:
        raise _Refused("the service said no")
    _deep(n - 1)


def _exception_info() -> einfo.ExceptionInfo:
    try:
        _deep(3)
    except _Refused:
        return einfo.ExceptionInfo(sys.exc_info())
    raise AssertionError("did not raise")


@pytest.fixture
def counted(monkeypatch):
    """billiard's code copy, counting how often it is made; billiard restored afterwards."""
    made = []

    class Counting(einfo._Code):
        def __init__(self, code):
            made.append(code)
            super().__init__(code)

    monkeypatch.setattr(einfo, "_Code", Counting)
    monkeypatch.setattr(einfo._Frame, "Code", Counting)  # billiard's own: a copy per frame
    monkeypatch.setattr(tracebacks, "_copies", type(tracebacks._copies)())
    return made


def test_billiard_alone_copies_a_code_object_for_every_traceback(counted):
    for _ in range(5):
        _exception_info()
    assert counted.count(_deep.__code__) == 5 * 4  # four frames of _deep in each


def test_installed_each_code_object_is_copied_once_however_many_tracebacks(counted):
    before = _exception_info().traceback
    tracebacks.install()
    infos = [_exception_info() for _ in range(5)]
    assert counted.count(_deep.__code__) == 4 + 1  # four from the first, one after install
    assert infos[0].tb.tb_next.tb_frame.f_code is infos[4].tb.tb_next.tb_frame.f_code
    # The text a learner sees in a failure or retry event is the same, line for line.
    assert [info.traceback for info in infos] == [before] * 5
    assert "_deep(n - 1)" in before and "the service said no" in before
