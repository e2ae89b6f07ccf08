// Writes the licences of every package bundled into codemirror.js beside it (all MIT).
const fs = require("fs");
const path = require("path");
const lock = require("./package-lock.json");
const out = [];
for (const [where, info] of Object.entries(lock.packages)) {
  if (!where.startsWith("node_modules/") || where.includes("esbuild")) continue;
  const dir = path.join(__dirname, where);
  const file = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  if (!file) continue;
  out.push(`${where.slice("node_modules/".length)} ${info.version}\n\n${fs.readFileSync(path.join(dir, file), "utf8").trim()}\n`);
}
fs.writeFileSync(path.join(__dirname, "../../site/static/vendor/codemirror.LICENSES.txt"), out.join("\n---\n\n"));
