// Lesson 8: draw a canvas (chain, group, chord) two ways as its tasks' real events arrive:
// a graph whose nodes light up, and a timeline with one lane per worker thread.
// The server sends the canvas's shape with the experiment's outcome; every state shown comes
// from a Celery event or, for tasks that never ran, from the result backend.
import {el, svg, words} from "./lib/dom.js";
import {isFinal} from "./lib/lifecycle.js";
import {sendWs} from "./lab.js";

const say = words("canvas");
// The events a node keeps: the ones its drawing shows.
const KEPT = new Set(["sent", "received", "started", "progress", "succeeded", "failed"]);
const byTask = new Map();  // task id -> {canvas, node}
// A quick task's first events can beat the HTTP answer that names the canvas: keep them.
const early = new Map();

// ---- state ------------------------------------------------------------------------------
function nodeState(n) {
  if (n.events.failed) return "failed";
  if (n.events.succeeded) return "succeeded";
  if (n.events.started || n.events.progress) return "started";
  if (n.events.received) return "received";
  if (n.events.sent) return "sent";
  if (n.backend === "failed") return "never-ran";
  return "waiting";
}

const stateWord = (s) => say(`state_${s}`);

function describe(n) {
  const s = nodeState(n);
  if (s === "succeeded") return say("describe_succeeded", {result: n.events.succeeded.fields.result});
  if (s === "failed") return say("describe_failed", {error: n.events.failed.fields.exception});
  if (s === "never-ran") return say("describe_never_ran", {error: n.error});
  return stateWord(s);
}

// ---- the graph --------------------------------------------------------------------------
const BOX_W = 184, BOX_H = 40, COL = 224, ROW = 52, PAD = 6;

function drawGraph(c) {
  const cols = Math.max(...c.nodes.map((n) => n.column)) + 1;
  const rows = Math.max(...c.nodes.map((n) => n.row)) + 1;
  const width = PAD * 2 + (cols - 1) * COL + BOX_W, height = PAD * 2 + (rows - 1) * ROW + BOX_H;
  const graph = svg("svg", {class: "canvas-graph", viewBox: `0 0 ${width} ${height}`,
                           role: "img", "aria-label": say("graph_label", {shape: c.shape})});
  graph.style.maxWidth = width + "px";
  const at = (n) => [PAD + n.column * COL, PAD + n.row * ROW];
  for (const [from, to] of c.edges) {
    const [x1, y1] = at(c.byKey.get(from)), [x2, y2] = at(c.byKey.get(to));
    const edge = svg("g", {class: "edge", "data-edge": `${from}-${to}`});
    // A line and an arrowhead at the receiving box: a result flows from left to right.
    const [ex, ey] = [x2, y2 + BOX_H / 2], angle = Math.atan2(ey - (y1 + BOX_H / 2), ex - (x1 + BOX_W));
    const tip = (da) => `${ex - 8 * Math.cos(angle + da)} ${ey - 8 * Math.sin(angle + da)}`;
    edge.append(svg("path", {class: "edge-line", d: `M${x1 + BOX_W} ${y1 + BOX_H / 2} L${ex} ${ey}`}),
      svg("path", {class: "edge-tip", d: `M${tip(0.45)} L${ex} ${ey} L${tip(-0.45)} z`}));
    graph.append(edge);
  }
  for (const n of c.nodes) {
    const [x, y] = at(n);
    const g = svg("g", {class: "node", "data-node": n.key, "data-role": n.role});
    g.append(svg("title"), svg("rect", {x, y, width: BOX_W, height: BOX_H, rx: 7}),
      svg("text", {x: x + 8, y: y + 16, class: "node-label"}, n.label),
      svg("text", {x: x + 8, y: y + 32, class: "node-state"}));
    graph.append(g);
    n.g = g;
  }
  return graph;
}

function updateGraph(c) {
  for (const n of c.nodes) {
    const s = nodeState(n);
    n.g.dataset.state = s;
    n.g.querySelector(".node-state").textContent = s === "succeeded"
      ? say("node_succeeded", {result: n.events.succeeded.fields.result}) : stateWord(s);
    n.g.querySelector("title").textContent = `${n.label}: ${describe(n)}`;
  }
  for (const path of c.graph.querySelectorAll(".edge")) {
    const [from] = path.dataset.edge.split("-");
    path.classList.toggle("lit", Boolean(c.byKey.get(from).events.succeeded));
  }
}

// ---- the timeline -----------------------------------------------------------------------
const LABEL_W = 76, LANE_H = 28, TL_W = 560;

function updateTimeline(c) {
  const stamps = c.nodes.flatMap((n) => Object.values(n.events).map((e) => e.timestamp));
  const box = c.timeline;
  box.replaceChildren();
  if (!stamps.length) {
    box.append(el("p", {class: "timeline-empty"}, say("timeline_empty")));
    return;
  }
  const t0 = Math.min(...stamps), t1 = Math.max(...stamps, t0 + 1);
  const x = (t) => LABEL_W + ((t - t0) / (t1 - t0)) * (TL_W - LABEL_W - 8);
  const lanes = [];  // thread names in order of first use
  for (const n of c.nodes) if (n.thread && !lanes.includes(n.thread)) lanes.push(n.thread);
  lanes.sort((a, b) => laneStart(c, a) - laneStart(c, b));
  const height = 22 + lanes.length * LANE_H;
  const chart = svg("svg", {class: "canvas-timeline", viewBox: `0 0 ${TL_W} ${height}`,
    role: "img", "aria-label": say.count("timeline_label", lanes.length, {shape: c.shape})});
  // One tick a second, counted from the first event.
  for (let s = 0; s <= t1 - t0; s += 1) {
    chart.append(svg("line", {class: "tick", x1: x(t0 + s), x2: x(t0 + s), y1: 14, y2: height}),
      svg("text", {class: "tick-label", x: x(t0 + s), y: 10, "text-anchor": "middle"}, say("tick", {s})));
  }
  lanes.forEach((thread, i) => {
    const y = 18 + i * LANE_H;
    const lane = svg("g", {class: "lane", "data-thread": thread});
    lane.append(svg("text", {class: "lane-label", x: 2, y: y + 17}, thread));
    for (const n of c.nodes.filter((m) => m.thread === thread)) {
      const sent = n.events.sent, start = n.events.started || n.events.progress;
      const end = n.events.succeeded || n.events.failed;
      const last = end ? end.timestamp : n.lastStamp;
      if (sent && start) {
        // Queue wait: sent to started, drawn as a thin line before the bar.
        lane.append(svg("line", {class: "wait", "data-task": n.key,
          x1: x(sent.timestamp), x2: x(start.timestamp), y1: y + 12, y2: y + 12}));
      }
      const bar = svg("rect", {class: "run", "data-task": n.key, "data-state": nodeState(n),
        x: x(start.timestamp), y: y + 2, height: LANE_H - 8,
        width: Math.max(2, x(last) - x(start.timestamp))});
      bar.append(svg("title", {}, `${n.label}: ${describe(n)}`));
      lane.append(bar, svg("text", {class: "run-label", x: x(start.timestamp) + 4, y: y + 17}, n.key === "body" ? say("body") : say("step", {n: n.key.slice(1)})));
    }
    chart.append(lane);
  });
  box.append(chart);
}

function laneStart(c, thread) {
  return Math.min(...c.nodes.filter((n) => n.thread === thread)
    .map((n) => (n.events.started || n.events.progress).timestamp));
}

// ---- wiring -----------------------------------------------------------------------------
function draw(panel, body) {
  const c = {shape: body.canvas.shape, edges: body.canvas.edges, byKey: new Map()};
  c.nodes = body.canvas.nodes.map((n) => ({...n, events: {}, thread: null, lastStamp: null}));
  for (const n of c.nodes) { c.byKey.set(n.key, n); byTask.set(n.task_id, {canvas: c, node: n}); }
  const figure = el("figure", {class: "canvas-view", "data-shape": c.shape});
  c.graph = drawGraph(c);
  c.timeline = el("div", {class: "timeline"});
  c.status = el("p", {class: "canvas-status", role: "status"});
  figure.append(el("figcaption", {}, say("caption")), c.graph,
    el("p", {class: "timeline-head"}, say("timeline_head")),
    c.timeline, c.status);
  panel.querySelector(".outcome").append(figure);
  for (const n of c.nodes) {
    for (const msg of early.get(n.task_id) || []) onTask(msg);
    early.delete(n.task_id);
  }
  refresh(c);
}

function refresh(c) {
  updateGraph(c);
  updateTimeline(c);
  const states = c.nodes.map(nodeState);
  const done = states.every((s) => isFinal(s) || s === "never-ran");
  const last = c.nodes[c.nodes.length - 1];
  c.status.textContent = !done
    ? say("status_running", {finished: states.filter(isFinal).length, total: c.nodes.length})
    : states.includes("failed") ? say("status_failed", {label: last.label, what: describe(last)})
    : c.shape === "group"
      ? say("status_group", {results: c.nodes.map((n) => n.events.succeeded.fields.result).join(", ")})
      : say("status_done", {shape: c.shape, result: last.events.succeeded.fields.result});
  c.status.dataset.done = done ? "yes" : "";
}

// Tasks that never ran send no events; the result backend knows what became of them.
function askBackend(c) {
  const unknown = c.nodes.filter((n) => !Object.keys(n.events).some(isFinal) && !n.backend);
  if (unknown.length) sendWs({action: "sync", task_ids: unknown.map((n) => n.task_id)});
}

function onTask(msg) {
  const hit = byTask.get(msg.task_id);
  if (!hit) {
    if (early.size > 200) early.delete(early.keys().next().value);
    early.set(msg.task_id, [...(early.get(msg.task_id) || []), msg]);
    return;
  }
  const {canvas: c, node: n} = hit;
  if (KEPT.has(msg.state) && (!n.events[msg.state] || msg.state === "progress")) n.events[msg.state] = msg;
  if (msg.fields && msg.fields.thread) n.thread = n.thread || msg.fields.thread;
  n.lastStamp = Math.max(n.lastStamp || 0, msg.timestamp || 0);
  if (isFinal(msg.state) && c.nodes.some((m) => m !== n && !m.events.sent)) {
    // A chord's body is failed in the backend once the last header task is done: ask again
    // a little later in case this event raced ahead of that write.
    askBackend(c);
    setTimeout(() => askBackend(c), 1000);
  }
  refresh(c);
}

function onSnapshot(entry) {
  const hit = byTask.get(entry.task_id);
  if (!hit || entry.state !== "failed" || Object.keys(hit.node.events).length) return;
  hit.node.backend = "failed";
  hit.node.error = entry.error;
  refresh(hit.canvas);
}

document.addEventListener("celerylab:outcome", (e) => {
  const body = e.detail || {};
  if (body.canvas && e.target.closest) draw(e.target.closest(".experiment"), body);
});
document.addEventListener("celerylab:message", (e) => {
  const msg = e.detail || {};
  if (msg.type === "task") onTask(msg);
  else if (msg.type === "snapshot") (msg.tasks || []).forEach(onSnapshot);
});
