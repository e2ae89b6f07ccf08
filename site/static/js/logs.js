// Chapter 9: the lines a task logs, as the worker writes them, under the button that sent it.
// Each line arrives as a `task-log` event (web/live/protocol.py: state "log") through the same
// websocket as the task's lifecycle events; nothing here is made up in the browser.
import {el, words} from "./lib/dom.js";

const say = words("logs");
const panes = new Map();  // task id -> <ol> of its lines
const early = new Map();  // lines that beat the HTTP answer naming their task

function add(list, msg) {
  const f = msg.fields || {};
  list.append(el("li", {"data-level": String(f.level || "")}, String(f.line || f.message || "")));
  while (list.children.length > 100) list.firstChild.remove();
}

document.addEventListener("celerylab:outcome", (e) => {
  const body = e.detail || {};
  const panel = e.target.closest && e.target.closest('.experiment[data-experiment="lesson9.logs"]');
  if (!panel || !body.task_id) return;
  const head = el("p", {class: "task-log-head"}, say("head"));
  const list = el("ol", {class: "task-log", "aria-label": say("label", {id: body.task_id.slice(0, 8)})});
  panel.querySelector(".outcome").append(head, list);
  panes.set(body.task_id, list);
  for (const msg of early.get(body.task_id) || []) add(list, msg);
  early.delete(body.task_id);
});

document.addEventListener("celerylab:message", (e) => {
  const msg = e.detail || {};
  if (msg.type !== "task" || msg.state !== "log") return;
  const list = panes.get(msg.task_id);
  if (list) { add(list, msg); return; }
  if (early.size > 50) early.delete(early.keys().next().value);
  early.set(msg.task_id, [...(early.get(msg.task_id) || []), msg]);
});
