// Shows validate.js can fail: renders the manifests, checks they pass, then applies each case of
// selftest-cases.yaml to a fresh copy and checks the validator refuses it with the expected
// message. Usage: node selftest.js [--renderer kubectl|builtin|both] PATH...
"use strict";
const fs = require("fs"), path = require("path"), YAML = require("yaml");
const {load, validate, haveKubectl, idOf} = require("./validate.js");

let args = process.argv.slice(2), renderer = haveKubectl() ? "kubectl" : "builtin";
if (args[0] === "--renderer") {
  renderer = args[1];
  args = args.slice(2);
}
const base = load(args, renderer);
const cases = YAML.parse(fs.readFileSync(path.join(__dirname, "selftest-cases.yaml"), "utf8"));
let bad = 0;
const baseErrors = validate(base);
if (baseErrors.length) {
  console.log(`FAIL the manifests themselves do not pass:\n  ${baseErrors.join("\n  ")}`);
  bad++;
}
for (const c of cases) {
  const objects = structuredClone(base);
  const target = objects.find((o) => o.kind === c.kind && o.metadata.name === c.object);
  if (!target) {
    console.log(`FAIL ${c.name}: no ${c.kind} ${c.object} in the manifests`);
    bad++;
    continue;
  }
  const p = c.set ? c.set.path : c.delete;
  const parent = p.slice(0, -1).reduce((o, k) => (o === undefined ? o : o[k]), target);
  const last = p[p.length - 1];
  if (parent === undefined || (c.delete && !(last in parent))) {
    console.log(`FAIL ${c.name}: path ${p.join(".")} is not in ${idOf(target)}`);
    bad++;
    continue;
  }
  if (c.set) parent[last] = c.set.value;
  else delete parent[last];
  const errors = validate(objects);
  if (errors.some((e) => e.includes(c.expect))) {
    console.log(`ok   ${c.name}: refused`);
  } else {
    console.log(`FAIL ${c.name}: expected "${c.expect}", got ${errors.length ? errors.join(" | ") : "no error"}`);
    bad++;
  }
}
console.log(`${cases.length} broken variants, ${bad} not caught as expected`);
process.exit(bad ? 1 : 0);
