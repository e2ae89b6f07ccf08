// A learner in a class: which class, their nickname, and an offer to follow the instructor.
// The offer never moves the page by itself: a learner in the middle of something stays there.
import {el, words} from "./lib/dom.js";
import {getJson, requestJson} from "./lib/http.js";

const say = words("class_bar");
const bar = document.getElementById("class-bar");
const leaveForm = document.getElementById("class-leave-form");

function follow(info) {
  if (!bar) return;
  const box = bar.querySelector(".class-bar-follow");
  box.replaceChildren();
  if (!info.url) return;
  if (location.pathname === info.url) {
    box.textContent = say("on_lesson");
    return;
  }
  box.append(say("instructor_on", {title: info.title}) + " ",
             el("a", {href: info.url, class: "class-btn primary"}, say("follow")));
}

function show(info) {
  if (!bar) return;
  if (!info.in_class) {
    bar.hidden = true;
    return;
  }
  bar.hidden = false;
  bar.querySelector(".class-bar-who").textContent = say("who", {code: info.code, nickname: info.nickname});
  follow(info);
}

async function refresh() {
  // Offline for a moment: the next refresh tries again.
  const {ok, data} = await getJson("/api/classroom/me");
  if (ok) show(data);
}

// The class's notices arrive on the page's own websocket (lab.js re-emits every message).
document.addEventListener("celerylab:message", (e) => {
  const msg = e.detail;
  if (!msg || msg.type !== "classroom" || !bar) return;
  if (msg.what === "closed") {
    bar.querySelector(".class-bar-who").textContent = say("ended", {code: msg.code});
    bar.querySelector(".class-bar-follow").replaceChildren();
  } else {
    follow(msg);
  }
});

if (leaveForm) {
  leaveForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    await requestJson("POST", "/api/classroom/leave");
    location.reload();
  });
}

refresh();
// Pages without the live socket (the course map, the quiz) ask now and then instead; lab.js
// marks the pages it serves, and modules run in page order, so look when the timer fires.
if (bar) setInterval(() => { if (document.documentElement.dataset.live !== "yes") refresh(); }, 15000);
