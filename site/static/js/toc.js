// The lesson's table of contents marks the section being read (aria-current) as you scroll.
// The browser says when a heading crosses the reading line (an IntersectionObserver), so
// nothing runs on scroll. quiz.js rebuilds the lists when a prediction unlocks more headings:
// the links and headings are read afresh each time the lists change.
const lists = [...document.querySelectorAll(".toc-list")];
// The reading line sits a third of the way down the view. The observed area is everything
// above it (the top margin reaches far above the view), so a heading that crosses the line,
// however fast, always changes sides: intersecting means passed.
const ABOVE_THE_LINE = "1000000px 0px -66% 0px";
const passed = new Set();
let links = [];
let headings = [];
let atBottom = false;  // the lesson's end is in view

// A heading hidden behind an unanswered prediction has no box: its link waits, dimmed.
const shown = (h) => h.getClientRects().length > 0;

function targetOf(a) {
  return document.getElementById(decodeURIComponent(a.getAttribute("href").slice(1)));
}

function mark() {
  for (const a of links) a.classList.toggle("locked", !shown(targetOf(a) || a));
  const visible = headings.filter(shown);
  if (!visible.length) return;
  // The current section: the last heading passed, else the first; at the very bottom a short
  // last section never reaches the line, so it is current there.
  let found = visible.filter((h) => passed.has(h)).at(-1) || visible[0];
  if (atBottom) found = visible.at(-1);
  for (const a of links) {
    const on = targetOf(a) === found;
    a.classList.toggle("current", on);
    if (on) a.setAttribute("aria-current", "location"); else a.removeAttribute("aria-current");
  }
}

const crossing = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (entry.isIntersecting && shown(entry.target)) passed.add(entry.target);
    else passed.delete(entry.target);
  }
  mark();
}, {rootMargin: ABOVE_THE_LINE});

// The end of the lesson (its links to the next and previous ones): once half of it is in view
// after some scrolling, a short last section that never reaches the line is the one being read.
const end = document.querySelector(".prevnext");
if (end) {
  new IntersectionObserver(([entry]) => {
    atBottom = entry.intersectionRatio >= 0.5 && window.scrollY > 0;
    mark();
  }, {threshold: 0.5}).observe(end);
}

// (Re)read the links and their headings; observing afresh reports where each heading is now.
function watch() {
  links = lists.flatMap((list) => [...list.querySelectorAll("a[href^='#']")]);
  headings = [...new Set(links.map(targetOf).filter(Boolean))];
  crossing.disconnect();
  passed.clear();
  for (const h of headings) crossing.observe(h);
  mark();
}

if (lists.length) {
  const changed = new MutationObserver(watch);
  for (const list of lists) changed.observe(list, {childList: true, subtree: true});
  // An answered prediction shows the text it hid: its headings now have a place on the page.
  document.addEventListener("celerylab:answered", watch);
  watch();
}
