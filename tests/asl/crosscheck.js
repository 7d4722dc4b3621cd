// Cross-checks the definition corpus against the asl-validator package, so sfnlite's own
// validator (src/asl, which reads the same corpus in its tests) neither rejects real
// definitions nor accepts broken ones: every file under valid/ must pass asl-validator and
// every file under invalid/ must fail it (or not even parse as JSON). Where AWS is stricter
// than asl-validator, AWS wins: disagreements.json lists those files with the reason, and a
// listed file that no longer disagrees is reported too, so the list stays true.
"use strict";
const fs = require("fs");
const path = require("path");
const validate = require("asl-validator");

const KNOWN = JSON.parse(fs.readFileSync(path.join(__dirname, "disagreements.json"), "utf8"));

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
    const known = KNOWN[`${kind}/${file}`];
    if (verdict !== kind && !known) {
      failures += 1;
      console.error(`asl-validator says ${kind}/${file} is ${verdict}`);
    } else if (verdict === kind && known) {
      failures += 1;
      console.error(`${kind}/${file} is listed in disagreements.json but asl-validator agrees now`);
    }
  }
}
console.log(
  `asl-validator cross-check: ${checked} definitions, ${Object.keys(KNOWN).length} known disagreements (AWS stricter), ${failures} unexplained`
);
process.exit(failures === 0 ? 0 : 1);
