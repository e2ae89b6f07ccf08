// "Your turn": the learner's own files in CodeMirror, run on a Celery worker of their own.
// The editor bundle is big, so it is imported only when a panel comes near the screen (or is
// used). Runs go to the playground engine (web/your_turn/runs.py); its live `run` messages arrive
// on lab.js's websocket, and each task is drawn by lab.js's own task card and event log.
import {el, words} from "./lib/dom.js";
import {callJson as call} from "./lib/http.js";
import {isFinal} from "./lib/lifecycle.js";
import {onTaskEvent, tasks} from "./lab.js";

const say = words("your_turn");
const STORE_DELAY = 600; // ms of quiet typing before the edits are kept on the server
const QUIET = 5000; // ms without a message from a live run before asking the server for it
const ENDED = new Set(["finished", "failed", "stopped"]);
const remembered = (scope) => { try { return sessionStorage.getItem(`yt-run:${scope}`); } catch (_) { return null; } };
const remember = (scope, id) => { try { sessionStorage.setItem(`yt-run:${scope}`, id); } catch (_) { /* private mode */ } };

const nonce = (document.querySelector('meta[name="csp-nonce"]') || {}).content ||
  document.documentElement.dataset.cspNonce || undefined;
const root = document.documentElement;
// theme.js decides whether the page is dark (a saved choice, or the system's) and marks it.
const isDark = () => root.dataset.dark === "yes";

let editorModule = null;
const loadEditor = (src) => (editorModule = editorModule || import(src));


// Messages for a run whose id the POST has not returned yet (a fast worker can beat it).
const early = new Map();
const panels = [];

const STATE_TEXT = {
  queued: (m) => (m.position ? say("queued_at", {position: m.position}) : say("queued")),
  starting: () => say("starting"),
  running: () => say("running"),
};

class Panel {
  constructor(section) {
    this.root = section;
    this.scope = section.dataset.scope;
    this.exercise = section.dataset.exercise || null;
    this.editors = new Map();
    this.loading = null;
    this.runId = null;
    this.storeTimer = null;
    this.q = (sel) => section.querySelector(sel);
    this.q(".yt-run").addEventListener("click", () => this.run());
    this.q(".yt-reset").addEventListener("click", () => this.askReset());
    this.q(".yt-confirm-yes").addEventListener("click", () => this.reset());
    this.q(".yt-confirm-no").addEventListener("click", () => this.q(".yt-confirm").close());
    const hint = this.q(".yt-hint");
    if (hint) hint.addEventListener("click", () => this.showHint());
    const solution = this.q(".yt-solution");
    if (solution) solution.addEventListener("click", () => this.showSolution());
    this.q(".yt-use-solution").addEventListener("click", () => this.useSolution());
    section.addEventListener("focusin", () => this.ensure(), {once: true});
  }

  ensure() {
    if (!this.loading) this.loading = this.load();
    return this.loading;
  }

  async load() {
    const scope = encodeURIComponent(this.scope);
    const [{createEditor}, data] = await Promise.all([
      loadEditor(this.root.dataset.editorSrc), call("GET", `/api/workspace/${scope}`),
    ]);
    this.start = data.start;
    const saved = data.saved || {};
    for (const host of this.root.querySelectorAll(".yt-editor")) {
      const name = host.dataset.file;
      const first = name === "view" ? data.start.view : data.start.files[name];
      const mine = name === "view" ? saved.view : (saved.files || {})[name];
      // Keyboard focus moves from the placeholder into the editor that replaces it.
      const hadFocus = host.contains(document.activeElement);
      host.replaceChildren();
      const editor = createEditor(host, {
        doc: mine !== undefined ? mine : first, label: say("editor_label", {file: host.dataset.label}),
        nonce, dark: isDark(), onChange: () => this.changed(),
      });
      // axe counts a scrolling editor as keyboard-reachable only if its content is tabbable.
      editor.view.contentDOM.setAttribute("tabindex", "0");
      this.editors.set(name, editor);
      if (hadFocus) editor.focus();
    }
    new MutationObserver(() => this.editors.forEach((e) => e.setDark(isDark())))
      .observe(root, {attributes: true, attributeFilter: ["data-dark"]});
    this.markModified();
    if (data.exercise && data.exercise.progress.solved) {
      this.verdict(true, say("solved_before_text"), true);
    }
    this.root.dataset.ready = "yes";
    // After a reload, show this tab's last run here again (the server keeps it for an hour).
    const last = remembered(this.scope);
    if (last && !this.runId) {
      this.runId = last;
      this.clearResults();
      this.sync();
    }
  }

  files() {
    const files = {};
    for (const [name, editor] of this.editors) if (name !== "view") files[name] = editor.getText();
    return {files, view: this.editors.get("view").getText()};
  }

  markModified() {
    for (const [name, editor] of this.editors) {
      const first = name === "view" ? this.start.view : this.start.files[name];
      const mark = this.root.querySelector(`.yt-file[data-file="${name}"] .yt-modified`);
      mark.hidden = editor.getText() === first;
    }
  }

  changed() {
    this.markModified();
    this.saved("", "");
    clearTimeout(this.storeTimer);
    this.storeTimer = setTimeout(() => this.store(), STORE_DELAY);
  }

  saved(state, text) {
    const box = this.q(".yt-saved");
    box.dataset.state = state;
    box.textContent = text;
  }

  async store() {
    clearTimeout(this.storeTimer);
    try {
      await call("POST", `/api/workspace/${encodeURIComponent(this.scope)}`, this.files());
      this.saved("saved", say("kept"));
    } catch (err) {
      this.saved("error", say("not_kept", {error: err.message}));
    }
  }

  status(text, isError = false) {
    const box = this.q(".yt-status");
    box.textContent = text;
    box.classList.toggle("error", isError);
  }

  verdict(passed, text, old = false) {
    const box = this.q(".yt-verdict");
    box.replaceChildren();
    box.dataset.passed = passed ? "yes" : "no";
    box.append(el("strong", {}, say(passed ? (old ? "solved_before" : "solved") : "not_yet") + " "), text);
    if (!passed && this.exercise) {
      box.append(" ", el("span", {class: "yt-offer"}, say("offer")));
    }
  }

  // ---- a run ----------------------------------------------------------------------------
  async run() {
    const button = this.q(".yt-run");
    if (button.getAttribute("aria-disabled") === "true") return;
    button.setAttribute("aria-disabled", "true");
    try {
      this.status(say("loading"));
      await this.ensure();
      this.clearResults();
      this.status(say("sending"));
      await this.store();
      const body = {...this.files()};
      if (this.exercise) body.exercise = this.exercise;
      const answer = await call("POST", "/api/playground/runs", body);
      this.runId = answer.run_id;
      this.heard = Date.now();
      remember(this.scope, answer.run_id);
      this.root.dataset.run = answer.run_id;
      this.root.dataset.runState = "queued";
      this.status(STATE_TEXT.queued(answer));
      for (const msg of early.get(answer.run_id) || []) this.onRun(msg);
      early.delete(answer.run_id);
    } catch (err) {
      this.status(err.message, true);
    } finally {
      button.removeAttribute("aria-disabled");
    }
  }

  clearResults() {
    this.q(".yt-results").hidden = false;
    for (const sel of [".yt-banner", ".yt-worker-log", ".yt-view-out", ".yt-traceback", ".yt-registered", ".yt-tasks"]) {
      this.q(sel).replaceChildren();
    }
    this.q(".yt-traceback").hidden = true;
    this.q(".yt-verdict").replaceChildren();
    delete this.q(".yt-verdict").dataset.passed;
  }

  // Run messages are broadcast, never stored: a reconnect can miss some. The server's summary
  // of the run (GET) is the truth, asked for when a live run goes quiet, after it ends, and
  // after a reload.
  async sync() {
    const id = this.runId;
    let run;
    try {
      run = await call("GET", `/api/playground/runs/${encodeURIComponent(id)}`);
    } catch (_) {
      return; // gone (an hour old) or the site is restarting
    }
    if (id !== this.runId) return;
    this.heard = Date.now();
    if (run.banner && !this.q(".yt-banner").textContent) {
      this.onRun({kind: "banner", text: run.banner, tasks: run.registered_tasks || []});
    }
    if (!this.q(".yt-view-out").textContent && !this.q(".yt-worker-log").textContent && run.output) {
      for (const text of run.output.view || []) this.onRun({kind: "output", stream: "view", text});
      for (const text of run.output.worker || []) this.onRun({kind: "output", stream: "worker", text});
    }
    if (run.view && run.view.traceback) this.onRun({kind: "view", ...run.view});
    for (const task of run.tasks || []) {
      const known = tasks.get(task.task_id);
      if (known && isFinal(known.state)) continue;
      for (const e of task.events || []) {
        this.onRun({kind: "task", task_id: task.task_id, task_name: task.name, state: e.state,
                    timestamp: e.timestamp, fields: e.fields});
      }
    }
    if (ENDED.has(run.state) && !ENDED.has(this.root.dataset.runState)) {
      this.onRun({kind: "ended", state: run.state, reason: run.reason, message: run.message,
                  verdict: run.verdict, synced: true});
    } else if (!ENDED.has(run.state)) {
      this.root.dataset.runState = run.state;
    }
  }

  onRun(msg) {
    this.heard = Date.now();
    const append = (sel, text) => {
      const box = this.q(sel);
      box.append(text + "\n");
      box.scrollTop = box.scrollHeight;
    };
    switch (msg.kind) {
      case "state":
        this.root.dataset.runState = msg.state;
        if (STATE_TEXT[msg.state]) this.status(STATE_TEXT[msg.state](msg));
        break;
      case "banner": {
        this.q(".yt-banner").textContent = msg.text;
        const names = msg.tasks || [];
        this.q(".yt-registered").textContent = names.length
          ? say("registered", {names: names.join(", ")}) : say("registered_none");
        break;
      }
      case "output":
        append(msg.stream === "view" ? ".yt-view-out" : ".yt-worker-log", msg.text);
        break;
      case "task":
        onTaskEvent({
          type: "task", task_id: msg.task_id, task_name: msg.task_name, state: msg.state,
          timestamp: msg.timestamp, fields: msg.fields || {}, experiment: "playground",
        }, this.q(".yt-tasks"));
        break;
      case "view":
        if (msg.traceback) {
          const box = this.q(".yt-traceback");
          box.textContent = msg.traceback;
          box.hidden = false;
        }
        break;
      case "ended":
        this.root.dataset.runState = msg.state;
        this.status(say("ended", {state: msg.state, why: msg.message || msg.reason}), msg.state !== "finished");
        if (msg.verdict) this.verdict(msg.verdict.passed, msg.verdict.message);
        if (!msg.synced) this.sync(); // fill in any task event the socket missed
        break;
      default:
        break;
    }
  }

  // ---- reset, hint, solution -------------------------------------------------------------
  async askReset() {
    await this.ensure();
    this.q(".yt-confirm").showModal();
  }

  async reset() {
    this.q(".yt-confirm").close();
    clearTimeout(this.storeTimer);
    for (const [name, editor] of this.editors) {
      editor.setText(name === "view" ? this.start.view : this.start.files[name]);
    }
    clearTimeout(this.storeTimer);
    this.markModified();
    try {
      await call("POST", `/api/workspace/${encodeURIComponent(this.scope)}/reset`);
      this.saved("saved", say("reset_done"));
    } catch (err) {
      this.saved("error", err.message);
    }
  }

  async showHint() {
    try {
      const data = await call("POST", `/api/exercises/${encodeURIComponent(this.exercise)}/hint`);
      const box = this.q(".yt-hint-box");
      box.innerHTML = data.hint_html; // our own lesson text, rendered from markdown on the server
      box.prepend(el("strong", {}, say("hint")));
      box.hidden = false;
    } catch (err) {
      this.status(err.message, true);
    }
  }

  async showSolution() {
    try {
      this.solution = await call("POST", `/api/exercises/${encodeURIComponent(this.exercise)}/solution`);
    } catch (err) {
      this.status(err.message, true);
      return;
    }
    const list = this.q(".yt-solution-files");
    list.replaceChildren();
    const shown = [...Object.entries(this.solution.files), ["view", this.solution.view]];
    for (const [name, text] of shown) {
      const label = el("p", {class: "yt-solution-name"});
      label.append(el("code", {}, name));
      list.append(label);
      const pre = el("pre", {tabindex: "0", role: "region", "aria-label": say("solution_label", {file: name})});
      pre.append(el("code", {}, text));
      list.append(pre);
    }
    this.q(".yt-solution-box").hidden = false;
  }

  async useSolution() {
    await this.ensure();
    if (!this.solution) return;
    for (const [name, editor] of this.editors) {
      const text = name === "view" ? this.solution.view : this.solution.files[name];
      if (text !== undefined && text !== editor.getText()) editor.setText(text);
    }
  }
}

document.addEventListener("celerylab:message", (event) => {
  const msg = event.detail;
  if (!msg || msg.type !== "run" || typeof msg.run_id !== "string") return;
  const panel = panels.find((p) => p.runId === msg.run_id);
  if (panel) { panel.onRun(msg); return; }
  if (early.size > 20) early.clear();
  if (!early.has(msg.run_id)) early.set(msg.run_id, []);
  early.get(msg.run_id).push(msg);
});

setInterval(() => {
  for (const panel of panels) {
    const live = panel.runId && !ENDED.has(panel.root.dataset.runState || "queued");
    if (live && Date.now() - (panel.heard || 0) > QUIET) panel.sync();
  }
}, 1000);

const near = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    near.unobserve(entry.target);
    const panel = panels.find((p) => p.root === entry.target);
    if (panel) panel.ensure();
  }
}, {rootMargin: "300px 0px"});

// A page that is only opened (or only read without scrolling) never loads the editor: the
// watch for panels coming near starts with the learner's first scroll, key or touch, and
// pointing at or focusing a panel loads it at once.
function watchPanels() {
  for (const panel of panels) {
    near.observe(panel.root);
  }
}
for (const section of document.querySelectorAll(".your-turn")) {
  const panel = new Panel(section);
  panels.push(panel);
  section.addEventListener("pointerover", () => panel.ensure(), {once: true});
  if (section.dataset.eager === "yes") panel.ensure(); // the /playground page is the editor
}
if (panels.length) {
  const arm = () => {
    for (const type of ["scroll", "wheel", "keydown", "pointerdown", "touchstart"]) {
      removeEventListener(type, arm, {capture: true});
    }
    watchPanels();
  };
  for (const type of ["scroll", "wheel", "keydown", "pointerdown", "touchstart"]) {
    addEventListener(type, arm, {capture: true, passive: true});
  }
}
