// Predictions, myth busters and progress. The browser never knows an answer before the learner
// commits: it sends the choice id, and the server grades it and sends back the verdict to show
// (every choice's why included). The letters on the page are positions in this learner's own
// order; a card on /progress marked data-retry is a second try at a question missed first.
import {el, templateContent, words} from "./lib/dom.js";
import {getJson, postJson} from "./lib/http.js";

const say = words("quiz");

// ---- questions: predictions in lessons, myths on the quiz page ---------------------------
function showError(card, message) {
  const box = card.querySelector(".answer-error");
  box.textContent = message;
  box.hidden = !message;
}

async function respond(card, payload) {
  const fieldset = card.querySelector("fieldset");
  fieldset.disabled = true;
  showError(card, "");
  const retry = card.dataset.retry === "yes" ? {retry: true} : {};
  const reply = await postJson("/api/answers", {question: card.dataset.question, ...payload, ...retry});
  if (!reply.ok) {
    fieldset.disabled = reply.data.error === "already_answered";
    // No answer at all (status 0): the connection, not the answer, is the problem.
    showError(card, reply.status ? reply.data.message : say("offline"));
    if (!fieldset.disabled) card.querySelector(".commit").focus();
    return;
  }
  reveal(card, reply.data);
}

function reveal(card, verdict) {
  card.dataset.state = "answered";
  for (const label of card.querySelectorAll(".choice")) {
    label.classList.toggle("chosen", label.dataset.choice === verdict.answer);
    label.classList.toggle("correct", label.dataset.choice === verdict.correct_answer);
  }
  // Server-rendered from our own template (web/quiz/views.py), like the page around it.
  card.querySelector(".verdict").innerHTML = verdict.html;
  const note = card.querySelector(".locked-note");
  if (note) note.remove();
  const prove = card.querySelector(".prove");
  if (prove) prove.hidden = false;
  const rest = document.querySelector(`.after-prediction[data-after="${CSS.escape(verdict.question)}"]`);
  if (rest) { rest.hidden = false; rebuildToc(); }
  // The buttons are gone now: move focus to what the learner came for.
  card.querySelector(".verdict").focus({preventScroll: true});
  updateScore();
  card.dispatchEvent(new CustomEvent("celerylab:answered", {detail: verdict, bubbles: true}));
}

// The server lists only headings the learner may see; once a prediction opens more of the
// lesson, list every heading that is now visible (h2, with its h3s beneath).
function rebuildToc() {
  const headings = [...document.querySelectorAll("article.lesson h2[id], article.lesson h3[id]")]
    // Not the headings inside a question card or the Your turn panel (its file names).
    .filter((h) => h.getClientRects().length > 0 && !h.closest(".quiz-question") &&
      !(h.tagName === "H3" && h.closest(".your-turn")));
  for (const list of document.querySelectorAll(".toc-list")) {
    list.replaceChildren();
    let parent = null;
    for (const h of headings) {
      const li = el("li");
      li.append(el("a", {href: `#${h.id}`}, h.textContent));
      if (h.tagName === "H3" && parent) {
        let sub = parent.querySelector("ul");
        if (!sub) { sub = el("ul"); parent.append(sub); }
        sub.append(li);
      } else {
        list.append(li);
        parent = li;
      }
    }
  }
}

function bindQuestion(card) {
  const form = card.querySelector(".answer-form");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const picked = form.querySelector("input[name=answer]:checked");
    if (!picked) { showError(card, say("pick_first")); return; }
    respond(card, {answer: picked.value});
  });
  const skip = card.querySelector(".show-anyway");
  if (skip) skip.addEventListener("click", () => respond(card, {skip: true}));
  const proveIt = card.querySelector(".prove-it");
  if (proveIt) {
    proveIt.addEventListener("click", () => {
      const panel = card.querySelector(".prove-panel");
      panel.hidden = false;
      proveIt.hidden = true;
      card.querySelector(".prove-help").hidden = true;
      // lab.js owns the experiment form: submitting it runs the experiment as a lesson does.
      panel.querySelector("form").requestSubmit();
    });
  }
}

function updateScore() {
  const score = document.querySelector(".quiz-score");
  if (!score) return;
  const answered = document.querySelectorAll('.quiz-question.myth[data-state="answered"]').length;
  const right = document.querySelectorAll('.quiz-question.myth .verdict-body[data-correct="yes"]').length;
  score.textContent = answered
    ? say("score", {right, answered, total: score.dataset.total})
    : say("score_none", {total: score.dataset.total});
}

document.querySelectorAll(".quiz-question").forEach(bindQuestion);
updateScore();

// ---- a lesson is read when its end comes into view ----------------------------------------
// The end marker sits after every prediction's hidden text, so it only shows once they are done.
const end = document.querySelector(".lesson-end");
if (end) {
  const seen = new IntersectionObserver(async (entries) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    seen.disconnect();
    const reply = await postJson("/api/progress/read", {lesson: end.dataset.lesson});
    if (reply.ok) end.replaceChildren(templateContent("lesson-read"));
  });
  seen.observe(end);
}

// ---- the course map on the home page -----------------------------------------------------
async function fillCourseMap() {
  const steps = document.querySelectorAll(".course-step[data-lesson]");
  if (!steps.length) return;
  const {ok, data: mine} = await getJson("/api/progress");
  if (!ok) return;
  for (const row of mine.lessons) {
    const step = document.querySelector(`.course-step[data-lesson="${CSS.escape(row.slug)}"]`);
    if (!step) continue;
    const p = row.predictions, made = p.answered + p.shown;
    step.dataset.progress = row.read ? "read" : (made ? "started" : "new");
    const bits = [];
    if (row.read) bits.push(say("read"));
    if (made) bits.push(say.count("predictions", p.total, {made, correct: p.correct}));
    const box = step.querySelector(".course-progress") || step.appendChild(el("span"));
    box.className = "course-progress";
    box.textContent = bits.join(" · ");
  }
}
fillCourseMap();

// ---- starting over ----------------------------------------------------------------------
const resetBox = document.querySelector(".reset-box");
if (resetBox) {
  const ask = resetBox.querySelector(".reset-ask");
  const confirmBox = resetBox.querySelector(".reset-confirm");
  const result = resetBox.querySelector(".reset-result");
  ask.addEventListener("click", () => { confirmBox.hidden = false; ask.hidden = true; });
  resetBox.querySelector(".reset-no").addEventListener("click", () => { confirmBox.hidden = true; ask.hidden = false; });
  resetBox.querySelector(".reset-yes").addEventListener("click", async () => {
    const reply = await postJson("/api/progress/reset", {});
    if (reply.ok) { location.reload(); return; }
    result.textContent = reply.data.message;
  });
}
