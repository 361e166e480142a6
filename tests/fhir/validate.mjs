// Offline validation of FHIR R4 resources the server emits (fhir-ukcore.md section 10):
//   (a) base R4 structure with the `fhir` package (errorOnUnexpected), and
//   (b) a small UK Core checker driven by the definitions it loads (UK Core STU2 in ukcore/, the
//       project's own in services/fhir/definitions/): meta.profile claims, identifier slices with
//       fixed systems (NHS number Modulus 11, ODS value), extension URLs / value[x] types / max,
//       codes of UK Core and project code systems, required bindings, and the project invariants
//       (active S117 episode names both responsible bodies; funding shares sum to 100).
//
// usage: node validate.mjs [--definitions DIR]... FILE_OR_DIR...
//   JSON files hold one resource (a Bundle's entries are checked one by one), .ndjson files one
//   resource a line; directories are searched for *.json and *.ndjson. Without --definitions the
//   folders are ukcore/ and <repo>/services/fhir/definitions/; a definition's URL seen twice keeps
//   the first one loaded.
// Prints one line per problem, `file: ResourceType/id: FHIRPath: message`, then a summary line;
// exits 1 when there is any problem, 2 on a usage error.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fhirpkg from 'fhir';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const CORE_SD = 'http://hl7.org/fhir/StructureDefinition/';
// fhir-ukcore.md Q1; replaced by the base the project's own definitions use when they are loaded.
const DEFAULT_CANON = 'https://icr.example.org/fhir/';

// ---------------------------------------------------------------- definitions

const defs = {
  profiles: new Map(), // url -> profile
  extensions: new Map(), // url -> extension definition
  codeSystems: new Map(), // url -> { codes: Set, caseSensitive, complete }
  valueSets: new Map(), // url -> ValueSet
  slicesBySystem: new Map(), // fixed identifier system -> [slice]
  identifierSystems: new Set(), // fixed slice systems and NamingSystem uris
  canon: DEFAULT_CANON,
  loaded: 0,
};

const stripVersion = (url) => (url || '').split('|')[0];
const elementsOf = (sd) => (sd.snapshot || sd.differential || {}).element || [];
const typeCodes = (el) => (el && el.type ? el.type.map((t) => t.code) : null);
const maxOf = (el) => (el && el.max !== undefined ? (el.max === '*' ? Infinity : Number(el.max)) : Infinity);
const minOf = (el) => (el && el.min !== undefined ? Number(el.min) : 0);

function requiredBinding(el) {
  return el && el.binding && el.binding.strength === 'required' && el.binding.valueSet
    ? stripVersion(el.binding.valueSet)
    : null;
}

function loadExtension(sd) {
  const els = elementsOf(sd);
  const byId = new Map(els.map((e) => [e.id || e.path, e]));
  const value = byId.get('Extension.value[x]');
  const subs = new Map();
  for (const e of els) {
    const m = /^Extension\.extension:([^.]+)$/.exec(e.id || '');
    if (!m) continue;
    const urlEl = byId.get(`${e.id}.url`);
    const subValue = byId.get(`${e.id}.value[x]`);
    subs.set(urlEl && urlEl.fixedUri ? urlEl.fixedUri : m[1], {
      min: minOf(e),
      max: maxOf(e),
      types: typeCodes(subValue),
      binding: requiredBinding(subValue),
    });
  }
  return {
    url: sd.url,
    name: sd.id || sd.name,
    max: maxOf(byId.get('Extension')),
    complex: (value && value.max === '0') || subs.size > 0,
    valueMin: minOf(value),
    types: typeCodes(value),
    binding: requiredBinding(value),
    subs,
  };
}

function loadProfile(sd) {
  const els = elementsOf(sd);
  const byId = new Map(els.map((e) => [e.id || e.path, e]));
  const profile = { url: sd.url, name: sd.id || sd.name, type: sd.type, extSlices: [], idSlices: [], bindings: [] };
  for (const e of els) {
    const id = e.id || e.path;
    const extProfile = (e.type || []).find((t) => t.code === 'Extension' && t.profile);
    if (extProfile && id.includes(':')) {
      for (const url of extProfile.profile) profile.extSlices.push({ path: e.path, url: stripVersion(url), max: maxOf(e) });
    }
    const m = /^(.*\.identifier):([^.]+)$/.exec(id);
    if (m) {
      const system = byId.get(`${id}.system`);
      if (system && system.fixedUri) {
        const required = els
          .filter((c) => (c.id || '').startsWith(`${id}.`) && !(c.id || '').slice(id.length + 1).includes('.') && minOf(c) >= 1)
          .map((c) => c.id.slice(id.length + 1))
          .filter((c) => c !== 'system');
        const slice = { profile: profile.name, name: m[2], path: e.path, system: system.fixedUri, max: maxOf(e), required };
        profile.idSlices.push(slice);
        if (!defs.slicesBySystem.has(slice.system)) defs.slicesBySystem.set(slice.system, []);
        defs.slicesBySystem.get(slice.system).push(slice);
        defs.identifierSystems.add(slice.system);
      }
    }
    const vs = requiredBinding(e);
    if (vs && !id.includes(':')) {
      const re = new RegExp('^' + e.path.replace(/[.]/g, '\\.').replace(/\\\.([A-Za-z]+)\[x\]/g, '\\.$1[A-Z][A-Za-z]*') + '$');
      profile.bindings.push({ path: e.path, re, valueSet: vs });
    }
  }
  return profile;
}

function collectCodes(concepts, into) {
  for (const c of concepts || []) {
    into.add(c.code);
    collectCodes(c.concept, into);
  }
}

function loadDefinition(res) {
  if (!res || typeof res !== 'object') return;
  if (res.resourceType === 'Bundle') {
    for (const entry of res.entry || []) loadDefinition(entry.resource);
    return;
  }
  const url = stripVersion(res.url);
  switch (res.resourceType) {
    case 'StructureDefinition':
      if (defs.extensions.has(url) || defs.profiles.has(url)) return;
      if (res.type === 'Extension') defs.extensions.set(url, loadExtension(res));
      else defs.profiles.set(url, loadProfile(res));
      break;
    case 'CodeSystem': {
      if (defs.codeSystems.has(url)) return;
      const codes = new Set();
      collectCodes(res.concept, codes);
      const caseSensitive = res.caseSensitive !== false;
      defs.codeSystems.set(url, {
        codes: caseSensitive ? codes : new Set([...codes].map((c) => c.toLowerCase())),
        caseSensitive,
        complete: (res.content || 'complete') === 'complete',
      });
      break;
    }
    case 'ValueSet':
      if (!defs.valueSets.has(url)) defs.valueSets.set(url, res);
      break;
    case 'NamingSystem':
      for (const u of res.uniqueId || []) if (u.type === 'uri') defs.identifierSystems.add(u.value);
      break;
    default:
      return;
  }
  defs.loaded++;
  const m = /^(.*\/)(StructureDefinition|CodeSystem|ValueSet)\/[^/]*-ICR-/.exec(url) ||
    /^(.*\/)(StructureDefinition|CodeSystem|ValueSet)\/ICR-/.exec(url);
  if (m) defs.canon = m[1];
}

function loadDefinitions(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.json')) continue;
    try {
      loadDefinition(JSON.parse(readFileSync(join(dir, name), 'utf8')));
    } catch (err) {
      console.error(`${join(dir, name)}: not a definition: ${err.message}`);
      process.exit(2);
    }
  }
}

// ---------------------------------------------------------------- terminology

function inCodeSystem(system, code) {
  const cs = defs.codeSystems.get(system);
  if (!cs || !cs.complete) return undefined;
  return cs.codes.has(cs.caseSensitive ? code : String(code).toLowerCase());
}

// true / false, or undefined when the value set includes a system we cannot expand.
function inValueSet(vsUrl, system, code, seen = new Set()) {
  const vs = defs.valueSets.get(vsUrl);
  if (!vs || seen.has(vsUrl)) return undefined;
  seen.add(vsUrl);
  if (vs.expansion && vs.expansion.contains) {
    const flat = [];
    const walk = (list) => list.forEach((c) => (flat.push(c), walk(c.contains || [])));
    walk(vs.expansion.contains);
    return flat.some((c) => c.system === system && c.code === code);
  }
  let unknown = false;
  for (const inc of (vs.compose && vs.compose.include) || []) {
    for (const nested of inc.valueSet || []) {
      const r = inValueSet(stripVersion(nested), system, code, seen);
      if (r === true) return true;
      if (r === undefined) unknown = true;
    }
    if (inc.system !== system) continue;
    if (inc.concept) {
      if (inc.concept.some((c) => c.code === code)) return true;
    } else if (inc.filter && inc.filter.length) {
      unknown = true;
    } else {
      const r = inCodeSystem(system, code);
      if (r === true) return true;
      if (r === undefined) unknown = true;
    }
  }
  return unknown ? undefined : false;
}

const codingsOf = (value) => {
  if (!value || typeof value !== 'object') return [];
  if (Array.isArray(value.coding)) return value.coding;
  if (value.system !== undefined || value.code !== undefined) return [value];
  return [];
};

// ---------------------------------------------------------------- checks

const PRIMITIVES = new Set([
  'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant',
  'integer', 'markdown', 'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid',
]);
function valueType(key) {
  const t = key.slice('value'.length);
  const lower = t.charAt(0).toLowerCase() + t.slice(1);
  return PRIMITIVES.has(lower) ? lower : t;
}
const valueKeys = (obj) => Object.keys(obj).filter((k) => /^value[A-Z]/.test(k));

function nhsNumberValid(value) {
  if (!/^\d{10}$/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(value[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === Number(value[9]);
}

// An identifier system that looks like a known one but is not it (other scheme, case, host or
// trailing slash; same last segment) is a misspelt fixed system.
const lastSegment = (uri) => uri.replace(/\/+$/, '').split('/').pop().toLowerCase();
const normalised = (uri) => uri.toLowerCase().replace(/^[a-z]+:\/\/(www\.)?/, '').replace(/\/+$/, '');

class Checker {
  constructor(report, resource) {
    this.report = report;
    this.resource = resource;
    this.type = resource.resourceType;
    this.profiles = [];
  }

  problem(path, message) {
    this.report(path, message);
  }

  run() {
    const r = this.resource;
    const claims = (r.meta && r.meta.profile) || [];
    claims.forEach((url, i) => {
      const u = stripVersion(url);
      const p = defs.profiles.get(u);
      if (p) {
        if (p.type !== this.type) this.problem(`${this.type}.meta.profile[${i}]`, `profile ${u} is for ${p.type}, not ${this.type}`);
        else this.profiles.push(p);
      } else if (u !== CORE_SD + this.type) {
        this.problem(`${this.type}.meta.profile[${i}]`, `unknown profile ${u}`);
      }
    });
    this.walk(r, this.type, this.type);
    this.invariants();
  }

  // node: the JSON value; path: FHIRPath with indexes; elem: element path without indexes.
  walk(node, path, elem) {
    if (Array.isArray(node)) {
      node.forEach((v, i) => this.walk(v, `${path}[${i}]`, elem));
      return;
    }
    if (!node || typeof node !== 'object') return;
    for (const b of this.profiles.flatMap((p) => p.bindings)) {
      if (b.re.test(elem)) this.checkBinding(node, path, b.valueSet, `required binding of ${b.path}`);
    }
    if (typeof node.system === 'string' && node.code !== undefined) this.checkCoding(node, path);
    for (const [key, value] of Object.entries(node)) {
      if (key === 'resourceType' || key === 'contained') continue;
      const childPath = `${path}.${key.startsWith('_') ? key.slice(1) : key}`;
      const childElem = `${elem}.${key.startsWith('_') ? key.slice(1) : key}`;
      if (key === 'extension' || key === 'modifierExtension') {
        if (Array.isArray(value)) this.checkExtensions(value, childPath, childElem);
        continue;
      }
      if (key === 'identifier') {
        const list = Array.isArray(value) ? value : [value];
        list.forEach((id, i) => this.checkIdentifier(id, Array.isArray(value) ? `${childPath}[${i}]` : childPath));
        if (Array.isArray(value)) this.checkIdentifierSlices(value, childPath, childElem);
      }
      this.walk(value, childPath, childElem);
    }
  }

  checkCoding(coding, path) {
    const r = inCodeSystem(coding.system, coding.code);
    if (r === false) this.problem(`${path}.code`, `code '${coding.code}' is not in code system ${coding.system}`);
  }

  checkBinding(value, path, vsUrl, what) {
    const list = typeof value === 'string' ? [] : codingsOf(value);
    if (!list.length) {
      if (typeof value === 'object' && !Array.isArray(value) && (value.coding || value.text !== undefined))
        this.problem(path, `${what}: no coding from ${vsUrl}`);
      return;
    }
    const results = list.map((c) => inValueSet(vsUrl, c.system, c.code));
    if (results.includes(true) || results.includes(undefined)) return;
    this.problem(path, `${what}: no coding from value set ${vsUrl}`);
  }

  checkIdentifier(id, path) {
    if (!id || typeof id !== 'object' || typeof id.system !== 'string') return;
    const system = id.system;
    if (system === NHS_NUMBER_SYSTEM && id.value !== undefined && !nhsNumberValid(String(id.value)))
      this.problem(`${path}.value`, `'${id.value}' is not an NHS number (10 digits with a valid Modulus 11 check digit)`);
    for (const slice of defs.slicesBySystem.get(system) || []) {
      for (const child of slice.required) {
        if (id[child] === undefined || id[child] === '')
          this.problem(`${path}.${child}`, `missing: required by ${slice.profile} slice ${slice.name}`);
      }
    }
    if (!defs.identifierSystems.has(system)) {
      const near = [...defs.identifierSystems].find(
        (known) => lastSegment(known) === lastSegment(system) || normalised(known) === normalised(system));
      if (near) this.problem(`${path}.system`, `unknown identifier system ${system} (did you mean ${near}?)`);
    }
  }

  checkIdentifierSlices(list, path, elem) {
    for (const p of this.profiles) {
      for (const slice of p.idSlices) {
        if (slice.path !== elem) continue;
        const n = list.filter((id) => id && id.system === slice.system).length;
        if (n > slice.max) this.problem(path, `${n} identifiers in slice ${slice.name} of ${p.name} (max ${slice.max})`);
      }
    }
  }

  checkExtensions(list, path, elem) {
    const counts = new Map();
    const funding = [];
    list.forEach((ext, i) => {
      const p = `${path}[${i}]`;
      if (!ext || typeof ext.url !== 'string') {
        this.problem(p, 'extension without url');
        return;
      }
      const def = defs.extensions.get(ext.url);
      if (!def) {
        this.problem(p, `unknown extension ${ext.url}`);
        return;
      }
      counts.set(def, (counts.get(def) || 0) + 1);
      this.checkExtension(ext, def, p, elem);
      if (ext.url === `${defs.canon}StructureDefinition/Extension-ICR-Funding`) funding.push([ext, p]);
    });
    for (const [def, n] of counts) {
      let max = def.max;
      let where = `definition of ${def.name}`;
      for (const prof of this.profiles) {
        for (const s of prof.extSlices) {
          if (s.path === elem && s.url === def.url && s.max < max) {
            max = s.max;
            where = prof.name;
          }
        }
      }
      if (n > max) this.problem(path, `extension ${def.url} appears ${n} times (max ${max} in ${where})`);
    }
    this.checkFunding(funding, path);
  }

  checkValue(ext, types, binding, p, mustHave, what) {
    const keys = valueKeys(ext);
    if (keys.length > 1) this.problem(p, `${what} has more than one value[x]`);
    if (!keys.length) {
      if (mustHave) this.problem(p, `${what} has no value[x]`);
      return;
    }
    const key = keys[0];
    const type = valueType(key);
    if (types && !types.includes(type))
      this.problem(`${p}.${key}`, `${what} value is ${type}, the definition declares ${types.join(' | ')}`);
    if (binding) this.checkBinding(ext[key], `${p}.${key}`, binding, `required binding of ${what}`);
    this.walk(ext[key], `${p}.${key}`, `${p}.value[x]`);
  }

  checkExtension(ext, def, p, elem) {
    if (!def.complex) {
      this.checkValue(ext, def.types, def.binding, p, def.valueMin >= 1 || !ext.extension, def.name);
      if (ext.extension) this.checkExtensions(ext.extension, `${p}.extension`, `${elem}.extension`);
      return;
    }
    if (valueKeys(ext).length) this.problem(p, `${def.name} is a complex extension and has no value[x]`);
    const subs = ext.extension || [];
    const counts = new Map();
    subs.forEach((sub, i) => {
      const sp = `${p}.extension[${i}]`;
      const sdef = sub && def.subs.get(sub.url);
      if (!sdef) {
        this.problem(sp, `unknown part '${sub && sub.url}' of ${def.name}`);
        return;
      }
      counts.set(sub.url, (counts.get(sub.url) || 0) + 1);
      this.checkValue(sub, sdef.types, sdef.binding, sp, true, `${def.name}.${sub.url}`);
    });
    for (const [url, sdef] of def.subs) {
      const n = counts.get(url) || 0;
      if (n < sdef.min) this.problem(`${p}.extension`, `${def.name} lacks its part '${url}'`);
      if (n > sdef.max) this.problem(`${p}.extension`, `${def.name} has '${url}' ${n} times (max ${sdef.max})`);
    }
  }

  // Project invariant: the funding shares of one activity sum to 100 when they are given.
  checkFunding(funding, path) {
    const shares = funding
      .map(([ext]) => (ext.extension || []).find((s) => s.url === 'share'))
      .filter((s) => s && typeof s.valueDecimal === 'number')
      .map((s) => s.valueDecimal);
    if (!shares.length) return;
    const sum = shares.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 100) > 1e-6) this.problem(path, `funding shares sum to ${sum}, not 100`);
  }

  // Project invariant: an active S117 aftercare episode names both responsible bodies.
  invariants() {
    const r = this.resource;
    if (this.type !== 'EpisodeOfCare') return;
    const s117 = (r.type || []).some((t) =>
      codingsOf(t).some((c) => c.system === `${defs.canon}CodeSystem/episode-type` && c.code === 'S117_AFTERCARE'));
    if (!s117 || r.status !== 'active') return;
    const urls = new Set((r.extension || []).map((e) => e.url));
    for (const name of ['Extension-ICR-S117ResponsibleCouncil', 'Extension-ICR-S117ResponsibleICB']) {
      if (!urls.has(`${defs.canon}StructureDefinition/${name}`))
        this.problem('EpisodeOfCare.extension', `an active S117 aftercare episode must carry ${name}`);
    }
  }
}

// ---------------------------------------------------------------- driver

const fhir = new fhirpkg.Fhir();
let problems = 0;
let resources = 0;
let files = 0;

function say(file, label, path, message) {
  problems++;
  console.log(`${file}: ${label}: ${path}: ${message}`);
}

// FHIR JSON (R4 2.6.2): an element is never an empty array, object or string, and never null.
function emptiness(value, path, report) {
  if (value === null) {
    report(path, 'null is not a FHIR value (leave the element out)');
  } else if (Array.isArray(value)) {
    if (value.length === 0) report(path, 'an empty array is not allowed (leave the element out)');
    value.forEach((v, i) => emptiness(v, `${path}[${i}]`, report));
  } else if (typeof value === 'object') {
    if (Object.keys(value).length === 0) report(path, 'an empty object is not allowed');
    for (const [k, v] of Object.entries(value)) {
      if (k !== 'resource') emptiness(v, `${path}.${k}`, report);
    }
  } else if (typeof value === 'string' && value.length === 0) {
    report(path, 'an empty string is not allowed (leave the element out)');
  }
}

function checkResource(file, res) {
  if (!res || typeof res !== 'object' || typeof res.resourceType !== 'string') {
    say(file, '-', '-', 'not a FHIR resource (no resourceType)');
    return;
  }
  resources++;
  const label = `${res.resourceType}/${res.id !== undefined ? res.id : '(no id)'}`;
  const entries = res.resourceType === 'Bundle' && Array.isArray(res.entry) ? res.entry : [];
  // The Bundle's own structure without its entries' resources, which are checked one by one.
  const shell = entries.length
    ? { ...res, entry: entries.map((e) => { const { resource, ...rest } = e || {}; return rest; }) }
    : res;
  const base = fhir.validate(shell, { errorOnUnexpected: true });
  for (const m of base.messages || []) {
    if (m.severity === 'error') say(file, label, m.location || res.resourceType, `R4: ${m.message}`);
  }
  emptiness(shell, res.resourceType, (path, message) => say(file, label, path, message));
  new Checker((path, message) => say(file, label, path, message), shell).run();
  entries.forEach((e) => {
    if (e && e.resource) checkResource(file, e.resource);
  });
}

function checkFile(file) {
  files++;
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    say(file, '-', '-', `cannot read: ${err.message}`);
    return;
  }
  if (file.endsWith('.ndjson')) {
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      try {
        checkResource(`${file}:${i + 1}`, JSON.parse(line));
      } catch (err) {
        say(`${file}:${i + 1}`, '-', '-', `invalid JSON: ${err.message}`);
      }
    });
    return;
  }
  let res;
  try {
    res = JSON.parse(text);
  } catch (err) {
    say(file, '-', '-', `invalid JSON: ${err.message}`);
    return;
  }
  checkResource(file, res);
}

function expand(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      const p = join(path, name);
      if (statSync(p).isDirectory() || /\.(nd)?json$/.test(name)) expand(p, out);
    }
  } else {
    out.push(path);
  }
}

const args = process.argv.slice(2);
const defDirs = [];
const inputs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--definitions') defDirs.push(args[++i]);
  else inputs.push(args[i]);
}
if (!inputs.length || defDirs.includes(undefined)) {
  console.error('usage: node validate.mjs [--definitions DIR]... FILE_OR_DIR...');
  process.exit(2);
}
for (const dir of defDirs.length ? defDirs : [join(HERE, 'ukcore'), join(ROOT, 'services', 'fhir', 'definitions')])
  loadDefinitions(dir);

const list = [];
for (const input of inputs) {
  if (!existsSync(input)) {
    console.error(`${input}: no such file or directory`);
    process.exit(2);
  }
  expand(input, list);
}
list.forEach(checkFile);
console.log(`checked ${resources} resources in ${files} files against ${defs.loaded} definitions: ${problems} problems`);
process.exit(problems ? 1 : 0);
