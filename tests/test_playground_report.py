"""Everything read back from a sandbox is hostile: the report parser, the summary, the filter.

Pure functions fed hand-made input, as Flower's unit tests feed synthetic events.
"""

from __future__ import annotations

import json
import struct

import pytest

from playground import outcome, report, seccomp
from playground.settings import Limits


def line(**fields) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        line(k="unknown"),
        line(k="phase", phase="finished"),
        line(k="out", stream="site", text="x"),
        line(k="out", stream="view", text=1),
        line(k="out", stream="view", text="x" * 4001),
        line(k="view", exit="0", traceback=None),
        line(k="view", exit=True, traceback=None),
        line(k="done", reason="wall_clock"),
        line(k="event", type="worker-online", uuid="a", fields={}),
        line(k="event", type="task-sent", uuid="../../etc", fields={}),
        line(k="event", type="task-sent", uuid="a" * 65, fields={}),
        line(k="banner", text="b", tasks="tasks.add"),
        line(k="banner", text="b", tasks=["x"] * 201),
        b"[" * 100_000,
        line(k="out", stream="view", text="x" * (report.MAX_LINE + 1)),
    ],
)
def test_a_hostile_line_is_refused_whole(raw):
    assert report.parse_line(raw) is None


def test_unknown_fields_are_dropped_and_event_fields_clipped():
    parsed = report.parse_line(
        line(
            k="event",
            type="task-failed",
            uuid="abc-1",
            timestamp="yesterday",
            extra="dropped",
            fields={"traceback": "t" * 10_000, "pid": 1, "retries": True, "name": "tasks.x"},
        )
    )
    assert parsed == {
        "k": "event",
        "type": "task-failed",
        "uuid": "abc-1",
        "timestamp": None,
        "fields": {"traceback": "t" * 8000, "name": "tasks.x"},
    }


def test_a_line_past_the_limit_is_dropped_without_being_kept():
    reader = report.LineReader()
    assert reader.feed(b"x" * (report.MAX_LINE + 10)) == []
    assert reader.feed(b"more of it\nnext\n") == [b"next"]
    assert reader.dropped == 1


def summary(**limits) -> outcome.Summary:
    return outcome.Summary(run_id="r", learner="l", limits=Limits(**limits))


def test_the_summary_keeps_each_task_in_lifecycle_order():
    s = summary()
    for kind in ("task-started", "task-sent", "task-succeeded", "task-received"):
        s.apply({"k": "event", "type": kind, "uuid": "t1", "timestamp": 1.0, "fields": {}})
    assert s.tasks["t1"]["state"] == "succeeded"
    s.apply({"k": "view", "exit": 0, "traceback": None})
    assert s.end("done", None)["state"] == "finished"


def test_a_learners_retried_task_starts_over_as_the_sites_own_do():
    s = summary()
    states = []
    for kind in (
        "task-sent",
        "task-received",
        "task-started",
        "task-retried",
        "task-sent",
        "task-received",
        "task-started",
    ):
        s.apply({"k": "event", "type": kind, "uuid": "t1", "timestamp": 1.0, "fields": {}})
        states.append(s.tasks["t1"]["state"])
    # The re-send's own sent is late; the next delivery moves the task on again (lifecycle.py).
    assert states == ["sent", "received", "started", "retry", "retry", "received", "started"]


def test_output_past_a_streams_cap_is_not_kept():
    s = summary(output_kb=1)
    for _ in range(20):
        s.apply({"k": "out", "stream": "worker", "text": "x" * 100})
    assert sum(len(t) + 1 for t in s.output["worker"]) <= 1024
    assert s.over_output == "worker"
    ended = s.end(None, "output")
    assert ended["reason"] == "output"
    assert "The worker printed more than 1 KB" in ended["message"]


@pytest.mark.parametrize(
    ("traceback", "limit"),
    [
        ("MemoryError", "memory"),
        ("OSError: [Errno 24] Too many open files", "open_files"),
        ("BlockingIOError: [Errno 11] Resource temporarily unavailable", "processes"),
        ("OSError: [Errno 27] File too large", "file_size"),
        ("OSError: [Errno 28] No space left on device", "disk"),
    ],
)
def test_a_limit_is_named_from_the_error_it_caused(traceback, limit):
    s = summary()
    s.apply({"k": "view", "exit": 1, "traceback": traceback})
    assert s.end("view_error", None)["reason"] == limit


def test_a_worker_killed_by_sigxcpu_means_the_cpu_limit():
    s = summary(cpu_seconds=4)
    s.apply({"k": "worker_exit", "code": -24})
    ended = s.end("worker_error", None)
    assert (ended["state"], ended["reason"]) == ("stopped", "cpu")
    assert "4 s of CPU" in ended["message"]


def test_no_report_at_all_is_a_sandbox_error():
    assert summary().end(None, None)["reason"] == "sandbox_error"


def test_the_seccomp_filter_checks_the_architecture_first():
    program = seccomp.build_filter("x86_64")
    assert len(program) % 8 == 0
    code, jt, jf, k = struct.unpack("<HBBI", program[:8])
    assert (code, k) == (seccomp.LD_W_ABS, seccomp.OFF_ARCH)
    code, jt, jf, k = struct.unpack("<HBBI", program[8:16])
    assert (code, k) == (seccomp.JEQ_K, seccomp.AUDIT_ARCH_X86_64)
    last = struct.unpack("<HBBI", program[-8:])
    assert last[3] == seccomp.RET_KILL_PROCESS


def test_the_seccomp_filter_refuses_other_architectures():
    with pytest.raises(seccomp.UnsupportedArch):
        seccomp.build_filter("aarch64")


def test_a_limit_met_before_the_wall_clock_is_the_reason_given():
    s = summary()
    s.apply(
        {"k": "traceback", "text": "BlockingIOError: [Errno 11] Resource temporarily unavailable"}
    )
    ended = s.end(None, "wall_clock")
    assert ended["reason"] == "processes"
    assert [h["limit"] for h in ended["limits"]] == ["processes", "wall_clock"]
