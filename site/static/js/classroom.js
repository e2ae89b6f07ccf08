// The instructor's screens: the class list, and the projector view with its controls.
// Everything drawn here comes from the server: a snapshot on connect, then live messages on
// the projector websocket. Controls are plain POSTs; each says on screen what happened.
(() => {
  "use strict";

  const STATES = ["sent", "purged", "received", "started", "progress", "retry", "succeeded",
                  "failed", "rejected", "revoked"];
  const RANK = Object.fromEntries(STATES.map((s, i) => [s, i]));
  const FINAL = new Set(["succeeded", "failed", "rejected", "revoked"]);
  const STATE_WORDS = {sent: "in queue", purged: "purged", received: "taken",
                       started: "running", progress: "running", retry: "retrying",
                       succeeded: "succeeded", failed: "failed", rejected: "rejected",
                       revoked: "revoked"};
  const FEED_ROWS = 40;
  const CHART_SECONDS = 120;

  function el(tag, attrs = {}, text = "") {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== "") node.textContent = text;
    return node;
  }
  const clock = (t) => new Date(t * 1000).toLocaleTimeString([], {hour12: false});

  // A POST that never hangs: after 10 s it gives up and says so.
  async function post(path, body) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 10000);
    try {
      const res = await fetch(path, {method: "POST", credentials: "same-origin", signal: abort.signal,
        headers: {"Content-Type": "application/json"}, body: JSON.stringify(body || {})});
      let data = {};
      try { data = await res.json(); } catch (_) { data = {message: `The site answered ${res.status}.`}; }
      return {ok: res.ok, data};
    } catch (err) {
      const message = err.name === "AbortError" ? "The site did not answer within 10 s." : "The site could not be reached.";
      return {ok: false, data: {message}};
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- the class list ---------------------------------------------------------------------
  const openButton = document.getElementById("open-class");
  if (openButton) {
    openButton.addEventListener("click", async () => {
      openButton.disabled = true;
      const {ok, data} = await post("/api/classroom/classes");
      if (ok) { location.href = data.url; return; }
      openButton.disabled = false;
      const status = document.getElementById("dashboard-status");
      status.textContent = data.message;
      status.classList.add("error");
    });
  }

  const root = document.querySelector(".projector");
  if (!root) return;

  // ---- the projector ----------------------------------------------------------------------
  const code = root.dataset.code;
  const api = (action) => `/api/classroom/${code}/${action}`;
  const state = {questions: new Map(), selected: null, lesson: null, panel: null, depth: [],
                 rows: new Map(), gone: new Set()};
  const $ = (id) => document.getElementById(id);
  const connBadge = $("conn");
  const status = $("pj-control-status");

  function say(text, bad) {
    status.textContent = text;
    status.classList.toggle("error", Boolean(bad));
    status.setAttribute("role", bad ? "alert" : "status");
  }

  function setConn(text, ok) {
    connBadge.textContent = text;
    connBadge.dataset.ok = ok ? "yes" : "no";
  }

  // -- counters and members
  function showCounters(counters) {
    for (const box of root.querySelectorAll(".pj-counter")) {
      const value = counters[box.dataset.counter] || 0;
      const num = box.querySelector(".pj-num");
      if (num.textContent !== String(value)) {
        num.textContent = String(value);
        box.classList.remove("bump");
        void box.offsetWidth;  // restart the animation
        box.classList.add("bump");
      }
      box.classList.toggle("zero", value === 0);
    }
  }

  function showMembers(names) {
    $("pj-members-count").textContent = String(names.length);
    $("pj-members-label").textContent = names.length === 1 ? "learner joined" : "learners joined";
    $("pj-overlay-count").textContent = `${names.length} joined so far.`;
    $("pj-names").replaceChildren(...names.map((n) => {
      const item = el("li", {}, n);
      // The instructor can take someone out of the class (a made-up or unwelcome nickname).
      const remove = el("button", {type: "button", class: "pj-remove", "aria-label": `Remove ${n}`,
                                   "data-nickname": n}, "×");
      item.append(" ", remove);
      return item;
    }));
  }
  $("pj-names").addEventListener("click", (e) => {
    const button = e.target.closest(".pj-remove");
    if (!button) return;
    const nickname = button.dataset.nickname;
    control(button, "members/remove", {nickname}, () => `${nickname} is no longer in the class.`);
  });

  function showClass(info) {
    const moved = state.lesson !== info.lesson;
    state.lesson = info.lesson;
    root.dataset.status = info.status;
    $("pj-class-status").textContent = info.status === "open" ? "Open" : "Closed: nobody can join";
    $("pj-lesson").value = info.lesson || "";
    // A new lesson brings its own questions, unless the instructor picked one by hand.
    if (moved && !state.pickedByHand && state.questions.size) chooseDefaultQuestion();
  }

  // -- the task feed: one row per task, updated in place as its events arrive
  function onTaskEvent(e) {
    let row = state.rows.get(e.task_id);
    if (!row && state.gone.has(e.task_id)) return;  // scrolled off: newer tasks took its place
    if (!row) {
      row = {el: el("li", {class: "pj-row", "data-task-id": e.task_id}), state: null};
      row.el.append(el("time", {class: "pj-when"}, clock(e.at)), el("span", {class: "pj-who"}, e.who),
                    el("span", {class: "pj-task"}, (e.experiment || e.task).replace(/^classroom\./, "")), el("span", {class: "pj-state"}),
                    el("span", {class: "pj-extra"}));
      state.rows.set(e.task_id, row);
      $("pj-feed").prepend(row.el);
      while (state.rows.size > FEED_ROWS) {
        const [oldest] = state.rows.keys();
        state.rows.get(oldest).el.remove();
        state.rows.delete(oldest);
        state.gone.add(oldest);
        if (state.gone.size > 5000) state.gone.delete(state.gone.values().next().value);
      }
    }
    const forward = row.state === null || (!FINAL.has(row.state) &&
      (RANK[e.state] > RANK[row.state] || (row.state === "retry" && e.state !== "sent")));
    if (forward) row.state = e.state;
    row.el.dataset.state = row.state;
    row.el.querySelector(".pj-state").textContent = STATE_WORDS[row.state] || row.state;
    let extra = "";
    if (row.state === "progress" && e.progress) extra = `${e.progress[0]}/${e.progress[1]}`;
    if (e.eta && !FINAL.has(row.state) && RANK[row.state] < RANK.started) extra = `countdown until ${new Date(e.eta).toLocaleTimeString([], {hour12: false})}`;
    if (e.error) extra = e.error;
    if (forward || extra) row.el.querySelector(".pj-extra").textContent = extra;
  }

  // -- answers
  function questionLabel(q) {
    const where = q.lesson ? `L${q.lesson}` : "Myth";
    return `${where} · ${q.id} · ${q.tally.total} answered`;
  }

  function fillQuestionPicker() {
    const pick = $("pj-question");
    const keep = state.selected;
    pick.replaceChildren();
    for (const q of state.questions.values()) pick.append(el("option", {value: q.id}, questionLabel(q)));
    if (keep && state.questions.has(keep)) pick.value = keep;
    else chooseDefaultQuestion();
  }

  function chooseDefaultQuestion() {
    const lessonNumber = (() => {
      const opt = [...$("pj-lesson").options].find((o) => o.value === state.lesson);
      return opt ? parseInt(opt.textContent, 10) : null;
    })();
    const all = [...state.questions.values()];
    const pick = all.find((q) => q.lesson === lessonNumber) || all.find((q) => q.tally.total > 0) || all[0];
    state.selected = pick ? pick.id : null;
    if (pick) $("pj-question").value = pick.id;
    drawQuestion();
  }

  function drawQuestion() {
    const box = $("pj-question-body");
    const q = state.questions.get(state.selected);
    const reveal = $("pj-reveal");
    if (!q) {
      box.replaceChildren(el("p", {class: "pj-muted"}, "No questions yet."));
      reveal.disabled = true;
      return;
    }
    reveal.disabled = false;
    reveal.setAttribute("aria-pressed", String(q.revealed));
    reveal.textContent = q.revealed ? "Hide answer" : "Reveal answer";
    const prompt = el("div", {class: "pj-prompt"});
    prompt.innerHTML = q.prompt_html;  // rendered by the server from our own question files
    const bars = el("ol", {class: "pj-bars"});
    const most = Math.max(1, ...Object.values(q.tally.counts));
    for (const choice of q.choices) {
      const n = q.tally.counts[choice.key] || 0;
      const li = el("li", {class: "pj-bar", "data-choice": choice.key});
      if (q.revealed) li.classList.add(choice.key === q.answer ? "correct" : "wrong");
      const label = el("div", {class: "pj-bar-label"});
      // Each learner sees the choices in their own order and letters, so the projector labels
      // them by text alone (the tally is by choice id, whatever letter a learner saw).
      label.append(el("strong", {}, "• "));
      const text = el("span");
      text.innerHTML = choice.html;
      label.append(text);
      if (q.revealed && choice.key === q.answer) label.append(el("span", {class: "pj-correct"}, " ✓ correct"));
      const track = el("div", {class: "pj-track"});
      const fill = el("div", {class: "pj-fill"});
      fill.style.width = `${(100 * n) / most}%`;
      track.append(fill, el("span", {class: "pj-count"}, String(n)));
      li.append(label, track);
      bars.append(li);
    }
    const foot = el("p", {class: "pj-muted"}, `${q.tally.total} answered` + (q.tally.skipped ? `, ${q.tally.skipped} chose to see it without answering` : ""));
    box.replaceChildren(prompt, bars, foot);
  }

  function onQuestion(q) {
    state.questions.set(q.id, q);
    const option = [...$("pj-question").options].find((o) => o.value === q.id);
    if (option) option.textContent = questionLabel(q);
    if (q.id === state.selected) drawQuestion();
  }

  // -- the worker panel
  function drawDepth() {
    const svg = $("pj-depth-chart");
    const now = Date.now() / 1000;
    const points = state.depth.filter(([t]) => t > now - CHART_SECONDS);
    const top = Math.max(5, ...points.map(([, d]) => d));
    const xy = points.map(([t, d]) => `${((t - (now - CHART_SECONDS)) / CHART_SECONDS * 600).toFixed(1)},${(135 - (d / top) * 125).toFixed(1)}`);
    const ns = "http://www.w3.org/2000/svg";
    const area = document.createElementNS(ns, "polygon");
    const line = document.createElementNS(ns, "polyline");
    if (xy.length) {
      area.setAttribute("points", `${xy[0].split(",")[0]},135 ${xy.join(" ")} ${xy[xy.length - 1].split(",")[0]},135`);
      line.setAttribute("points", xy.join(" "));
    }
    area.setAttribute("class", "pj-area");
    line.setAttribute("class", "pj-line");
    svg.replaceChildren(area, line);
    $("pj-depth-max").textContent = `top of chart: ${top}`;
    const last = points[points.length - 1];
    $("pj-depth-now").textContent = last ? String(last[1]) : "–";
  }

  function drawWorkers(panel) {
    const list = $("pj-workers");
    const pill = $("pj-worker-state");
    if (!panel) return;
    const workers = panel.workers || [];
    list.replaceChildren(...workers.map((w) => {
      const li = el("li", {"data-worker": w.worker});
      const paused = w.consuming === false;
      li.append(el("strong", {}, w.worker), el("span", {}, `${w.pool} × ${w.concurrency}`),
                el("span", {}, `running ${w.active}`), el("span", {}, `held ${(w.reserved || 0) + (w.scheduled || 0)}`),
                el("span", {class: paused ? "paused" : "taking"}, paused ? "PAUSED" : "taking tasks"));
      return li;
    }));
    if (panel.error || !workers.length) {
      pill.textContent = panel.error ? "cannot ask" : "no worker answered";
      pill.dataset.tone = "bad";
    } else if (workers.every((w) => w.consuming === false)) {
      pill.textContent = "paused";
      pill.dataset.tone = "warn";
    } else {
      pill.textContent = `${workers.length} alive`;
      pill.dataset.tone = "ok";
    }
    const size = $("pj-pool-size");
    if (workers.length && document.activeElement !== size) size.value = workers[0].concurrency;
  }

  // -- the socket
  function onHello(snap) {
    showClass(snap.class);
    showMembers(snap.members);
    showCounters(snap.counters);
    state.questions = new Map(snap.questions.map((q) => [q.id, q]));
    fillQuestionPicker();
    state.rows.forEach((r) => r.el.remove());
    state.rows.clear();
    snap.events.forEach(onTaskEvent);
    state.depth = snap.workers.depth || [];
    drawDepth();
    state.panel = snap.workers.panel;
    drawWorkers(state.panel);
    if (!snap.members.length && snap.class.status === "open") $("pj-overlay").hidden = false;
  }

  function onMessage(msg) {
    switch (msg.type) {
      case "hello": onHello(msg); break;
      case "class-tasks": msg.events.forEach(onTaskEvent); showCounters(msg.counters); break;
      case "counters": showCounters(msg.counters); break;
      case "workers":
        if (msg.error) { $("pj-worker-state").textContent = msg.error; break; }
        if (msg.depth && (!state.depth.length || msg.depth[0] > state.depth[state.depth.length - 1][0])) state.depth.push(msg.depth);
        if (state.depth.length > 400) state.depth.splice(0, state.depth.length - 400);
        drawDepth();
        if ("panel" in msg) { state.panel = msg.panel; drawWorkers(msg.panel); }
        break;
      case "tally": onQuestion(msg.question); break;
      case "members": showMembers(msg.members); break;
      case "class": showClass(msg.class); break;
      case "control": say(msg.message, false); break;
      default: break;
    }
  }

  let backoff = 250;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(`${scheme}${location.host}/classroom/${code}/ws`);
    ws.onopen = () => { backoff = 250; setConn("live", true); };
    ws.onmessage = (e) => { try { onMessage(JSON.parse(e.data)); } catch (err) { console.error(err); } };
    ws.onclose = () => {
      setConn("reconnecting…", false);
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
  }

  // -- controls
  const asInt = (input) => (/^\s*\d+\s*$/.test(input.value) ? Number(input.value) : input.value);

  async function control(button, action, body, done) {
    const name = button.tagName === "SELECT" ? "Moving the class" : button.textContent.trim().replace(/…$/, "");
    button.disabled = true;
    say(`${name}…`, false);
    const {ok, data} = await post(api(action), body);
    button.disabled = false;
    if (ok) say(done ? done(data) : data.message, false);
    else say(`${name} did not work: ${data.message}`, true);
    return ok;
  }

  function currentPool() {
    const w = state.panel && state.panel.workers && state.panel.workers[0];
    return w ? w.concurrency : asInt($("pj-pool-size"));
  }

  root.querySelector(".pj-controls").addEventListener("click", (e) => {
    const button = e.target.closest("[data-control]");
    if (!button) return;
    const which = button.dataset.control;
    if (which === "pause" || which === "resume") control(button, which);
    else if (which === "pool") control(button, "pool", {size: asInt($("pj-pool-size"))});
    else if (which === "pool-up" || which === "pool-down") {
      const size = currentPool() + (which === "pool-up" ? 1 : -1);
      $("pj-pool-size").value = size;
      control(button, "pool", {size});
    } else if (which === "burst") {
      control(button, "burst", {count: asInt($("pj-burst-count")), seconds: asInt($("pj-burst-seconds"))});
    } else if (which === "purge") {
      if (confirm("Delete every task waiting in the queue? Tasks already running finish.")) {
        control(button, "purge", {confirm: true});
      }
    }
  });

  $("pj-close").addEventListener("click", async (e) => {
    if (!confirm("Close the class? Nobody can join after this; the results stay for export.")) return;
    control(e.currentTarget, "close", {}, () => "The class is closed. Its results stay for export.");
  });
  $("pj-lesson").addEventListener("change", (e) => {
    const slug = e.target.value || null;
    control(e.target, "lesson", {lesson: slug}, () => slug ? "The class was offered this lesson." : "No lesson is set.");
  });
  $("pj-question").addEventListener("change", (e) => {
    state.selected = e.target.value;
    state.pickedByHand = true;
    drawQuestion();
  });
  $("pj-reveal").addEventListener("click", (e) => {
    const q = state.questions.get(state.selected);
    if (q) control(e.currentTarget, "reveal", {question: q.id, shown: !q.revealed}, () => "");
  });
  $("pj-show-join").addEventListener("click", () => { $("pj-overlay").hidden = false; });
  $("pj-hide-join").addEventListener("click", () => { $("pj-overlay").hidden = true; });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") $("pj-overlay").hidden = true; });
  setInterval(drawDepth, 1000);  // the chart scrolls even when nothing changes

  connect();
})();
