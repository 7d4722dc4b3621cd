// Cross-checks the definition corpus against the asl-validator package, so sfnlite's own
// checker (src/domain/asl.rs, which reads the same corpus in its tests) neither rejects real
// definitions nor accepts broken ones: every file under valid/ must pass asl-validator and
// every file under invalid/ must fail it (or not even parse as JSON).
"use strict";
const fs = require("fs");
const path = require("path");
const validate = require("asl-validator");

// Definitions asl-validator cannot judge, and why.
const BLIND_SPOTS = {
  "duplicate-state-name.json": "JSON.parse keeps the last of two equal keys, so the duplicate never reaches asl-validator",
};

let failures = 0;
let checked = 0;
for (const kind of ["valid", "invalid"]) {
  const dir = path.join(__dirname, kind);
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    checked += 1;
    const text = fs.readFileSync(path.join(dir, file), "utf8");
    let verdict;
    try {
      verdict = validate(JSON.parse(text)).isValid ? "valid" : "invalid";
    } catch (e) {
      verdict = "invalid";
    }
    if (verdict !== kind && !(kind === "invalid" && BLIND_SPOTS[file])) {
      failures += 1;
      console.error(`asl-validator says ${kind}/${file} is ${verdict}`);
    }
  }
}
console.log(`asl-validator cross-check: ${checked} definitions, ${failures} disagreements`);
process.exit(failures === 0 ? 0 : 1);
