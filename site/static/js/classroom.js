// The instructor's screens: the class list, and the projector view with its controls.
// Everything drawn here comes from the server: a snapshot on connect, then live messages on
// the projector websocket. Controls are plain POSTs; each says on screen what happened.
import {el, svg, words} from "./lib/dom.js";
import {postJson} from "./lib/http.js";
import {LABELS, advances, isFinal, reached} from "./lib/lifecycle.js";
import {connectionBadge, liveSocket} from "./lib/socket.js";

const say = words("projector");
const FEED_ROWS = 40;
const CHART_SECONDS = 120;
const clock = (t) => new Date(t * 1000).toLocaleTimeString([], {hour12: false});
// A POST that never hangs: after 10 s it gives up and says so.
const post = (path, body) => postJson(path, body || {}, {timeoutMs: 10000});

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

const projector = document.querySelector(".projector");
if (projector) showProjector(projector);

// ---- the projector ----------------------------------------------------------------------
function showProjector(root) {
  const code = root.dataset.code;
  const api = (action) => `/api/classroom/${code}/${action}`;
  const state = {questions: new Map(), selected: null, lesson: null, panel: null, depth: [],
                 rows: new Map(), gone: new Set()};
  const $ = (id) => document.getElementById(id);
  const setConn = connectionBadge($("conn"), words("conn"));
  const status = $("pj-control-status");
  const overlay = $("pj-overlay");

  function tell(text, bad) {
    status.textContent = text;
    status.classList.toggle("error", Boolean(bad));
    status.setAttribute("role", bad ? "alert" : "status");
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
    $("pj-members-label").textContent = say.count("members", names.length);
    $("pj-overlay-count").textContent = say("joined_so_far", {n: names.length});
    $("pj-names").replaceChildren(...names.map((n) => {
      const item = el("li", {}, n);
      // The instructor can take someone out of the class (a made-up or unwelcome nickname).
      const remove = el("button", {type: "button", class: "pj-remove", "aria-label": say("remove", {name: n}),
                                   "data-nickname": n}, "×");
      item.append(" ", remove);
      return item;
    }));
  }
  $("pj-names").addEventListener("click", (e) => {
    const button = e.target.closest(".pj-remove");
    if (!button) return;
    const nickname = button.dataset.nickname;
    control(button, "members/remove", {nickname}, () => say("removed", {name: nickname}));
  });

  function showClass(info) {
    const moved = state.lesson !== info.lesson;
    state.lesson = info.lesson;
    root.dataset.status = info.status;
    $("pj-class-status").textContent = say(info.status === "open" ? "class_open" : "class_closed");
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
    const forward = advances(row.state, e.state);
    if (forward) row.state = e.state;
    row.el.dataset.state = row.state;
    row.el.querySelector(".pj-state").textContent = LABELS[row.state] || row.state;
    let extra = "";
    if (row.state === "progress" && e.progress) extra = `${e.progress[0]}/${e.progress[1]}`;
    if (e.eta && !isFinal(row.state) && !reached(row.state, "started")) {
      extra = say("countdown_until", {time: new Date(e.eta).toLocaleTimeString([], {hour12: false})});
    }
    if (e.error) extra = e.error;
    if (forward || extra) row.el.querySelector(".pj-extra").textContent = extra;
  }

  // -- answers
  function questionLabel(q) {
    const where = q.lesson ? say("where_lesson", {n: q.lesson}) : say("where_myth");
    return say("question_label", {where, id: q.id, total: q.tally.total});
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
      box.replaceChildren(el("p", {class: "pj-muted"}, say("no_questions")));
      reveal.disabled = true;
      return;
    }
    reveal.disabled = false;
    reveal.setAttribute("aria-pressed", String(q.revealed));
    reveal.textContent = say(q.revealed ? "hide_answer" : "reveal_answer");
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
      if (q.revealed && choice.key === q.answer) label.append(el("span", {class: "pj-correct"}, " " + say("correct")));
      const track = el("div", {class: "pj-track"});
      const fill = el("div", {class: "pj-fill"});
      fill.style.width = `${(100 * n) / most}%`;
      track.append(fill, el("span", {class: "pj-count"}, String(n)));
      li.append(label, track);
      bars.append(li);
    }
    const foot = el("p", {class: "pj-muted"}, q.tally.skipped
      ? say("answered_skipped", {total: q.tally.total, skipped: q.tally.skipped})
      : say("answered", {total: q.tally.total}));
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
    const chart = $("pj-depth-chart");
    const now = Date.now() / 1000;
    const points = state.depth.filter(([t]) => t > now - CHART_SECONDS);
    const top = Math.max(5, ...points.map(([, d]) => d));
    const xy = points.map(([t, d]) => `${((t - (now - CHART_SECONDS)) / CHART_SECONDS * 600).toFixed(1)},${(135 - (d / top) * 125).toFixed(1)}`);
    const area = svg("polygon");
    const line = svg("polyline");
    if (xy.length) {
      area.setAttribute("points", `${xy[0].split(",")[0]},135 ${xy.join(" ")} ${xy[xy.length - 1].split(",")[0]},135`);
      line.setAttribute("points", xy.join(" "));
    }
    area.setAttribute("class", "pj-area");
    line.setAttribute("class", "pj-line");
    chart.replaceChildren(area, line);
    $("pj-depth-max").textContent = say("chart_top", {top});
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
      li.append(el("strong", {}, w.worker), el("span", {}, say("pool", {pool: w.pool, n: w.concurrency})),
                el("span", {}, say("running", {n: w.active})),
                el("span", {}, say("held", {n: (w.reserved || 0) + (w.scheduled || 0)})),
                el("span", {class: paused ? "paused" : "taking"}, say(paused ? "paused_worker" : "taking")));
      return li;
    }));
    if (panel.error || !workers.length) {
      pill.textContent = say(panel.error ? "cannot_ask" : "no_worker");
      pill.dataset.tone = "bad";
    } else if (workers.every((w) => w.consuming === false)) {
      pill.textContent = say("paused");
      pill.dataset.tone = "warn";
    } else {
      pill.textContent = say("alive", {n: workers.length});
      pill.dataset.tone = "ok";
    }
    const size = $("pj-pool-size");
    if (workers.length && document.activeElement !== size) size.value = workers[0].concurrency;
  }

  // -- the socket
  function onHello(snap) {
    showClass(snap.class);
    $("pj-lesson").disabled = false;  // the page now knows the class's lesson, and listens
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
    if (!snap.members.length && snap.class.status === "open") showJoinScreen();
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
      case "control": tell(msg.message, false); break;
      default: break;
    }
  }

  // The join screen is a modal <dialog>: Escape closes it, and the page behind waits inert.
  function showJoinScreen() {
    if (!overlay.open) overlay.showModal();
  }

  // -- controls
  const asInt = (input) => (/^\s*\d+\s*$/.test(input.value) ? Number(input.value) : input.value);

  async function control(button, action, body, done) {
    const name = button.tagName === "SELECT" ? say("moving") : button.textContent.trim().replace(/…$/, "");
    button.disabled = true;
    tell(say("doing", {name}), false);
    const {ok, data} = await post(api(action), body);
    button.disabled = false;
    if (ok) tell(done ? done(data) : data.message, false);
    else tell(say("did_not_work", {name, error: data.message}), true);
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
      askFirst(say("confirm_purge"), say("purge_yes")).then((yes) => {
        if (yes) control(button, "purge", {confirm: true});
      });
    }
  });

  // Resolves true only if the instructor pressed the dialog's "yes" button.
  const confirmBox = $("pj-confirm");
  function askFirst(question, yes) {
    $("pj-confirm-text").textContent = question;
    $("pj-confirm-yes").textContent = yes;
    confirmBox.returnValue = "";
    confirmBox.showModal();
    return new Promise((resolve) => {
      confirmBox.addEventListener("close", () => resolve(confirmBox.returnValue === "yes"), {once: true});
    });
  }

  $("pj-close").addEventListener("click", async (e) => {
    const button = e.currentTarget;
    if (!(await askFirst(say("confirm_close"), say("close_yes")))) return;
    control(button, "close", {}, () => say("closed"));
  });
  $("pj-lesson").addEventListener("change", (e) => {
    const slug = e.target.value || null;
    control(e.target, "lesson", {lesson: slug}, () => say(slug ? "lesson_set" : "lesson_none"));
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
  $("pj-show-join").addEventListener("click", showJoinScreen);
  $("pj-hide-join").addEventListener("click", () => overlay.close());
  setInterval(drawDepth, 1000);  // the chart scrolls even when nothing changes

  liveSocket(`/classroom/${code}/ws`, {
    onOpen: () => setConn(true),
    onClose: () => setConn(false),
    // A message this page cannot draw is a bug here, not the learner's: say so in the console.
    onMessage: (msg) => { try { onMessage(msg); } catch (err) { console.error(err); } },
  });
}
