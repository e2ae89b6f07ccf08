// The join page: keep this learner's rejoin key in the browser's own storage, and give it
// back when they join the same class with the same nickname (a lost cookie, a closed tab).
// The key proves the nickname is theirs; the server keeps only its digest.
const page = document.querySelector(".class-join");
const store = (code) => `celerylab:rejoin:${code}`;
const norm = (code) => (code || "").replace(/[\s-]/g, "").toUpperCase();

function read(code) {
  try {
    return JSON.parse(localStorage.getItem(store(norm(code))) || "null");
  } catch (_) {
    return null; // storage off or damaged: the learner can still type the key
  }
}

if (page && page.dataset.rejoin) {
  try {
    localStorage.setItem(store(norm(page.dataset.rejoinCode)), JSON.stringify({
      nickname: page.dataset.rejoinNickname, key: page.dataset.rejoin,
    }));
  } catch (_) { /* private mode with no storage: the key is on the page to write down */ }
}

// Fill in the nickname kept for this class, and hand back its key when it is the same one.
function remember(form) {
  const code = form.elements.code, nickname = form.elements.nickname, rejoin = form.elements.rejoin;
  const known = read(code.value);
  if (known && !nickname.value) nickname.value = known.nickname;
  form.addEventListener("submit", () => {
    const mine = read(code.value);
    const same = mine && mine.nickname.toLowerCase() === nickname.value.trim().toLowerCase();
    if (same && !rejoin.value) rejoin.value = mine.key;
  });
}

const form = document.querySelector("form.class-form");
if (form) remember(form);
