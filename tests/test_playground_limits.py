"""Each limit stops a run with a message that says which limit, and the site is unharmed.

The limits are shrunk by tests/support/playground_stack.py and here (2 s CPU, 48 processes, 4 MB of
files, 1 MB a file, 64 open files, 8 KB of output a stream); the wall clock is tested in
test_playground_queue.py, where it is short.
"""

from __future__ import annotations

from tests.support.playground_stack import coder_fixture, site_fixture

# CPU time is what an endless loop must use up: at nice 0 and with a wall clock far off,
# a loaded machine only slows this test, it cannot make the wall clock win.
site = site_fixture(
    CELERY_LAB_PLAYGROUND_CPU_SECONDS=2,
    CELERY_LAB_PLAYGROUND_NICE=0,
    CELERY_LAB_PLAYGROUND_WALL_SECONDS=40,
)
coder = coder_fixture()


HOG = """\
from celery import shared_task


@shared_task
def hog_memory():
    return len(bytearray(2 * 1024 ** 3))


@shared_task
def hog_shared_memory():
    import mmap

    return len(mmap.mmap(-1, 2 * 1024 ** 3))


@shared_task
def spin():
    while True:
        pass
"""


def stopped_by(summary: dict, limit: str) -> str:
    assert summary["state"] == "stopped", summary
    assert summary["reason"] == limit, summary
    ended = next(m for m in summary["messages"] if m["kind"] == "ended")
    assert ended["reason"] == limit
    assert ended["message"] == summary["message"]
    return summary["message"]


def test_a_2_gb_allocation_is_refused(coder):
    summary = coder.finished("hog_memory.delay()\n", files={"tasks.py": HOG})
    message = stopped_by(summary, "memory")
    assert "256 MB" in message
    (task,) = summary["tasks"]
    assert task["state"] == "failed"
    assert "MemoryError" in task["exception"]


def test_a_2_gb_shared_mapping_is_refused_too(coder):
    summary = coder.finished("hog_shared_memory.delay()\n", files={"tasks.py": HOG})
    assert "256 MB" in stopped_by(summary, "memory")
    (task,) = summary["tasks"]
    assert "Cannot allocate memory" in task["exception"]


def test_an_endless_loop_is_stopped_when_its_cpu_time_is_used_up(coder):
    summary = coder.finished("spin.delay()\n", files={"tasks.py": HOG})
    message = stopped_by(summary, "cpu")
    assert "2 s of CPU" in message
    (task,) = summary["tasks"]
    assert task["state"] == "started"  # its worker was killed mid-task


FORK_BOMB = """\
import os, time

children = 0
while True:
    if os.fork() == 0:
        time.sleep(60)  # each child keeps its place: the bomb only grows
        os._exit(0)
    children += 1
    print(children)
"""


def test_a_fork_bomb_is_contained(coder):
    summary = coder.finished(FORK_BOMB)
    message = stopped_by(summary, "processes")
    assert "48 processes" in message
    assert "BlockingIOError: [Errno 11]" in summary["view"]["traceback"]
    # The run's worker, Redis and collector hold some of the 48 (threads count too).
    assert 10 < len(summary["output"]["view"]) < 48


def test_one_file_cannot_grow_past_its_limit(coder):
    view = "with open('/lab/big', 'wb') as f:\n    f.write(b'x' * (2 * 1024 * 1024))\n"
    summary = coder.finished(view)
    assert "1 MB" in stopped_by(summary, "file_size")
    assert "File too large" in summary["view"]["traceback"]


def test_the_run_directory_cannot_grow_past_its_size(coder):
    view = (
        "for n in range(8):\n"
        "    with open(f'/tmp/part{n}', 'wb') as f:\n"
        "        f.write(b'x' * (1024 * 1024 - 4096))\n"
    )
    summary = coder.finished(view)
    assert "4 MB directory" in stopped_by(summary, "disk")
    assert "No space left on device" in summary["view"]["traceback"]


def test_open_files_are_limited(coder):
    summary = coder.finished("kept = [open('/lab/app/tasks.py') for _ in range(200)]\n")
    assert "64 files" in stopped_by(summary, "open_files")


def test_output_past_its_cap_stops_the_run(coder):
    summary = coder.finished("for n in range(5000):\n    print('line', n)\n")
    assert "8 KB" in stopped_by(summary, "output")
    assert len("\n".join(summary["output"]["view"])) <= 8 * 1024
