"""The learner's path in headless Chromium, interleaved with raw Celery in the same run.

A lesson page is opened in Debian's Chromium; inside it, one sample is what the page does for a
``.delay()`` press (site/static/js/lab.js): a ``run`` action with a ``ref`` on the page's own
websocket (lab.js's ``sendWs``, imported from the module the page loaded: an ES module is one
instance per URL; lab.js draws its cards as usual), until that task's ``task-succeeded`` frame
arrives on it, timed with ``performance.now()`` in the page; and, in the same sample, until
the learner can see it (``drawn``: its card in the document showing "succeeded", then the
next animation frame, begun once the frame with that change was painted). Between samples,
this process times ``add.delay(2, 3).get()`` (``raw_get``) and, in the same page, a websocket
ping round trip (the browser's own floor), the reply to the press alone (``sent``, with its
task id), and a direct call's HTTP POST (``post``: ``lesson1.direct``, add(2, 3) in the web
process, reply alone; direct calls are the experiments whose transport is HTTP,
web/live/runner.py).
"""

from __future__ import annotations

from playwright.sync_api import sync_playwright

from tests.support import chromium

from .latency import raw_get
from .stats import ratio, summary

LESSON = "/lessons/what-is-a-task"
PAGES = 8

_SETUP = """
async () => {
  // The page's own socket (site/static/js/lab.js), not a second one: lab.js hands every
  // message it receives to the document as a celerylab:message event.
  const live = () => document.getElementById("conn")?.dataset.ok === "yes";
  while (!live()) await new Promise((ok) => setTimeout(ok, 20));
  const lab = await import("/static/js/lab.js");
  const ws = {send: (text) => lab.sendWs(JSON.parse(text))};
  window.__bench = {ws, lab, waiting: new Map(), done: new Set(), replies: new Map(), n: 0};
  document.addEventListener("celerylab:message", (e) => {
    const m = e.detail;
    const b = window.__bench;
    if (m.type === "pong" && b.pong) { b.pong(); b.pong = null; }
    if ((m.type === "sent" || m.type === "error") && b.replies.has(m.ref)) {
      b.replies.get(m.ref)(m);
      b.replies.delete(m.ref);
    }
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
  const ref = `bench-${++b.n}`;
  const t0 = performance.now();
  const reply = new Promise((ok) => b.replies.set(ref, ok));
  const press = {action: "run", experiment: "lesson1.delay", params: {x: 2, y: 3}, ref};
  b.ws.send(JSON.stringify(press));
  const body = await reply;
  const answered = performance.now() - t0;
  if (body.type !== "sent") throw new Error(`the site refused the press: ${JSON.stringify(body)}`);
  const task_id = body.task_id;
  if (!b.done.has(task_id)) {
    await Promise.race([
      new Promise((ok) => b.waiting.set(task_id, ok)),
      new Promise((_, no) => setTimeout(() => no(new Error("no task-succeeded in 30 s")), 30000)),
    ]);
  }
  b.waiting.delete(task_id);
  const arrived = performance.now() - t0;
  // Then until the learner can see it: the moment the task's card is in the document showing
  // "succeeded" (a MutationObserver sees the change in the frame that makes it), the next
  // animation frame, which begins once that frame was painted.
  const shown = () => {
    const task = b.lab.tasks.get(task_id);
    return Boolean(task && task.card.isConnected && task.card.dataset.state === "succeeded");
  };
  const drawn = await Promise.race([
    new Promise((ok) => {
      const painted = () => requestAnimationFrame(() => ok(performance.now() - t0));
      if (shown()) return painted();
      const watch = new MutationObserver(() => { if (shown()) { watch.disconnect(); painted(); } });
      watch.observe(document.body, {subtree: true, childList: true, attributes: true,
                                    attributeFilter: ["data-state"]});
    }),
    new Promise((_, no) => setTimeout(() => no(new Error("no card drawn in 30 s")), 30000)),
  ]);
  return [arrived, answered, drawn];
}
"""

_POST = """
async () => {
  const b = window.__bench;
  const t0 = performance.now();
  // A direct call, add(2, 3) in the web process: the HTTP transport's cost, beside the socket's.
  const res = await fetch("/api/experiments/lesson1.direct", {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({x: 2, y: 3})});
  await res.json();
  const posted = performance.now() - t0;
  if (!res.ok) throw new Error(`the site refused the POST: ${res.status}`);
  return posted;
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
    samples: dict[str, list[float]] = {
        "page": [],
        "drawn": [],
        "reply": [],
        "post": [],
        "ws_ping": [],
        "raw_get": [],
    }
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**chromium.LAUNCH)
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
                took, answered, drawn = page.evaluate(_PRESS)
                raw = raw_get(app)
                ping = page.evaluate(_PING)
                posted = page.evaluate(_POST)
                if i >= warmup:
                    samples["page"].append(took / 1000)
                    samples["drawn"].append(drawn / 1000)
                    samples["reply"].append(answered / 1000)
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
