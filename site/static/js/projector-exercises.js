// The projector's "Your turn" counts: how many learners have solved each exercise of the
// lesson the class is on (web/classroom/exercises.py). Counts only, read every few seconds.
const box = document.getElementById("pj-exercises");
const list = document.getElementById("pj-ex-list");

async function refresh() {
  try {
    const res = await fetch(box.dataset.src, {credentials: "same-origin"});
    if (!res.ok) return;
    const data = await res.json();
    const items = data.exercises.map((e) => {
      const li = document.createElement("li");
      li.dataset.exercise = e.id;
      li.dataset.solved = String(e.solved);
      li.textContent = `${e.title}: ${e.solved} of ${data.members} learners solved it`;
      return li;
    });
    if (!items.length) {
      const li = document.createElement("li");
      li.textContent = data.lesson ? "This lesson has no exercise." : "Move the class to a lesson to see its exercises.";
      items.push(li);
    }
    list.replaceChildren(...items);
  } catch (_) {
    // The site is restarting: the next tick tries again.
  }
}

if (box && list) {
  refresh();
  setInterval(refresh, 3000);
}
