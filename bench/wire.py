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
import shutil
import socket
import statistics
import struct
import threading
import time

import psutil
from playwright.sync_api import sync_playwright

from tests.support import chromium
from tests.support.stack import Stack

from . import browser
from .clients import plain_celery
from .latency import raw_get

ETH_P_ALL = 3
SO_TIMESTAMPNS = 35
PACKET_HOST = 0  # on lo each packet is seen twice; keep the copy that is received

# The page's own log: when lab.js handed each message to the document (epoch ms).
_LOG = """
() => {
  const b = window.__bench;
  b.log = [];
  const now = () => performance.timeOrigin + performance.now();
  document.addEventListener("celerylab:message", () => b.log.push(now()));
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
                time.sleep(0.002)  # the sniffer's last segments
                if i < warmup:
                    continue
                segments = sniffer.segments[mark:]
                press = next((s for s in segments if s[2] == sniffer.port), None)
                if press is None:
                    continue
                wire = [(s[0] - press[0]) * 1000 for s in segments if s[1:] == press[2:0:-1]]
                page_ms = [t - press[0] * 1000 for t in seen]
                rows.append((wire, page_ms, took, raw * 1000))
            wall = time.monotonic() - started
            cpu = {k: (v - cpu_before.get(k, 0.0)) / wall for k, v in chromium_cpu().items()}
            chrome.close()
        sniffer.running = False
    finally:
        stack.stop()
        shutil.rmtree(stack.dir, ignore_errors=True)
    for wire, page_ms, took, _raw in rows[: args.show]:
        print("wire ", " ".join(f"{t:6.1f}" for t in wire))
        print("page ", " ".join(f"{t:6.1f}" for t in page_ms), f"  (press {took:.1f})")
    last_wire = statistics.median(r[0][-1] for r in rows if r[0])
    last_page = statistics.median(r[1][-1] for r in rows if r[1])
    print(
        f"p50 over {len(rows)} presses: server wrote its last frame at {last_wire:.1f} ms, "
        f"the page saw its last message at {last_page:.1f} ms; "
        f"press {statistics.median(r[2] for r in rows):.1f} ms, "
        f"raw get {statistics.median(r[3] for r in rows):.1f} ms"
    )
    print("Chromium CPU (cores) while pressing:", {k: round(v, 3) for k, v in sorted(cpu.items())})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
