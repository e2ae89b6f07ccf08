// The lesson's table of contents marks the section being read (aria-current) as you scroll.
(() => {
  "use strict";
  const links = [...document.querySelectorAll(".toc-list a[href^='#']")];
  if (!links.length) return;
  const byId = new Map();
  for (const a of links) {
    const id = decodeURIComponent(a.getAttribute("href").slice(1));
    if (!byId.has(id)) byId.set(id, []);
    byId.get(id).push(a);
  }
  const headings = [...byId.keys()].map((id) => document.getElementById(id)).filter(Boolean);
  if (!headings.length) return;

  function mark(id) {
    for (const a of links) {
      const on = byId.get(id) && byId.get(id).includes(a);
      a.classList.toggle("current", Boolean(on));
      if (on) a.setAttribute("aria-current", "location"); else a.removeAttribute("aria-current");
    }
  }

  // A heading hidden behind an unanswered prediction has no box: its link waits, dimmed.
  const shown = (h) => h.getClientRects().length > 0;

  // The current section is the last heading that has scrolled past the top third of the view.
  function current() {
    const line = window.innerHeight / 3;
    const visible = headings.filter(shown);
    for (const h of headings) {
      for (const a of byId.get(h.id)) a.classList.toggle("locked", !shown(h));
    }
    if (!visible.length) return;
    let found = visible[0];
    for (const h of visible) {
      if (h.getBoundingClientRect().top <= line) found = h; else break;
    }
    // At the very bottom a short last section never reaches the line: it is still current.
    const end = document.documentElement.scrollHeight - 2;
    if (window.scrollY > 0 && window.innerHeight + window.scrollY >= end) found = visible.at(-1);
    mark(found.id);
  }

  let queued = false;
  const soon = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; current(); });
  };
  window.addEventListener("scroll", soon, {passive: true});
  window.addEventListener("resize", soon);
  document.addEventListener("celerylab:answered", soon);
  current();
})();
