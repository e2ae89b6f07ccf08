// The live sandbox: buttons send experiments; task events stream in over one websocket.
// Nothing here simulates a worker: every state shown comes from an event or the result backend.
// Every word on a card comes from the page (site/templates/_words.html, _task_card.html).
import {el, fromTemplate, words} from "./lib/dom.js";
import {postJson} from "./lib/http.js";
import {advances, isFinal, reached} from "./lib/lifecycle.js";
import {connectionBadge, liveSocket} from "./lib/socket.js";
import * as taskPath from "./path.js";

const say = words("lab");
export const tasks = new Map();
const taskBox = document.getElementById("tasks");
const log = document.getElementById("event-log");
const setConn = connectionBadge(document.getElementById("conn"), words("conn"));
// Pages without this socket poll for class notices instead (classroom-learner.js).
document.documentElement.dataset.live = "yes";

const fmtMs = (ms) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(3)} s`);
// A step's time since the web's sent (updateCard keeps each step at or after the one before).
const fmtOffset = (ms) => "+" + fmtMs(ms);
// One formatter, made once: toLocaleTimeString builds a new Intl formatter on every call,
// ~0.25 ms each, once per event on the page's critical path (bench/browser.py).
const timeOfDay = new Intl.DateTimeFormat([], {hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false});
const clock = (t) => timeOfDay.format(new Date(t * 1000)) +
  "." + String(Math.floor((t % 1) * 1000)).padStart(3, "0");
const short = (id) => id.slice(0, 8);

// ---- the connection
const socket = liveSocket("/ws", {
  onOpen() { setConn(true); syncUnfinished(); },
  onMessage,
  onClose() {
    for (const ref of [...pending.keys()]) settle(ref, new Error(say("closed_before_answer")), true);
    setConn(false);
  },
});

export const sendWs = (message) => socket.send(message);

// Events are broadcast, never stored: after a reconnect, ask the result backend instead.
const unfinished = () => [...tasks.values()].filter((t) => !isFinal(t.state) && !t.sandboxed);
function syncUnfinished() {
  const ids = unfinished().map((t) => t.id);
  if (ids.length) sendWs({action: "sync", task_ids: ids});
}
setInterval(() => {
  const now = Date.now() / 1000;
  const stale = unfinished().filter((t) => now - t.lastSeen > 5);
  if (stale.length) sendWs({action: "sync", task_ids: stale.map((t) => t.id)});
}, 5000);

function onMessage(msg) {
  if (typeof msg.ref === "string" && (msg.type === "sent" || msg.type === "error")) settle(msg.ref, msg, false);
  if (msg.type === "task") onTaskEvent(msg);
  else if (msg.type === "snapshot") msg.tasks.forEach(onSnapshot);
  document.dispatchEvent(new CustomEvent("celerylab:message", {detail: msg}));
}

// ---- tasks
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
export function taskFor(id, experiment, name, box) {
  let t = tasks.get(id);
  if (!t) {
    t = {id, experiment, name, events: {}, state: null, progress: null, lastSeen: Date.now() / 1000};
    // A playground task lives in its run's own Redis: the site's result backend cannot sync it.
    t.sandboxed = experiment === "playground";
    t.card = renderCard(t);
    t.box = box || boxFor(experiment);  // where drawNow puts the card
    tasks.set(id, t);
    draw(t);
  }
  if (experiment && !t.experiment) t.experiment = experiment;
  if (name && !t.name) t.name = name;
  return t;
}

export function onTaskEvent(msg, box) {
  // A line the task logged (chapter 9): shown in the event log; it never changes a card.
  if (msg.state === "log") { draw(null, msg); return; }
  const t = taskFor(msg.task_id, msg.experiment, msg.task_name, box);
  t.lastSeen = Date.now() / 1000;
  if (msg.state === "progress") t.progress = msg.fields;
  if (msg.state === "retry") (t.retries = t.retries || []).push(msg);
  // A retry is the task re-sent with retries + 1 and an ETA: keep each resend by number
  // (sent's countdown is exact, so it wins over received's).
  const f = msg.fields || {};
  if ((msg.state === "sent" || msg.state === "received") && f.retries > 0) {
    t.resends = t.resends || {};
    if (!t.resends[f.retries] || msg.state === "sent") t.resends[f.retries] = msg;
  }
  if (!t.events[msg.state] || msg.state === "progress") t.events[msg.state] = msg;
  if (advances(t.state, msg.state)) t.state = msg.state;
  if (msg.state === "succeeded" && t.progress) t.progress = {current: t.progress.total, total: t.progress.total};
  draw(t, msg);
}

// Events change a task's state at once and the page once the socket has gone quiet: a
// message's handler does no drawing (a fraction of a millisecond), and the cards, the log and
// a new task's card itself are drawn together QUIET_MS after the last event, or MOST_MS after
// the first one not drawn yet if events keep coming. A fast task's events come 1-3 ms apart,
// so its whole lifecycle is drawn in one frame, after its last event. Drawing at the next frame
// instead (as before) put a frame, 4-6 ms of the page's main thread, in the middle of most
// presses, and every message arriving meanwhile waited for it: press -> task-succeeded on the
// lesson page 18-20 ms against 11 now, beside raw Celery's 5-7 (bench/README.md, 2026-12-03
// evening). The card is on the screen no later than before: the bench's "drawn" row.
const QUIET_MS = 8;
const MOST_MS = 50;
const dirty = new Set();
let pendingLog = [];
let drawTimer = null;
let undrawnSince = 0;
function draw(t, msg) {
  if (t) dirty.add(t);
  if (msg) pendingLog.push(msg);
  if (pendingLog.length > 200) pendingLog = pendingLog.slice(-200);  // a hidden tab draws nothing
  const now = performance.now();
  if (!undrawnSince) undrawnSince = now;
  clearTimeout(drawTimer);
  const wait = Math.max(0, Math.min(QUIET_MS, MOST_MS - (now - undrawnSince)));
  drawTimer = setTimeout(() => requestAnimationFrame(drawNow), wait);
}
function drawNow() {
  undrawnSince = 0;
  const cards = [...dirty], lines = pendingLog;
  dirty.clear();
  pendingLog = [];
  for (const t of cards) if (t.box) { t.box.prepend(t.card); t.box = null; }  // a new task
  cards.forEach(updateCard);
  lines.forEach(logEvent);
}

function onSnapshot(s) {
  const t = tasks.get(s.task_id);
  if (!t) return;
  t.lastSeen = Date.now() / 1000;
  if (advances(t.state, s.state)) {
    t.state = s.state;
    t.reconciled = true;
    if ("result" in s) t.result = s.result;
    if (s.error) t.error = s.error;
    updateCard(t);
  }
}

// What the card shows. A retried task starts over with its new delivery (the lifecycle's
// rule), but until it ends, its card says "retry": the re-runs are the story it tells.
const shownState = (t) => (t.retries && t.retries.length && !isFinal(t.state) ? "retry" : t.state);

function renderCard(t) {
  const card = fromTemplate("task-card");
  card.dataset.taskId = t.id;
  card.setAttribute("aria-label", say("card_label", {id: short(t.id)}));
  card.querySelector(".tid").textContent = short(t.id);
  card.querySelector("header").after(taskPath.create());
  return card;
}

function explain(t, state) {
  const recv = t.events.received;
  switch (state) {
    case "sent": return say("explain_sent");
    case "received": {
      const eta = recv && recv.fields.eta;
      return eta ? say("explain_received_eta", {time: new Date(eta).toLocaleTimeString()})
                 : say("explain_received");
    }
    case "started": return say("explain_started");
    case "progress": return say("explain_progress", t.progress);
    case "retry": {
      const n = (t.retries || []).length, resend = (t.resends || {})[n];
      return resend && resend.fields.countdown !== undefined
        ? say("explain_retry_in", {n, seconds: resend.fields.countdown.toFixed(1)})
        : say("explain_retry_later", {n});
    }
    case "succeeded": {
      const result = t.events.succeeded ? t.events.succeeded.fields.result : JSON.stringify(t.result);
      return [say("explain_succeeded", {result}), retriedNote(t, "outcome_succeeded"),
              t.reconciled ? say("reconciled") : ""].filter(Boolean).join(" ");
    }
    case "failed": {
      const error = (t.events.failed && t.events.failed.fields.exception) || t.error;
      return [say("explain_failed", {error}), retriedNote(t, "outcome_failed")].filter(Boolean).join(" ");
    }
    default: return "";
  }
}

function retriedNote(t, outcome) {
  const n = (t.retries || []).length;
  return n ? say.count("retried", n, {outcome: say(outcome)}) : "";
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
    li.append(el("span", {class: "retry-n"}, say("retry_n", {n})));
    if (errors[n - 1]) li.append(el("code", {class: "retry-error"}, retryError(errors[n - 1].fields.exception)));
    const resend = resends[n];
    if (resend && resend.fields.countdown !== undefined) {
      li.append(el("span", {class: "retry-countdown"}, say("retry_countdown", {
        seconds: resend.fields.countdown.toFixed(1), time: clock(Date.parse(resend.fields.eta) / 1000),
      })));
    }
    list.append(li);
  }
  list.hidden = false;
}

export function updateCard(t) {
  const card = t.card;
  const state = shownState(t);
  card.querySelector(".name").textContent = t.name ? t.name.split(".").pop() : (t.experiment || say("task"));
  card.querySelector(".state").textContent = state === "sent" ? say("state_sent") : (state || "");
  card.dataset.state = state || "";
  const origin = t.events.sent ? t.events.sent.timestamp : null;
  // Celery stamps task-sent just after the message is on the queue, so the worker can stamp
  // "received" a fraction of a millisecond earlier (and a worker on another host has a clock
  // of its own): no step is shown before the one it follows, which it cannot have preceded.
  let after = 0;
  for (const li of card.querySelectorAll(".lifecycle li")) {
    const s = li.dataset.state;
    const last = s === "succeeded";
    const ev = last ? (t.events.succeeded || t.events.failed || t.events.rejected || t.events.revoked)
                    : t.events[s];
    if (last && isFinal(state)) li.querySelector(".label").textContent = state;
    // A success implies every earlier step, even one whose event was missed. A failure does
    // not (a refused message is never received or started): only steps seen are lit.
    const inferred = state === "succeeded" || !isFinal(state);
    const lit = ev || (last ? isFinal(state) : inferred && reached(state, s));
    li.classList.toggle("done", Boolean(lit));
    if (ev && origin) after = Math.max(after, (ev.timestamp - origin) * 1000);
    li.querySelector("time").textContent = ev && origin ? fmtOffset(after) : "";
  }
  let pct = 0;
  if (t.progress && t.progress.total) pct = Math.round((100 * t.progress.current) / t.progress.total);
  if (state === "succeeded") pct = 100;
  card.querySelector(".fill").style.transform = `scaleX(${pct / 100})`;
  card.querySelector(".bar").setAttribute("aria-valuenow", String(pct));
  card.querySelector(".explain").textContent = explain(t, state);
  renderRetries(t);
  const recv = t.events.received;
  const holding = Boolean(recv && recv.fields.eta) && !reached(state, "started");
  taskPath.update(card.querySelector("svg.path"), state, holding);
}

// The log reads in the order things happened (each event's own timestamp), not the order they
// arrived. One event is late by design: Celery publishes task-sent just after the task's
// message (the web stamps it then), so the worker can receive the task, and even say so,
// first. A task's first "sent" therefore goes before that task's other lines too. Overtaking
// is by a few events at most, so a line looks back only a little way.
const LOOK_BACK = 20;
function logEvent(msg) {
  if (!log) return;
  const f = msg.fields || {};
  const at = msg.timestamp || msg.received_at || Date.now() / 1000;
  const bits = [clock(at), short(msg.task_id), msg.state];
  if (msg.state === "progress") bits.push(`${f.current}/${f.total}`);
  if (f.hostname) bits.push(say("log_host", {host: f.hostname}));
  if (f.pid) bits.push(say("log_pid", {pid: f.pid}));
  if (f.retries) bits.push(say("log_retries", {n: f.retries}));
  if (f.eta) bits.push(say("log_eta", {eta: f.eta}));
  if (f.countdown !== undefined) bits.push(say("log_countdown", {seconds: f.countdown}));
  if (f.result !== undefined) bits.push(say("log_result", {result: f.result}));
  if (f.exception) bits.push(f.exception);
  if (msg.state === "log") bits.push(`${f.level}: ${f.message}`);
  const li = el("li", {"data-state": msg.state, "data-at": at, "data-task": msg.task_id}, bits.join("  "));
  const first = msg.state === "sent" && !f.retries;
  let before = log.lastElementChild;
  for (let n = 0; before && n < LOOK_BACK; n++) {
    const after = Number(before.dataset.at) > at || (first && before.dataset.task === msg.task_id);
    if (!after) break;
    before = before.previousElementSibling;
  }
  if (before) before.after(li); else log.prepend(li);
  while (log.children.length > 200) log.firstChild.remove();
}

// ---- experiments
function paramsOf(form) {
  const params = {};
  for (const field of form.querySelectorAll("input, select")) {
    params[field.name] = field.type === "number" && /^-?\d+$/.test(field.value.trim())
      ? Number(field.value) : field.value;
  }
  return params;
}

// The runner's reply, success or error; only one not the runner's own (a 413) throws.
async function postExperiment(name, params) {
  const {ok, data} = await postJson(`/api/experiments/${encodeURIComponent(name)}`, params);
  if (!ok && data.type !== "error") throw new Error(data.message);
  return data;
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
  // The socket is down (reconnecting): a press has no other way in (web/live/runner.py).
  if (!socket.open) return Promise.reject(new Error(say("not_connected")));
  const ref = `press-${++pressCount}-${Date.now()}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => settle(ref, new Error(
      say("no_answer_in_time", {seconds: PRESS_TIMEOUT_MS / 1000})), true), PRESS_TIMEOUT_MS);
    pending.set(ref, {resolve, reject, timer});
    sendWs({action: "run", experiment: name, params, ref});
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
  outcome.textContent = panel.dataset.mode === "direct" ? say("waiting_answer") : "";
  outcome.classList.remove("error");
  outcome.removeAttribute("role");
  let body;
  try {
    // One transport each (Experiment.transport): a direct call's held request is the lesson's
    // point; a `.delay()` press goes over the page's socket, cheaper than a fetch.
    const name = panel.dataset.experiment;
    const params = paramsOf(form);
    body = panel.dataset.transport === "http" ? await postExperiment(name, params)
      : await pressOverSocket(name, params);
    // The reply, from either transport (web/live/runner.py).
    panel.dispatchEvent(new CustomEvent("celerylab:reply", {detail: body, bubbles: true}));
    if (body.type === "error") throw Object.assign(new Error(body.message || say("refused")), {body});
  } catch (err) {
    ticking = false;
    outcome.classList.add("error");
    outcome.setAttribute("role", "alert");
    outcome.textContent = err.message;
    holdFor(err.body || {}, outcome, busy);
    return;
  }
  const waited = performance.now() - started;
  ticking = false;
  busy(false);
  if (watch) watch.value = (waited / 1000).toFixed(3) + " s";
  outcome.replaceChildren();
  if (body.task_id) updateCard(taskFor(body.task_id, body.experiment, null));
  if (body.mode === "direct") {
    outcome.append(el("p", {class: "waited"}, say("waited_direct", {time: fmtMs(waited)})));
  } else if (body.task_id) {
    outcome.append(el("p", {class: "waited"}, say("waited_delay", {id: short(body.task_id), time: fmtMs(waited)})));
  }
  renderShow(outcome, body);
  panel.dispatchEvent(new CustomEvent("celerylab:outcome", {detail: body, bubbles: true}));
}

// A refusal that passes with time (the per-second limit, a full queue, a held direct call)
// holds the button as long, counting down. Not the bounds on unfinished tasks: a task that
// ends before their Retry-After frees the press at once.
const TIMED = new Set(["rate_limited", "busy", "call_waiting"]);
function holdFor(body, outcome, busy) {
  let left = TIMED.has(body.error) ? Math.min(Math.ceil(body.retry_after) || 0, 60) : 0;
  const line = el("p", {class: "retry-wait", "aria-hidden": "true"});  // the alert says it once
  const tick = () => {
    busy(left > 0);
    if (left <= 0) return line.remove();
    line.textContent = say("press_again_in", {seconds: left--});
    setTimeout(tick, 1000);
  };
  if (left > 0) outcome.append(line);
  tick();
}

// `show` (labelled values) and `explain` (in plain words) come from the server; this draws them.
export function renderShow(box, body) {
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
