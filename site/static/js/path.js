// The path a task takes, drawn on its card and lit as its real events arrive:
// sent lights web -> broker, received lights broker -> worker, started/progress light the
// worker, succeeded/failed light the way back (result and events, through Redis, to this page).
// The drawing itself is the page's <template id="task-path"> (site/templates/_task_card.html).
import {fromTemplate, words} from "./lib/dom.js";
import {isFinal, reached} from "./lib/lifecycle.js";

const say = words("path");

// What each part of the drawing should show for a task in `state`.
function stages(state, holding) {
  const done = isFinal(state);
  const bad = done && state !== "succeeded";
  return {
    send: Boolean(state),
    deliver: Boolean(state) && state !== "sent",
    worker: done ? "done" : reached(state, "started") ? (state === "retry" ? "retry" : "busy")
      : holding ? "holding" : "",
    back: done ? (bad ? "failed" : "done") : "",
  };
}

export function describe(state, holding) {
  if (!state) return say("nothing");
  const s = stages(state, holding);
  return say("described", {
    send: say(s.send ? "done" : "not_yet"),
    deliver: say(s.deliver ? "done" : "not_yet"),
    worker: say(`worker_${s.worker || "none"}`),
    back: say(`back_${s.back || "none"}`),
  });
}

export function create() {
  const root = fromTemplate("task-path");
  root.setAttribute("aria-label", describe(null));
  return root;
}

export function update(root, state, holding = false) {
  const s = stages(state, holding);
  root.querySelector('[data-seg="send"]').classList.toggle("lit", s.send);
  root.querySelector('[data-seg="deliver"]').classList.toggle("lit", s.deliver);
  root.querySelector('[data-node="web"]').classList.toggle("lit", s.send);
  root.querySelector('[data-node="broker"]').classList.toggle("lit", s.send);
  const worker = root.querySelector('[data-node="worker"]');
  worker.classList.toggle("lit", Boolean(s.worker));
  worker.dataset.stage = s.worker;
  const back = root.querySelector('[data-seg="return"]');
  back.classList.toggle("lit", Boolean(s.back));
  back.dataset.stage = s.back;
  root.dataset.state = state || "";
  root.setAttribute("aria-label", describe(state, holding));
}
