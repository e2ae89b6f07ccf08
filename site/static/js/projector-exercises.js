// The projector's "Your turn" counts: how many learners have solved each exercise of the
// lesson the class is on (web/classroom/exercises.py). Counts only, read every few seconds.
import {el, words} from "./lib/dom.js";
import {getJson} from "./lib/http.js";

const say = words("projector");
const box = document.getElementById("pj-exercises");
const list = document.getElementById("pj-ex-list");

async function refresh() {
  const {ok, data} = await getJson(box.dataset.src);
  if (!ok) return;  // the site is restarting: the next tick tries again
  const items = data.exercises.map((e) => el("li", {"data-exercise": e.id, "data-solved": String(e.solved)},
    say("exercise_solved", {title: e.title, solved: e.solved, members: data.members})));
  if (!items.length) items.push(el("li", {}, say(data.lesson ? "no_exercise" : "no_lesson")));
  list.replaceChildren(...items);
}

if (box && list) {
  refresh();
  setInterval(refresh, 3000);
}
