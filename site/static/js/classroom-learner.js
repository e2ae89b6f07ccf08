// A learner in a class: which class, their nickname, and an offer to follow the instructor.
// The offer never moves the page by itself: a learner in the middle of something stays there.
(() => {
  "use strict";
  const bar = document.getElementById("class-bar");
  const leaveForm = document.getElementById("class-leave-form");

  function follow(info) {
    if (!bar) return;
    const box = bar.querySelector(".class-bar-follow");
    box.replaceChildren();
    if (!info.url) return;
    if (location.pathname === info.url) {
      box.textContent = "You are on your instructor's lesson.";
      return;
    }
    box.append(`Your instructor is on ${info.title}. `);
    const link = document.createElement("a");
    link.href = info.url;
    link.className = "class-btn primary";
    link.textContent = "Follow";
    box.append(link);
  }

  function show(info) {
    if (!bar) return;
    if (!info.in_class) {
      bar.hidden = true;
      return;
    }
    bar.hidden = false;
    bar.querySelector(".class-bar-who").textContent = `Class ${info.code} · you are ${info.nickname}`;
    follow(info);
  }

  async function refresh() {
    try {
      const res = await fetch("/api/classroom/me", {credentials: "same-origin"});
      if (res.ok) show(await res.json());
    } catch (_) { /* offline for a moment: the next refresh tries again */ }
  }

  // The class's notices arrive on the page's own websocket (lab.js re-emits every message).
  document.addEventListener("celerylab:message", (e) => {
    const msg = e.detail;
    if (!msg || msg.type !== "classroom" || !bar) return;
    if (msg.what === "closed") {
      bar.querySelector(".class-bar-who").textContent = `Class ${msg.code} has ended. Thank you!`;
      bar.querySelector(".class-bar-follow").replaceChildren();
    } else {
      follow(msg);
    }
  });

  if (leaveForm) {
    leaveForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      await fetch("/api/classroom/leave", {method: "POST", credentials: "same-origin"});
      location.reload();
    });
  }

  refresh();
  // Pages without the live socket (the course map, the quiz) ask now and then instead.
  if (bar && !window.CeleryLab) setInterval(refresh, 15000);
})();
