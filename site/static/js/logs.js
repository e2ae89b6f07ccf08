// Chapter 9: the lines a task logs, as the worker writes them, under the button that sent it.
// Each line arrives as a `task-log` event (web/live/protocol.py: state "log") through the same
// websocket as the task's lifecycle events; nothing here is made up in the browser.
(() => {
  "use strict";

  const panes = new Map();  // task id -> <ol> of its lines
  const early = new Map();  // lines that beat the HTTP answer naming their task

  function add(list, msg) {
    const f = msg.fields || {};
    const li = document.createElement("li");
    li.dataset.level = String(f.level || "");
    li.textContent = String(f.line || f.message || "");
    list.append(li);
    while (list.children.length > 100) list.firstChild.remove();
  }

  document.addEventListener("celerylab:outcome", (e) => {
    const body = e.detail || {};
    const panel = e.target.closest && e.target.closest('.experiment[data-experiment="lesson9.logs"]');
    if (!panel || !body.task_id) return;
    const head = document.createElement("p");
    head.className = "task-log-head";
    head.textContent = "The worker's log, for this task only:";
    const list = document.createElement("ol");
    list.className = "task-log";
    list.setAttribute("aria-label", "Log lines of task " + body.task_id.slice(0, 8));
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
})();
