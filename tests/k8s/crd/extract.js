// Regenerates crd/*.json from a CloudNativePG checkout (see crd/README.md):
//   node crd/extract.js CHECKOUT_OR_GIT_DIR TAG
// Keeps only what the validator reads: each CRD's v1 openAPIV3Schema without its descriptions,
// and the PgBouncer parameters the Pooler webhook accepts.
const fs = require("fs"), path = require("path"), {execFileSync} = require("child_process");
const YAML = require("yaml");
const [repo, tag] = process.argv.slice(2);
const show = (file) => execFileSync("git", ["-C", repo, "show", `${tag}:${file}`],
                                    {encoding: "utf8", maxBuffer: 1 << 26});
const strip = (o) => Array.isArray(o) ? o.map(strip)
  : o && typeof o === "object"
    ? Object.fromEntries(Object.entries(o)
        .filter(([k, v]) => !(k === "description" && typeof v === "string"))
        .map(([k, v]) => [k, strip(v)]))
    : o;
const commit = execFileSync("git", ["-C", repo, "rev-parse", `${tag}^{commit}`], {encoding: "utf8"}).trim();
for (const [plural, out] of [["clusters", "cluster.json"], ["poolers", "pooler.json"]]) {
  const crd = YAML.parse(show(`config/crd/bases/postgresql.cnpg.io_${plural}.yaml`));
  const v1 = crd.spec.versions.find((v) => v.name === "v1");
  const doc = {source: `cloudnative-pg ${tag} (${commit})`, group: crd.spec.group, version: v1.name,
               kind: crd.spec.names.kind, openAPIV3Schema: strip(v1.schema.openAPIV3Schema)};
  fs.writeFileSync(path.join(__dirname, out), JSON.stringify(doc) + "\n");
}
const webhook = show("internal/webhook/v1/pooler_webhook.go");
const list = webhook.match(/AllowedPgbouncerGenericConfigurationParameters = stringset\.From\(\[\]string\{([^}]*)\}/)[1];
const params = [...list.matchAll(/"([a-z0-9_]+)"/g)].map((m) => m[1]);
fs.writeFileSync(path.join(__dirname, "pgbouncer-parameters.json"),
                 JSON.stringify({source: `cloudnative-pg ${tag} (${commit}) internal/webhook/v1/pooler_webhook.go`, parameters: params}) + "\n");
