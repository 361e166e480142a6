// Offline validation of the Kubernetes manifests (deploy/k8s): renders kustomizations, checks
// every object against its schema (built-in kinds: kubernetes-models 4.5.1, the Kubernetes 1.27
// schemas; CloudNativePG Cluster and Pooler: their CRD's openAPIV3Schema with ajv, unknown fields
// refused), then checks what no schema can: that the objects fit together and keep the
// service's promises. Usage (validate.sh runs npm ci first):
//   node validate.js [--renderer kubectl|builtin|both] PATH...
//   node validate.js --icr-server BIN [--text FILE]... PATH...   (only: the flags exist)
// A PATH that is a directory is a kustomization, rendered; a file is YAML objects as they are.
// All PATHs form one set for the cross-object checks. --renderer both (the default when kubectl
// is installed) renders with both and fails if they differ, which keeps the built-in renderer
// (used when kubectl is missing) honest.
"use strict";
const fs = require("fs"), path = require("path"), {execFileSync} = require("child_process");
const YAML = require("yaml"), Ajv = require("ajv");

const CRD_DIR = path.join(__dirname, "crd");
// Secrets CloudNativePG makes for a Cluster named N, with their keys (pkg/specs/secrets.go).
const CNPG_SECRETS = {
  app: ["username", "user", "password", "dbname", "host", "port", "pgpass", "uri", "jdbc-uri",
        "fqdn-uri", "fqdn-jdbc-uri"],
  ca: ["ca.crt", "ca.key"],
  server: ["tls.crt", "tls.key"],
  replication: ["tls.crt", "tls.key"],
};
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding",
                                "CustomResourceDefinition", "PriorityClass", "StorageClass"]);
const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job"]);

// ---- rendering -------------------------------------------------------------------------------

function parseYaml(text, where) {
  const out = [];
  for (const doc of YAML.parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`${where}: ${doc.errors[0].message}`);
    const o = doc.toJSON();
    if (o) out.push(o);
  }
  return out;
}

function haveKubectl() {
  try {
    execFileSync("kubectl", ["version", "--client"], {stdio: "ignore"});
    return true;
  } catch (e) {
    return false;
  }
}

function renderKubectl(dir) {
  return parseYaml(execFileSync("kubectl", ["kustomize", dir], {encoding: "utf8"}), dir);
}

// The subset of kustomize the base uses: `namespace` and `resources` that are files.
function renderBuiltin(dir) {
  const file = path.join(dir, "kustomization.yaml");
  const k = YAML.parse(fs.readFileSync(file, "utf8"));
  const known = new Set(["apiVersion", "kind", "namespace", "resources"]);
  for (const key of Object.keys(k)) {
    if (!known.has(key)) {
      throw new Error(`${file}: "${key}" is not understood by the built-in renderer ` +
                      "(keep the base to namespace and resources, or render with kubectl)");
    }
  }
  const objects = [];
  for (const res of k.resources || []) {
    const p = path.join(dir, res);
    if (!fs.existsSync(p) || !fs.statSync(p).isFile()) {
      throw new Error(`${file}: resource ${res} is not a file (the built-in renderer takes files)`);
    }
    for (const o of parseYaml(fs.readFileSync(p, "utf8"), p)) {
      if (k.namespace && !CLUSTER_SCOPED.has(o.kind)) {
        o.metadata = {...o.metadata, namespace: k.namespace};
      }
      objects.push(o);
    }
  }
  return objects;
}

const idOf = (o) => `${o.kind} ${(o.metadata || {}).namespace || "-"}/${(o.metadata || {}).name}`;

function sameObjects(a, b) {
  const canon = (list) => JSON.stringify(list.map((o) => [idOf(o), o]).sort((x, y) =>
    x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0), (key, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v);
  return canon(a) === canon(b);
}

function load(paths, renderer) {
  const objects = [];
  for (const p of paths) {
    if (!fs.statSync(p).isDirectory()) {
      objects.push(...parseYaml(fs.readFileSync(p, "utf8"), p));
      continue;
    }
    if (renderer === "builtin") {
      objects.push(...renderBuiltin(p));
      continue;
    }
    const rendered = renderKubectl(p);
    if (renderer === "both" && !sameObjects(rendered, renderBuiltin(p))) {
      throw new Error(`${p}: the built-in renderer's objects differ from kubectl kustomize's`);
    }
    objects.push(...rendered);
  }
  return objects;
}

// ---- schemas ---------------------------------------------------------------------------------

// Unknown fields are refused, as the API server's strict field validation would: every object
// schema that lists its properties gets additionalProperties false unless it keeps unknown
// fields on purpose.
function strictSchema(s) {
  if (Array.isArray(s)) return s.map(strictSchema);
  if (!s || typeof s !== "object") return s;
  const out = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, strictSchema(v)]));
  if (out.properties && out.additionalProperties === undefined &&
      !out["x-kubernetes-preserve-unknown-fields"]) {
    out.additionalProperties = false;
  }
  return out;
}

let crdValidators;
function crdValidator(apiVersion, kind) {
  if (!crdValidators) {
    crdValidators = {};
    const ajv = new Ajv({strict: false, allErrors: true, validateFormats: false, logger: false});
    for (const f of fs.readdirSync(CRD_DIR).filter((f) => /^(cluster|pooler)\.json$/.test(f))) {
      const c = JSON.parse(fs.readFileSync(path.join(CRD_DIR, f), "utf8"));
      const schema = strictSchema(c.openAPIV3Schema);
      // metadata is the API server's, not the CRD's: checked as any object's below.
      schema.properties.metadata = {type: "object"};
      crdValidators[`${c.group}/${c.version}/${c.kind}`] = ajv.compile(schema);
    }
  }
  return crdValidators[`${apiVersion}/${kind}`];
}

function builtinModel(apiVersion, kind) {
  try {
    return require(apiVersion.includes("/") ? `kubernetes-models/${apiVersion}`
                                            : "kubernetes-models/v1")[kind];
  } catch (e) {
    return undefined;
  }
}

function schemaErrors(o) {
  if (!o.apiVersion || !o.kind || !o.metadata || !o.metadata.name) {
    return ["needs apiVersion, kind and metadata.name"];
  }
  const v = crdValidator(o.apiVersion, o.kind);
  if (v) {
    if (v(o)) return [];
    return v.errors.map((e) => `${e.instancePath || "/"} ${e.message}` +
                               (e.params && e.params.additionalProperty
                                 ? ` (${e.params.additionalProperty})` : "") +
                               (e.params && e.params.allowedValues
                                 ? ` (${e.params.allowedValues.join(", ")})` : ""));
  }
  const M = builtinModel(o.apiVersion, o.kind);
  if (!M) return [`unknown kind ${o.apiVersion} ${o.kind} (no Kubernetes 1.27 model, no CRD)`];
  try {
    new M(o).validate();
    return [];
  } catch (e) {
    return [e.message.split("\n")[0]];
  }
}

// ---- how the objects fit together ------------------------------------------------------------

const matches = (selector, labels) =>
  Object.entries(selector || {}).every(([k, v]) => (labels || {})[k] === v);

function podTemplates(objects) {
  return objects.filter((o) => WORKLOAD_KINDS.has(o.kind) && o.spec && o.spec.template)
                .map((o) => ({owner: o, ns: o.metadata.namespace, tpl: o.spec.template}));
}

// "--name=value" arguments of a container.
function flag(container, name) {
  for (const a of container.args || []) {
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

function semverAtLeast(version, min) {
  const a = version.split(".").map(Number), b = min.split(".").map(Number);
  for (let i = 0; i < b.length; i++) {
    if ((a[i] || 0) !== b[i]) return (a[i] || 0) > b[i];
  }
  return true;
}

function crossErrors(objects) {
  const errors = [];
  const fail = (o, msg) => errors.push(`${idOf(o)}: ${msg}`);
  const inNs = (o, kind) => objects.filter((x) => x.kind === kind &&
                                             x.metadata.namespace === o.metadata.namespace);
  const templates = podTemplates(objects);
  const templatesSelected = (o, selector) =>
    templates.filter((t) => t.ns === o.metadata.namespace &&
                            matches(selector, (t.tpl.metadata || {}).labels));

  // Secrets: those in the set, and those each CloudNativePG Cluster will make.
  const secretKeys = (o, name) => {
    const s = inNs(o, "Secret").find((x) => x.metadata.name === name);
    if (s) return [...Object.keys(s.data || {}), ...Object.keys(s.stringData || {})];
    for (const c of inNs(o, "Cluster")) {
      for (const [suffix, keys] of Object.entries(CNPG_SECRETS)) {
        if (name === `${c.metadata.name}-${suffix}`) return keys;
      }
    }
    return undefined;
  };
  const checkSecret = (o, where, name, keys) => {
    const have = secretKeys(o, name);
    if (!have) return fail(o, `${where}: Secret ${name} is neither in the manifests nor made by a Cluster`);
    for (const k of keys) if (!have.includes(k)) fail(o, `${where}: Secret ${name} has no key ${k}`);
  };

  for (const {owner, tpl} of templates) {
    const spec = tpl.spec || {};
    const labels = (tpl.metadata || {}).labels || {};
    if (owner.kind !== "Job" && !matches((owner.spec.selector || {}).matchLabels, labels)) {
      fail(owner, "spec.selector.matchLabels does not match the pod template's labels");
    }
    for (const v of spec.volumes || []) {
      if (v.secret) {
        checkSecret(owner, `volume ${v.name}`, v.secret.secretName,
                    (v.secret.items || []).map((i) => i.key));
      }
      if (v.persistentVolumeClaim &&
          !inNs(owner, "PersistentVolumeClaim").some((p) => p.metadata.name === v.persistentVolumeClaim.claimName)) {
        fail(owner, `volume ${v.name}: PersistentVolumeClaim ${v.persistentVolumeClaim.claimName} is not in the manifests`);
      }
    }
    const volumeNames = new Set((spec.volumes || []).map((v) => v.name));
    for (const c of [...(spec.initContainers || []), ...(spec.containers || [])]) {
      for (const e of c.env || []) {
        const ref = e.valueFrom && e.valueFrom.secretKeyRef;
        if (ref) checkSecret(owner, `container ${c.name} env ${e.name}`, ref.name, [ref.key]);
      }
      for (const m of c.volumeMounts || []) {
        if (!volumeNames.has(m.name)) fail(owner, `container ${c.name}: mounts unknown volume ${m.name}`);
      }
      const ports = c.ports || [];
      for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
        const p = c[probe];
        if (!p) continue;
        const action = p.grpc || p.httpGet || p.tcpSocket;
        if (action && !ports.some((x) => x.containerPort === action.port || x.name === action.port)) {
          fail(owner, `container ${c.name} ${probe}: port ${action.port} is not a container port`);
        }
      }
      // A stop is preStop sleep, then --drain-seconds, then --shutdown-seconds: all of it must
      // end before the kubelet's SIGKILL.
      const drain = flag(c, "drain-seconds");
      if (drain !== undefined) {
        const pre = (((c.lifecycle || {}).preStop || {}).exec || {}).command || [];
        const sleep = pre.length === 2 && /sleep$/.test(pre[0]) ? Number(pre[1]) : 0;
        const need = sleep + Number(drain) + Number(flag(c, "shutdown-seconds") || 0);
        const grace = spec.terminationGracePeriodSeconds ?? 30;
        if (!(grace > need)) {
          fail(owner, `terminationGracePeriodSeconds ${grace} is not more than preStop + drain + shutdown (${need} s)`);
        }
      }
    }
  }

  for (const svc of objects.filter((o) => o.kind === "Service" && o.spec && o.spec.selector)) {
    const selected = templatesSelected(svc, svc.spec.selector);
    if (!selected.length) fail(svc, "its selector matches no pod template");
    for (const port of svc.spec.ports || []) {
      const target = port.targetPort ?? port.port;
      for (const {owner, tpl} of selected) {
        const ok = (tpl.spec.containers || []).some((c) => (c.ports || []).some((x) =>
          x.name === target || x.containerPort === target));
        if (!ok) fail(svc, `port ${port.name}: target ${target} is not a port of ${idOf(owner)}`);
      }
    }
  }

  for (const hpa of objects.filter((o) => o.kind === "HorizontalPodAutoscaler")) {
    const ref = hpa.spec.scaleTargetRef;
    if (!inNs(hpa, ref.kind).some((o) => o.metadata.name === ref.name && o.apiVersion === ref.apiVersion)) {
      fail(hpa, `scaleTargetRef ${ref.apiVersion} ${ref.kind} ${ref.name} is not in the manifests`);
    }
  }

  for (const pdb of objects.filter((o) => o.kind === "PodDisruptionBudget")) {
    if (!templatesSelected(pdb, pdb.spec.selector.matchLabels).length) {
      fail(pdb, "its selector matches no pod template");
    }
  }

  // Network policy selectors: pods of the manifests, or those CloudNativePG makes for a Cluster
  // (cnpg.io/cluster, with cnpg.io/podRole instance or pooler) or a Pooler (cnpg.io/poolerName)
  // of the manifests.
  const selectsSomething = (o, sel) => {
    const labels = sel.matchLabels || {};
    if (labels["cnpg.io/cluster"] !== undefined) {
      const role = labels["cnpg.io/podRole"];
      return (role === undefined || role === "instance" || role === "pooler") &&
             inNs(o, "Cluster").some((c) => c.metadata.name === labels["cnpg.io/cluster"]);
    }
    if (labels["cnpg.io/poolerName"] !== undefined) {
      return inNs(o, "Pooler").some((p) => p.metadata.name === labels["cnpg.io/poolerName"]);
    }
    return templatesSelected(o, labels).length > 0;
  };
  for (const np of objects.filter((o) => o.kind === "NetworkPolicy")) {
    if (!selectsSomething(np, np.spec.podSelector)) fail(np, "spec.podSelector matches no pods");
    for (const rule of np.spec.ingress || []) {
      for (const peer of rule.from || []) {
        // A peer in other namespaces cannot be checked here.
        if (peer.podSelector && !peer.namespaceSelector && !selectsSomething(np, peer.podSelector)) {
          fail(np, `ingress from ${JSON.stringify(peer.podSelector.matchLabels)} matches no pods`);
        }
      }
    }
  }

  // CloudNativePG: what its admission webhook refuses, and the durability promise.
  const allowed = new Set(JSON.parse(fs.readFileSync(path.join(CRD_DIR, "pgbouncer-parameters.json"),
                                                     "utf8")).parameters);
  for (const pooler of objects.filter((o) => o.kind === "Pooler")) {
    if (!inNs(pooler, "Cluster").some((c) => c.metadata.name === pooler.spec.cluster.name)) {
      fail(pooler, `spec.cluster.name ${pooler.spec.cluster.name} is not a Cluster of the manifests`);
    }
    if (pooler.metadata.name === pooler.spec.cluster.name) {
      fail(pooler, "a Pooler's name must differ from its Cluster's");
    }
    const bouncer = pooler.spec.pgbouncer || {};
    for (const p of Object.keys(bouncer.parameters || {})) {
      if (!allowed.has(p)) fail(pooler, `pgbouncer parameter ${p} is refused by CloudNativePG`);
    }
    // Transaction pooling breaks libpqxx's prepared statements before PgBouncer 1.21.
    if (bouncer.poolMode === "transaction") {
      if (!(bouncer.parameters || {}).max_prepared_statements) {
        fail(pooler, "transaction pooling needs pgbouncer.parameters.max_prepared_statements");
      }
      const c = (((pooler.spec.template || {}).spec || {}).containers || [])
        .find((x) => x.name === "pgbouncer");
      const tag = c && c.image ? (c.image.match(/:(\d+(\.\d+)*)/) || [])[1] : undefined;
      if (!tag || !semverAtLeast(tag, "1.21")) {
        fail(pooler, `transaction pooling needs a pinned PgBouncer image >= 1.21 (have ${c ? c.image : "none"})`);
      }
    }
  }
  for (const cl of objects.filter((o) => o.kind === "Cluster")) {
    const pg = cl.spec.postgresql || {};
    const sync = pg.synchronous || {};
    if (!(sync.number >= 1) || (sync.dataDurability || "required") !== "required") {
      fail(cl, "no acknowledged write may be lost: postgresql.synchronous needs number >= 1 and dataDurability required");
    }
    const commit = (pg.parameters || {}).synchronous_commit;
    if (commit !== undefined && !["on", "remote_write", "remote_apply"].includes(commit)) {
      fail(cl, `synchronous_commit ${commit} acknowledges commits no standby has`);
    }
    if (!(cl.spec.instances > sync.number)) {
      fail(cl, "instances must exceed the synchronous standbys it waits for");
    }
  }
  return errors;
}

// ---- all of it -------------------------------------------------------------------------------

function validate(objects) {
  const errors = [];
  const seen = new Set();
  for (const o of objects) {
    if (seen.has(idOf(o))) errors.push(`${idOf(o)}: defined twice`);
    seen.add(idOf(o));
    for (const e of schemaErrors(o)) errors.push(`${idOf(o)}: ${e}`);
  }
  if (!errors.length) errors.push(...crossErrors(objects));
  return errors;
}

// ---- the flags the deployment passes exist --------------------------------------------------

// Every --flag given to an icr-server container, every ICR_* variable set in a pod, and every
// ICR_* name in the given text files (the systemd unit and environment file) must be a flag of
// `icr-server --help` (the variable ICR_<FLAG> is the flag's twin).
function flagErrors(objects, serverBin, textFiles) {
  const help = execFileSync(serverBin, ["--help"], {encoding: "utf8"});
  const known = new Set([...help.matchAll(/^\s+(?:-\w, )?--([a-z0-9-]+)/gm)].map((m) => m[1]));
  const errors = [];
  const check = (where, flagName) => {
    if (!known.has(flagName)) errors.push(`${where}: icr-server has no flag --${flagName}`);
  };
  const fromEnv = (name) => name.slice(4).toLowerCase().replace(/_/g, "-");
  for (const {owner, tpl} of podTemplates(objects)) {
    for (const c of tpl.spec.containers || []) {
      if (c.name === "icr-server") {
        for (const a of c.args || []) {
          const m = a.match(/^--([a-z0-9-]+)/);
          if (m) check(`${idOf(owner)} container ${c.name}`, m[1]);
        }
      }
      for (const e of c.env || []) {
        if (e.name.startsWith("ICR_")) check(`${idOf(owner)} env ${e.name}`, fromEnv(e.name));
      }
    }
  }
  for (const f of textFiles) {
    for (const m of fs.readFileSync(f, "utf8").matchAll(/\bICR_[A-Z0-9_]+/g)) {
      check(`${path.basename(f)} ${m[0]}`, fromEnv(m[0]));
    }
  }
  return errors;
}

module.exports = {load, validate, haveKubectl, idOf};

if (require.main === module) {
  let args = process.argv.slice(2), renderer = haveKubectl() ? "both" : "builtin";
  let serverBin, textFiles = [];
  for (;;) {
    if (args[0] === "--renderer") renderer = args[1];
    else if (args[0] === "--icr-server") serverBin = args[1];
    else if (args[0] === "--text") textFiles.push(args[1]);
    else break;
    args = args.slice(2);
  }
  if (!["kubectl", "builtin", "both"].includes(renderer) || !args.length) {
    console.error("usage: validate.js [--renderer kubectl|builtin|both] " +
                  "[--icr-server BIN [--text FILE]...] PATH...");
    process.exit(2);
  }
  let objects;
  try {
    objects = load(args, renderer);
  } catch (e) {
    console.error(`FAIL ${e.message}`);
    process.exit(1);
  }
  // With --icr-server, only the flags are checked (the schemas are k8s_manifests_valid's).
  const errors = serverBin ? flagErrors(objects, serverBin, textFiles) : validate(objects);
  for (const e of errors) console.log(`FAIL ${e}`);
  console.log(`${objects.length} objects (rendered by ${renderer}), ${errors.length} problems`);
  process.exit(errors.length ? 1 : 0);
}
