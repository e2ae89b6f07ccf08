// The path a task takes, drawn on its card and lit as its real events arrive:
// sent lights web -> broker, received lights broker -> worker, started/progress light the
// worker, succeeded/failed light the way back (result and events, through Redis, to this page).
(() => {
  "use strict";

  const NS = "http://www.w3.org/2000/svg";
  const NODES = [
    {id: "web", label: "web", x: 2},
    {id: "broker", label: "broker", x: 128},
    {id: "worker", label: "worker", x: 254},
  ];
  const W = 64, H = 30, Y = 6;  // node size and top: segment coordinates below follow them
  // id, line, arrow tip, label, label x, label y. Tips are drawn, not SVG markers: a marker
  // cannot take the colour of the line that uses it, and the colour is the whole point here.
  const SEGMENTS = [
    ["send", "M66 21 H121", "M120 16 L127 21 L120 26 z", "sent", 97, 15],
    ["deliver", "M192 21 H247", "M246 16 L253 21 L246 26 z", "received", 223, 15],
    ["return", "M286 36 V58 H34 V43", "M29 44 L34 37 L39 44 z",
     "result + events back to this page", 160, 72],
  ];

  function svg(tag, attrs = {}, text = "") {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text) node.textContent = text;
    return node;
  }

  function create() {
    const root = svg("svg", {class: "path", viewBox: "0 0 320 78", role: "img",
                             "aria-label": describe(null)});
    for (const [id, d, tip, label, lx, ly] of SEGMENTS) {
      const g = svg("g", {class: "path-seg", "data-seg": id});
      g.append(svg("path", {d, class: "line"}), svg("path", {d: tip, class: "tip"}),
               svg("text", {x: lx, y: ly, "text-anchor": "middle"}, label));
      root.append(g);
    }
    for (const n of NODES) {
      const g = svg("g", {class: "path-node", "data-node": n.id});
      g.append(svg("rect", {x: n.x, y: Y, width: W, height: H, rx: 6}),
               svg("text", {x: n.x + W / 2, y: Y + H / 2 + 4, "text-anchor": "middle"}, n.label));
      root.append(g);
    }
    return root;
  }

  const ORDER = ["sent", "received", "started", "progress", "retry", "succeeded", "failed",
                 "rejected", "revoked"];

  // What each part of the drawing should show for a task in `state` (see lab.js STATES).
  function stages(state, holding) {
    const reached = (s) => ORDER.indexOf(state) >= ORDER.indexOf(s);
    const done = ["succeeded", "failed", "rejected", "revoked"].includes(state);
    const bad = ["failed", "rejected", "revoked"].includes(state);
    return {
      send: Boolean(state),
      deliver: state && state !== "sent",
      worker: done ? "done" : reached("started") ? (state === "retry" ? "retry" : "busy")
        : holding ? "holding" : "",
      back: done ? (bad ? "failed" : "done") : "",
    };
  }
  function describe(state, holding) {
    if (!state) return "Path of this task: nothing sent yet.";
    const s = stages(state, holding);
    const worker = {done: "finished", busy: "running it", retry: "retrying it",
                    holding: "holding it until its start time", "": "not reached"}[s.worker];
    const back = {done: "the result came back", failed: "the failure came back",
                  "": "nothing back yet"}[s.back];
    return `Path of this task: web to broker ${s.send ? "done" : "not yet"}; ` +
      `broker to worker ${s.deliver ? "done" : "not yet"}; worker ${worker}; ${back}.`;
  }

  function update(root, state, holding = false) {
    const s = stages(state, holding);
    root.querySelector('[data-seg="send"]').classList.toggle("lit", s.send);
    root.querySelector('[data-seg="deliver"]').classList.toggle("lit", Boolean(s.deliver));
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

  window.CeleryLabPath = {create, update, describe};
})();
