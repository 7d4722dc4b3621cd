// Evaluates every case of corpus.json with the pinned reference implementation (the `jsonata`
// npm package) and writes what it gives to expected.json: a result, "undefined", or an error
// code. sfnlite's own evaluator (src/jsonata) is tested against expected.json; with --check
// this script fails instead of writing when expected.json is not what the package gives, so
// the committed answers stay the reference's.
"use strict";
const fs = require("fs");
const path = require("path");
const jsonata = require("jsonata");

const corpus = JSON.parse(fs.readFileSync(path.join(__dirname, "corpus.json"), "utf8"));

async function answer(c) {
  try {
    const expr = jsonata(c.expr);
    const bindings = {};
    for (const [k, v] of Object.entries(corpus.bindings)) bindings[k] = v;
    const r = await expr.evaluate(corpus.inputs[c.input], bindings);
    if (r === undefined) return { undefined: true };
    return { result: JSON.parse(JSON.stringify(r)) };
  } catch (e) {
    return { error: e.code || "unknown" };
  }
}

(async () => {
  const out = [];
  for (const c of corpus.cases) out.push({ expr: c.expr, input: c.input, ...(await answer(c)) });
  const text = JSON.stringify(out, null, 1) + "\n";
  const file = path.join(__dirname, "expected.json");
  if (process.argv.includes("--check")) {
    const now = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    if (now !== text) {
      console.error("tests/jsonata/expected.json is not what jsonata gives; run node tests/jsonata/reference.js");
      process.exit(1);
    }
    console.log(`jsonata reference: ${out.length} cases, expected.json is current`);
  } else {
    fs.writeFileSync(file, text);
    console.log(`jsonata reference: wrote ${out.length} cases`);
  }
})();
