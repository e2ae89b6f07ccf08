// The live sandbox: buttons send experiments; task events stream in over one websocket.
// Nothing here simulates a worker: every state shown comes from an event or the result backend.
(() => {
  "use strict";

  // Lifecycle order (web/live/protocol.py STATES): a late event never moves a task backwards.
  const STATES = ["sent", "received", "started", "progress", "retry", "succeeded", "failed",
                  "rejected", "revoked"];
  const RANK = Object.fromEntries(STATES.map((s, i) => [s, i]));
  const FINAL = new Set(["succeeded", "failed", "rejected", "revoked"]);
  const SHOWN = ["sent", "received", "started", "succeeded"];

  const tasks = new Map();
  const taskBox = document.getElementById("tasks");
  const log = document.getElementById("event-log");
  const connBadge = document.getElementById("conn");
  let ws = null;
  let backoff = 250;

  const fmtMs = (ms) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(3)} s`);
  // Web and worker stamp events with their own clocks, so a worker event can come out a hair
  // "before" the web's sent event: show the sign honestly rather than as "+-2 ms".
  const fmtOffset = (ms) => (Math.round(ms) < 0 ? "−" + fmtMs(-ms) : "+" + fmtMs(Math.max(0, ms)));
  const clock = (t) => new Date(t * 1000).toLocaleTimeString([], {hour12: false}) +
    "." + String(Math.floor((t % 1) * 1000)).padStart(3, "0");
  const short = (id) => id.slice(0, 8);

  function el(tag, attrs = {}, text = "") {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text) node.textContent = text;
    return node;
  }

  // ---- the connection ---------------------------------------------------------------------
  function setConn(text, ok) {
    if (!connBadge) return;
    connBadge.textContent = text;
    connBadge.dataset.ok = ok ? "yes" : "no";
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/ws");
    ws.onopen = () => { backoff = 250; setConn("live", true); syncUnfinished(); };
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch (_) { return; }
      onMessage(msg);
    };
    ws.onclose = () => {
      for (const ref of [...pending.keys()]) {
        settle(ref, new Error("The live connection closed before the site answered this press. " +
          "It may still have been sent: the task list catches up when the page reconnects."), true);
      }
      setConn("reconnecting…", false);
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
  }

  function sendWs(message) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  // Events are broadcast, never stored: after a reconnect, ask the result backend instead.
  function syncUnfinished() {
    const ids = [...tasks.values()].filter((t) => !FINAL.has(t.state) && !t.sandboxed).map((t) => t.id);
    if (ids.length) sendWs({action: "sync", task_ids: ids});
  }
  setInterval(() => {
    const now = Date.now() / 1000;
    const stale = [...tasks.values()].filter((t) => !FINAL.has(t.state) && !t.sandboxed && now - t.lastSeen > 5);
    if (stale.length) sendWs({action: "sync", task_ids: stale.map((t) => t.id)});
  }, 5000);

  function onMessage(msg) {
    if (typeof msg.ref === "string" && (msg.type === "sent" || msg.type === "error")) settle(msg.ref, msg, false);
    if (msg.type === "task") onTaskEvent(msg);
    else if (msg.type === "snapshot") msg.tasks.forEach(onSnapshot);
    document.dispatchEvent(new CustomEvent("celerylab:message", {detail: msg}));
  }

  // ---- tasks ------------------------------------------------------------------------------
  // On a phone the task list sits far below the buttons, so a card goes under the button
  // that sent it; on a wide screen, into the task list beside the lesson.
  const narrow = matchMedia("(max-width: 760px)");

  // The panel a learner last pressed for each experiment (a lesson's own, or a "Prove it" copy).
  const pressed = new Map();

  function boxFor(experiment) {
    const panel = pressed.get(experiment);
    if (narrow.matches && panel && panel.offsetParent !== null) {
      return panel.querySelector(".panel-tasks") || taskBox;
    }
    return taskBox;
  }

  // `box`: where a new card goes instead (a "Your turn" panel draws its run's tasks in itself).
  function taskFor(id, experiment, name, box) {
    let t = tasks.get(id);
    if (!t) {
      t = {id, experiment, name, events: {}, state: null, progress: null, lastSeen: Date.now() / 1000};
      // A playground task lives in its run's own Redis: the site's result backend cannot sync it.
      t.sandboxed = experiment === "playground";
      t.card = renderCard(t);
      (box || boxFor(experiment)).prepend(t.card);
      tasks.set(id, t);
    }
    if (experiment && !t.experiment) t.experiment = experiment;
    if (name && !t.name) t.name = name;
    return t;
  }

  function onTaskEvent(msg, box) {
    // A line the task logged (chapter 9): shown in the event log; it never changes a card.
    if (msg.state === "log") { logEvent(msg); return; }
    const t = taskFor(msg.task_id, msg.experiment, msg.task_name, box);
    t.lastSeen = Date.now() / 1000;
    if (msg.state === "progress") t.progress = msg.fields;
    if (msg.state === "retry") (t.retries = t.retries || []).push(msg);
    // A retry is the same task re-sent by the worker with retries + 1 and an ETA: keep each
    // resend by its number (the sent event's countdown is exact, so it wins over received's).
    const f = msg.fields || {};
    if ((msg.state === "sent" || msg.state === "received") && f.retries > 0) {
      t.resends = t.resends || {};
      if (!t.resends[f.retries] || msg.state === "sent") t.resends[f.retries] = msg;
    }
    if (!t.events[msg.state] || msg.state === "progress") t.events[msg.state] = msg;
    if (t.state === null || RANK[msg.state] > RANK[t.state]) t.state = msg.state;
    if (msg.state === "succeeded" && t.progress) t.progress = {current: t.progress.total, total: t.progress.total};
    updateCard(t);
    logEvent(msg);
  }

  function onSnapshot(s) {
    const t = tasks.get(s.task_id);
    if (!t) return;
    t.lastSeen = Date.now() / 1000;
    if (RANK[s.state] !== undefined && (t.state === null || RANK[s.state] > RANK[t.state])) {
      t.state = s.state;
      t.reconciled = true;
      if ("result" in s) t.result = s.result;
      if (s.error) t.error = s.error;
      updateCard(t);
    }
  }

  function renderCard(t) {
    const card = el("article", {class: "task", "data-task-id": t.id, "aria-label": `Task ${short(t.id)}`});
    const head = el("header");
    head.append(el("code", {class: "name"}), el("span", {class: "state"}), el("small", {class: "tid"}, short(t.id)));
    const path = window.CeleryLabPath ? window.CeleryLabPath.create() : el("span");
    const steps = el("ol", {class: "lifecycle"});
    for (const s of SHOWN) {
      const li = el("li", {"data-state": s});
      // Celery stamps task-sent just after publishing, so a quick worker can come out negative.
      li.append(el("span", {class: "label"}, s), el("time", {title: "time since the web process's sent event"}));
      steps.append(li);
    }
    const bar = el("div", {class: "bar", role: "progressbar", "aria-label": "Progress", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0"});
    bar.append(el("div", {class: "fill"}));
    const retries = el("ol", {class: "retries", "aria-label": "Retries"});
    retries.hidden = true;
    card.append(head, path, steps, bar, retries, el("p", {class: "explain"}));
    return card;
  }

  function explain(t) {
    const recv = t.events.received;
    switch (t.state) {
      case "sent": return "The web process put a message on the Redis queue. No worker has taken it yet: it waits there until one does.";
      case "received": {
        const eta = recv && recv.fields.eta;
        return eta ? `A worker took the message but holds it until ${new Date(eta).toLocaleTimeString()} (the countdown) before starting it.`
                   : "A worker took the message off the queue and is about to run it.";
      }
      case "started": return "The worker is running the task body now. Your page is free: nothing here is waiting.";
      case "progress": return `The task reported progress itself: step ${t.progress.current} of ${t.progress.total}.`;
      case "retry": {
        const n = (t.retries || []).length, resend = (t.resends || {})[n];
        const wait = resend && resend.fields.countdown !== undefined
          ? ` in ${resend.fields.countdown.toFixed(1)} s` : " later";
        return `Run ${n} raised an error, so Celery re-sent the same task (same id, retries=${n}) to run again${wait}. It keeps the task in this state until a run succeeds or the retries run out.`;
      }
      case "succeeded": {
        const r = t.events.succeeded ? t.events.succeeded.fields.result : JSON.stringify(t.result);
        return `Done. The worker returned ${r}.` + retriedNote(t, "then succeeded") +
          (t.reconciled ? " (Read from the result backend: the event itself was missed.)" : "");
      }
      case "failed": return `The task raised: ${(t.events.failed && t.events.failed.fields.exception) || t.error}.` +
        retriedNote(t, "and this time Celery gave up, so the error is final");
      default: return "";
    }
  }

  function retriedNote(t, outcome) {
    const n = (t.retries || []).length;
    return n ? ` It was retried ${n} time${n === 1 ? "" : "s"} ${outcome}.` : "";
  }

  // Celery's task-retried event names the Retry, which wraps the task's own error:
  // "Retry(Retry(...), ServiceUnavailable('…'), 1)". Show the wrapped error.
  const retryError = (text) => {
    const m = /^Retry\(Retry\(\.\.\.\), (.*), [^,]+\)$/.exec(text || "");
    return m ? m[1] : text;
  };

  // One line per retry: the error that caused it, and the wait the worker put on the re-sent
  // message (its ETA minus the moment it was sent: fields.countdown, see web/live/protocol.py).
  function renderRetries(t) {
    const list = t.card.querySelector(".retries");
    const resends = t.resends || {};
    const errors = [...(t.retries || [])].sort((a, b) => a.timestamp - b.timestamp);
    const count = Math.max(errors.length, 0, ...Object.keys(resends).map(Number));
    if (!list || !count) return;
    list.replaceChildren();
    for (let n = 1; n <= count; n++) {
      const li = el("li", {"data-retry": String(n)});
      li.append(el("span", {class: "retry-n"}, `retry ${n}`));
      if (errors[n - 1]) li.append(el("code", {class: "retry-error"}, retryError(errors[n - 1].fields.exception)));
      const resend = resends[n];
      if (resend && resend.fields.countdown !== undefined) {
        li.append(el("span", {class: "retry-countdown"},
          `countdown ${resend.fields.countdown.toFixed(1)} s, runs at ${clock(Date.parse(resend.fields.eta) / 1000)}`));
      }
      list.append(li);
    }
    list.hidden = false;
  }

  function updateCard(t) {
    const card = t.card;
    card.querySelector(".name").textContent = t.name ? t.name.split(".").pop() : (t.experiment || "task");
    card.querySelector(".state").textContent = t.state === "sent" ? "waiting in queue" : (t.state || "");
    card.dataset.state = t.state || "";
    const origin = t.events.sent ? t.events.sent.timestamp : null;
    for (const li of card.querySelectorAll(".lifecycle li")) {
      const s = li.dataset.state;
      const last = s === "succeeded";
      const ev = last ? (t.events.succeeded || t.events.failed || t.events.rejected || t.events.revoked)
                      : t.events[s];
      if (last && FINAL.has(t.state)) li.querySelector(".label").textContent = t.state;
      // A success implies every earlier step even if its event was missed (the result backend
      // said so). A failure or refusal does not: an unregistered or refused message is never
      // received or started, so only steps whose events arrived are lit.
      const inferred = t.state === "succeeded" || !FINAL.has(t.state);
      const reached = ev || (last ? FINAL.has(t.state)
                                  : inferred && t.state && RANK[t.state] >= RANK[s]);
      li.classList.toggle("done", Boolean(reached));
      li.querySelector("time").textContent = ev && origin ? fmtOffset((ev.timestamp - origin) * 1000) : "";
    }
    let pct = 0;
    if (t.progress && t.progress.total) pct = Math.round((100 * t.progress.current) / t.progress.total);
    if (t.state === "succeeded") pct = 100;
    card.querySelector(".fill").style.width = pct + "%";
    card.querySelector(".bar").setAttribute("aria-valuenow", String(pct));
    card.querySelector(".explain").textContent = explain(t);
    renderRetries(t);
    const path = card.querySelector("svg.path");
    if (path) {
      const recv = t.events.received;
      const holding = Boolean(recv && recv.fields.eta) && RANK[t.state] < RANK.started;
      window.CeleryLabPath.update(path, t.state, holding);
    }
  }

  function logEvent(msg) {
    if (!log) return;
    const f = msg.fields || {};
    const bits = [clock(msg.timestamp || msg.received_at), short(msg.task_id), msg.state];
    if (msg.state === "progress") bits.push(`${f.current}/${f.total}`);
    if (f.hostname) bits.push(`on ${f.hostname}`);
    if (f.pid) bits.push(`pid ${f.pid}`);
    if (f.retries) bits.push(`retries ${f.retries}`);
    if (f.eta) bits.push(`eta ${f.eta}`);
    if (f.countdown !== undefined) bits.push(`countdown ${f.countdown} s`);
    if (f.result !== undefined) bits.push(`result ${f.result}`);
    if (f.exception) bits.push(f.exception);
    if (msg.state === "log") bits.push(`${f.level}: ${f.message}`);
    const li = el("li", {"data-state": msg.state}, bits.join("  "));
    log.append(li);
    while (log.children.length > 200) log.firstChild.remove();
  }

  // ---- experiments ------------------------------------------------------------------------
  function paramsOf(form) {
    const params = {};
    for (const field of form.querySelectorAll("input, select")) {
      params[field.name] = field.type === "number" && /^-?\d+$/.test(field.value.trim())
        ? Number(field.value) : field.value;
    }
    return params;
  }

  async function postExperiment(name, params) {
    const res = await fetch(`/api/experiments/${encodeURIComponent(name)}`, {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(params), credentials: "same-origin",
    });
    const body = await res.json();
    if (!res.ok && body.type !== "error") throw new Error(body.message || `The server answered ${res.status}.`);
    return body;
  }

  // Presses waiting for their reply, by `ref` (web/live/runner.py echoes it back).
  const pending = new Map();
  let pressCount = 0;
  const PRESS_TIMEOUT_MS = 10000;

  function settle(ref, outcome, isError) {
    const press = pending.get(ref);
    if (!press) return;
    pending.delete(ref);
    clearTimeout(press.timer);
    if (isError) press.reject(outcome); else press.resolve(outcome);
  }

  function pressOverSocket(name, params) {
    // The socket is down (reconnecting): the same runner answers over HTTP instead.
    if (!ws || ws.readyState !== WebSocket.OPEN) return postExperiment(name, params);
    const ref = `press-${++pressCount}-${Date.now()}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(ref, new Error(
        "The site did not answer this press within 10 s. It may still have been sent: " +
        "watch the task list, which catches up by itself."), true), PRESS_TIMEOUT_MS);
      pending.set(ref, {resolve, reject, timer});
      ws.send(JSON.stringify({action: "run", experiment: name, params, ref}));
    });
  }

  async function runExperiment(panel) {
    pressed.set(panel.dataset.experiment, panel);
    const form = panel.querySelector("form");
    const outcome = panel.querySelector(".outcome");
    const button = form.querySelector("button");
    const watch = form.querySelector(".stopwatch");
    const started = performance.now();
    let ticking = Boolean(watch);
    const tick = () => {
      if (!ticking) return;
      watch.value = ((performance.now() - started) / 1000).toFixed(3) + " s";
      requestAnimationFrame(tick);
    };
    if (watch) requestAnimationFrame(tick);
    // aria-disabled, not disabled: a disabled button drops keyboard focus to the page's top.
    const busy = (on) => {
      panel.dataset.busy = on ? "yes" : "";
      if (on) button.setAttribute("aria-disabled", "true"); else button.removeAttribute("aria-disabled");
    };
    busy(panel.dataset.mode === "direct");
    outcome.textContent = panel.dataset.mode === "direct" ? "Waiting for the answer…" : "";
    outcome.classList.remove("error");
    outcome.removeAttribute("role");
    let body;
    try {
      // A direct call's point is the request it holds (lesson 5): that stays a request. A
      // `.delay()` press goes over the page's own socket, a fraction of a fetch's cost here.
      const name = panel.dataset.experiment;
      const params = paramsOf(form);
      body = panel.dataset.mode === "direct" ? await postExperiment(name, params)
        : await pressOverSocket(name, params);
      // The runner's reply, whichever transport carried it, success or error (web/live/runner.py).
      panel.dispatchEvent(new CustomEvent("celerylab:reply", {detail: body, bubbles: true}));
      if (body.type === "error") throw new Error(body.message || "The site refused that.");
    } catch (err) {
      ticking = false;
      busy(false);
      outcome.classList.add("error");
      outcome.setAttribute("role", "alert");
      outcome.textContent = err.message;
      return;
    }
    const waited = performance.now() - started;
    ticking = false;
    busy(false);
    if (watch) watch.value = (waited / 1000).toFixed(3) + " s";
    outcome.replaceChildren();
    if (body.task_id) updateCard(taskFor(body.task_id, body.experiment, null));
    if (body.mode === "direct") {
      outcome.append(el("p", {class: "waited"}, `The page waited ${fmtMs(waited)} for this answer.`));
    } else if (body.task_id) {
      outcome.append(el("p", {class: "waited"}, `Task id ${short(body.task_id)}… came back in ${fmtMs(waited)}. ` +
        "The page is free again; the work goes on in the worker: watch its card."));
    }
    renderShow(outcome, body);
    panel.dispatchEvent(new CustomEvent("celerylab:outcome", {detail: body, bubbles: true}));
  }

  // An experiment's outcome may carry `show` (labelled values to display) and `explain` (what
  // the learner just saw, in plain words): the server decides what to show, this only draws it.
  function renderShow(box, body) {
    for (const item of body.show || []) {
      const row = el("div", {class: `show show-${item.format || "text"}`});
      row.append(el("p", {class: "show-label"}, item.label));
      if (item.format === "code" || item.format === "json") {
        const text = item.format === "json" ? JSON.stringify(item.value, null, 2) : String(item.value);
        // A wide value scrolls sideways: focusable, so a keyboard can scroll it too.
        const pre = el("pre", {tabindex: "0", role: "group", "aria-label": item.label});
        pre.append(el("code", {}, text));
        row.append(pre);
      } else {
        row.append(el("p", {class: "show-value"}, String(item.value)));
      }
      box.append(row);
    }
    if (body.explain) box.append(el("p", {class: "explain-outcome"}, body.explain));
  }

  for (const panel of document.querySelectorAll(".experiment")) {
    panel.querySelector("form").addEventListener("submit", (e) => {
      e.preventDefault();
      if (panel.dataset.busy !== "yes") runExperiment(panel);
    });
  }

  window.CeleryLab = {tasks, sendWs, taskFor, updateCard, renderShow, onTaskEvent};
  connect();
})();
