// Building the page: elements, SVG, and the words the server put in the page for scripts.
const SVG_NS = "http://www.w3.org/2000/svg";

function build(node, attrs, text) {
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== "" && text !== null && text !== undefined) node.textContent = String(text);
  return node;
}

export const el = (tag, attrs = {}, text = "") => build(document.createElement(tag), attrs, text);
export const svg = (tag, attrs = {}, text = "") => build(document.createElementNS(SVG_NS, tag), attrs, text);

// A JSON block the server rendered into the page (<script type="application/json" id=…>).
export function pageData(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : {};
}

// A copy of a <template>'s content (or of its one element), ready to fill in.
export const templateContent = (id) => document.getElementById(id).content.cloneNode(true);
export const fromTemplate = (id) => document.getElementById(id).content.firstElementChild.cloneNode(true);

// Every word a learner reads is written by the server (site/templates/_words.html); a script
// only picks one and fills in its {placeholders}.
const WORDS = pageData("lab-words");

export function words(group) {
  const table = WORDS[group] || {};
  const say = (key, values = {}) => {
    const text = table[key];
    if (text === undefined) return key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
  };
  // key_one for exactly one, else key_other: "1 time", "2 times".
  say.count = (key, n, values = {}) => say(`${key}_${n === 1 ? "one" : "other"}`, {n, ...values});
  return say;
}
