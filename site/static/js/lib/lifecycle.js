// A task's lifecycle, as the server defines it (lifecycle.py): rendered into every
// page as data (site/templates/_lifecycle.html), so no script keeps its own copy of the order
// or of the rule that a late event never moves a task backwards.
import {pageData} from "./dom.js";

const data = pageData("lab-lifecycle");

export const STATES = data.states;
export const RANK = Object.fromEntries(STATES.map((s, i) => [s, i]));
export const FINAL = new Set(data.final);
export const LABELS = data.labels;
const MOVES = Object.fromEntries(Object.entries(data.moves).map(([old, news]) => [old, new Set(news)]));

export const isFinal = (state) => FINAL.has(state);
export const isState = (state) => state in RANK;

// Whether a task in `current` (null: not seen yet) moves to `next` on this event.
export function advances(current, next) {
  if (current === null || current === undefined) return isState(next);
  return Boolean(MOVES[current] && MOVES[current].has(next));
}

// Whether a task in `state` has reached `step` (both lifecycle states).
export const reached = (state, step) => isState(state) && RANK[state] >= RANK[step];
