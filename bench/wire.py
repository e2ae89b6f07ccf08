"""``python -m bench.wire [--presses N]``: where a lesson page's ``.delay()`` press spends its time.

A diagnostic, not part of ``python -m bench``. It starts its own stack and Chromium with the
bench's lesson pages (bench/browser.py) and, while they press, reads the loopback interface
(an ``AF_PACKET`` socket: run it as root, or with CAP_NET_RAW) with the kernel's timestamps.
For each press it prints, in ms from the moment the press's frame reached the server's port:
when the server wrote each of its frames back to that page's connection (``wire``), and when
the page's JavaScript saw each message (``page``: lab.js's ``celerylab:message``, on the same
clock). A gap between the two is the browser's (its network stack, IPC and main thread);
a late ``wire`` is the server's. It also prints Chromium's CPU by process type (psutil).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import struct
import threading
import time

import psutil
from playwright.sync_api import sync_playwright

from tests.support import chromium
from tests.support.learners import Learner
from tests.support.stack import Stack

from . import browser
from .clients import plain_celery
from .latency import raw_get

ETH_P_ALL = 3
SO_TIMESTAMPNS = 35
PACKET_HOST = 0  # on lo each packet is seen twice; keep the copy that is received

# The page's own log: when lab.js handed each message to the document (epoch ms), and for the
# task-succeeded event, when the worker stamped it (epoch ms, the worker's clock: same machine).
_LOG = """
() => {
  const b = window.__bench;
  b.log = [];
  const now = () => performance.timeOrigin + performance.now();
  document.addEventListener("celerylab:message", (e) => {
    const m = e.detail;
    b.log.push([now(), m.type === "task" && m.state === "succeeded" ? m.timestamp * 1000 : 0]);
  });
}
"""
_PRESS = (
    "async () => { const b = window.__bench; b.log = [];"
    f" const took = (await ({browser._PRESS.strip()})())[0]; return [took, b.log]; }}"
)


class Sniffer(threading.Thread):
    """TCP segments with a payload to or from ``port`` on lo: (epoch s, src port, dst port)."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.segments: list[tuple[float, int, int]] = []
        self.running = True
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(ETH_P_ALL))
        self.sock.bind(("lo", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.settimeout(0.2)

    def run(self) -> None:
        while self.running:
            try:
                data, ancillary, _flags, address = self.sock.recvmsg(65536, 64)
            except TimeoutError:
                continue
            if address[2] != PACKET_HOST or not ancillary or data[23] != socket.IPPROTO_TCP:
                continue
            seconds, nanoseconds = struct.unpack("qq", ancillary[0][2][:16])
            ip = data[14:]
            ihl = (ip[0] & 15) * 4
            tcp = ip[ihl:]
            source, destination = struct.unpack("!HH", tcp[:4])
            payload = struct.unpack("!H", ip[2:4])[0] - ihl - (tcp[12] >> 4) * 4
            if payload > 0 and self.port in (source, destination):
                self.segments.append((seconds + nanoseconds / 1e9, source, destination))


def python_press(ws, ref: str) -> tuple[float, float]:
    """The same press from a plain websocket client: (ms until task-succeeded, ms until the
    worker stamped it), both from the moment it was sent."""
    message = {"action": "run", "experiment": "lesson1.delay", "params": {"x": 2, "y": 3}}
    sent = time.time()
    ws.send(json.dumps({**message, "ref": ref}))
    task_id, done = None, {}
    while task_id not in done:
        m = json.loads(ws.recv())
        if m.get("ref") == ref:
            if m["type"] != "sent":
                raise RuntimeError(f"the site refused the press: {m}")
            task_id = m["task_id"]
        elif m.get("type") == "task" and m["state"] == "succeeded":
            done[m["task_id"]] = m["timestamp"]
    return (time.time() - sent) * 1000, (done[task_id] - sent) * 1000


def chromium_cpu() -> dict[str, float]:
    """CPU seconds so far of this process's Chromium children, by ``--type``."""
    totals: dict[str, float] = {}
    for child in psutil.Process().children(recursive=True):
        try:
            if "chrom" not in child.name():
                continue
            kind = next((a[7:] for a in child.cmdline() if a.startswith("--type=")), "browser")
            times = child.cpu_times()
            totals[kind] = totals.get(kind, 0.0) + times.user + times.system
        except psutil.Error:
            pass
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.wire", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--presses", type=int, default=80, help="presses measured (80)")
    parser.add_argument("--show", type=int, default=8, help="presses printed one by one (8)")
    args = parser.parse_args(argv)
    stack = Stack()
    try:
        stack.start_redis()
        stack.start_worker("bench", concurrency=64)
        _, base = stack.start_web(threads=512)
        app = plain_celery(stack.url)
        learners = [Learner(base) for _ in range(4)]  # four, so the rate limit never applies
        sockets = [learner.socket() for learner in learners]
        sniffer = Sniffer(int(base.rsplit(":", 1)[1]))
        sniffer.start()
        rows = []
        with sync_playwright() as pw:
            chrome = pw.chromium.launch(**chromium.LAUNCH)
            pages = []
            for _ in range(browser.PAGES):
                page = chrome.new_context().new_page()
                page.goto(base + browser.LESSON)
                page.evaluate(browser._SETUP)
                page.evaluate(_LOG)
                pages.append(page)
            warmup = 2 * browser.PAGES
            cpu_before, started = None, None
            for i in range(warmup + args.presses):
                if i == warmup:
                    cpu_before, started = chromium_cpu(), time.monotonic()
                mark = len(sniffer.segments)
                took, seen = pages[i % browser.PAGES].evaluate(_PRESS)
                raw = raw_get(app)
                plain = python_press(sockets[i % len(sockets)], f"wire-{i}")
                time.sleep(0.002)  # the sniffer's last segments
                if i < warmup:
                    continue
                segments = sniffer.segments[mark:]
                press = next((s for s in segments if s[2] == sniffer.port), None)
                if press is None:
                    continue
                wire = [(s[0] - press[0]) * 1000 for s in segments if s[1:] == press[2:0:-1]]
                page_ms = [t - press[0] * 1000 for t, _ in seen]
                stamped = max(stamp for _, stamp in seen) - press[0] * 1000
                rows.append((wire, page_ms, took, raw * 1000, stamped, *plain))
            wall = time.monotonic() - started
            cpu = {k: (v - cpu_before.get(k, 0.0)) / wall for k, v in chromium_cpu().items()}
            chrome.close()
        sniffer.running = False
        for learner in learners:
            learner.close()
    finally:
        stack.stop()
        shutil.rmtree(stack.dir, ignore_errors=True)
    for wire, page_ms, took, *_ in rows[: args.show]:
        print("wire ", " ".join(f"{t:6.1f}" for t in wire))
        print("page ", " ".join(f"{t:6.1f}" for t in page_ms), f"  (press {took:.1f})")
    # How long each message at least waited in the browser: from the latest segment the server
    # wrote before the page saw it (the message was in it or an earlier one) to the page.
    lags = [
        seen - max((w for w in wire if w <= seen), default=seen)
        for wire, page_ms, *_ in rows
        for seen in page_ms
    ]
    p50 = {
        name: statistics.median(r[k] for r in rows)
        for k, name in enumerate(["", "", "press", "raw", "stamped", "plain", "plain_stamped"])
        if name
    }
    print(f"p50 over {len(rows)} presses, ms:")
    print(
        f"  page press {p50['press']:.1f} (worker stamped task-succeeded at {p50['stamped']:.1f})"
    )
    print(f"  python press {p50['plain']:.1f} (stamped at {p50['plain_stamped']:.1f})")
    print(f"  raw get {p50['raw']:.1f}")
    print(f"  each page message waited in the browser at least {statistics.median(lags):.1f}")
    print("Chromium CPU (cores) while pressing:", {k: round(v, 3) for k, v in sorted(cpu.items())})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
