"""The learner's path in headless Chromium, interleaved with raw Celery in the same run.

A lesson page is opened in Debian's Chromium; inside it, one sample is what the page does for
a press (site/static/js/lab.js): ``fetch`` POST ``/api/experiments/lesson1.delay`` and wait for
that task's ``task-succeeded`` frame on a websocket to ``/ws``, timed with
``performance.now()`` in the page. Between samples, this process times ``add.delay(2, 3)
.get()`` (``raw_get``) and, in the same page, a websocket ping round trip (the browser's own
floor) and the POST alone.
"""

from __future__ import annotations

from playwright.sync_api import sync_playwright

from .latency import raw_get
from .stats import ratio, summary

CHROMIUM = "/usr/bin/chromium"
LESSON = "/lessons/what-is-a-task"
PAGES = 8

_SETUP = """
async () => {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + "/ws");
  window.__bench = {ws, waiting: new Map(), done: new Set()};
  await new Promise((ok) => ws.addEventListener("open", ok, {once: true}));
  ws.addEventListener("message", (e) => {
    const m = JSON.parse(e.data);
    const b = window.__bench;
    if (m.type === "pong" && b.pong) { b.pong(); b.pong = null; }
    if (m.type === "task" && m.state === "succeeded") {
      b.done.add(m.task_id);
      const resolve = b.waiting.get(m.task_id);
      if (resolve) resolve();
    }
  });
}
"""

_PRESS = """
async () => {
  const b = window.__bench;
  const t0 = performance.now();
  const res = await fetch("/api/experiments/lesson1.delay", {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({x: 2, y: 3})});
  const posted = performance.now() - t0;
  const body = await res.json();
  if (!res.ok) throw new Error(`the site refused the press: ${res.status} ${JSON.stringify(body)}`);
  const task_id = body.task_id;
  if (!b.done.has(task_id)) {
    await Promise.race([
      new Promise((ok) => b.waiting.set(task_id, ok)),
      new Promise((_, no) => setTimeout(() => no(new Error("no task-succeeded in 30 s")), 30000)),
    ]);
  }
  b.waiting.delete(task_id);
  return [performance.now() - t0, posted];
}
"""

_PING = """
async () => {
  const b = window.__bench;
  const t0 = performance.now();
  await new Promise((ok) => { b.pong = ok; b.ws.send(JSON.stringify({action: "ping"})); });
  return performance.now() - t0;
}
"""


def measure(base_url: str, app, iterations: int, warmup: int = 20) -> dict:
    samples: dict[str, list[float]] = {"page": [], "post": [], "ws_ping": [], "raw_get": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            # Presses rotate over several pages (each its own learner), so the per-learner rate
            # limit (20 a second) never applies.
            pages = []
            for _ in range(PAGES):
                page = browser.new_context().new_page()
                page.goto(base_url + LESSON)
                page.evaluate(_SETUP)
                pages.append(page)
            for i in range(warmup + iterations):
                page = pages[i % PAGES]
                took, posted = page.evaluate(_PRESS)
                ping = page.evaluate(_PING)
                raw = raw_get(app)
                if i >= warmup:
                    samples["page"].append(took / 1000)
                    samples["post"].append(posted / 1000)
                    samples["ws_ping"].append(ping / 1000)
                    samples["raw_get"].append(raw)
        finally:
            browser.close()
    result = {name: summary(values) for name, values in samples.items()}
    result["ratios"] = {
        "page_vs_raw_get_p50": ratio(result["page"]["p50_ms"], result["raw_get"]["p50_ms"]),
        "page_vs_raw_get_p99": ratio(result["page"]["p99_ms"], result["raw_get"]["p99_ms"]),
    }
    return result
