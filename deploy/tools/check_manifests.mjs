// Checks kustomize-rendered manifests without a cluster (run by
// scripts/check_deploy.sh):
//  1. schema: every object against the Kubernetes OpenAPI schemas, and no
//     unknown fields (lib/schema.mjs);
//  2. references between objects (lib/references.mjs);
//  3. flags: every --flag given to a tripletstream binary, in args or in a
//     flag file mounted from a ConfigMap, is one the binary lists in
//     --helpfull, and the binary accepts the whole command line
//     (lib/flags.mjs). The trainer's dns:/// name is a headless Service.
//
//   node check_manifests.mjs --bin-dir DIR [--dry-run-server NAME=DATA_DIR]
//       NAME=RENDERED.yaml [...]
// NAME is the kustomization's folder relative to deploy/k8s ("base",
// "overlays/cpu"). --dry-run-server also loads DATA_DIR (relative to the
// repository) with that overlay's server flags and --dry_run.
// Prints every problem, each naming the overlay, the object and the files
// under deploy/k8s it comes from, and exits 1 if there was any.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { checkDataParallel } from "./lib/data_parallel.mjs";
import { checkFlags, checkServers } from "./lib/flags.mjs";
import { checkReferences } from "./lib/references.mjs";
import { checkSchema, checkUnknownFields } from "./lib/schema.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const k8sDir = path.resolve(here, "../k8s");
const repoRoot = path.resolve(here, "../..");

function parseArgs(argv) {
  const out = { binDir: null, dryRun: new Map(), inputs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--bin-dir") out.binDir = argv[++i];
    else if (a === "--dry-run-server") {
      const [name, dir] = argv[++i].split("=");
      out.dryRun.set(name, path.resolve(repoRoot, dir));
    } else {
      const eq = a.indexOf("=");
      if (eq < 1) throw new Error(`expected NAME=RENDERED.yaml, got ${a}`);
      out.inputs.push({ name: a.slice(0, eq), file: a.slice(eq + 1) });
    }
  }
  if (!out.binDir) throw new Error("--bin-dir is required");
  return out;
}

function yamlFiles(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const p = path.join(dir, entry);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(entry) ? [p] : [];
  });
}

// "Kind/name" -> files under deploy/k8s that define or patch it.
function indexSources() {
  const sources = new Map();
  const add = (key, file) => {
    if (!sources.has(key)) sources.set(key, new Set());
    sources.get(key).add(path.relative(repoRoot, file));
  };
  for (const file of yamlFiles(k8sDir)) {
    const docs = parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS() ?? {});
    for (const o of docs) {
      if (o.kind && o.metadata?.name) add(`${o.kind}/${o.metadata.name}`, file);
      // Patches written inline in a kustomization name their target.
      for (const p of o.patches ?? []) {
        if (p.target?.kind && p.target?.name) add(`${p.target.kind}/${p.target.name}`, file);
      }
    }
  }
  return sources;
}

const sources = indexSources();
const problems = [];

function reporterFor(overlay) {
  return (obj, message) => {
    // Generated ConfigMaps carry a content hash suffix.
    const name = obj.metadata?.name ?? "?";
    const plain = obj.kind === "ConfigMap" ? name.replace(/-[a-z0-9]{10}$/, "") : name;
    const mine = (f) => ["base", "components", overlay].some((d) => f.startsWith(`deploy/k8s/${d}/`));
    const files = [...(sources.get(`${obj.kind}/${plain}`) ?? [])].filter(mine);
    const from = files.length ? ` (${files.join(", ")})` : "";
    problems.push(`${overlay}: ${obj.kind}/${name}${from}: ${message}`);
  };
}

const opts = parseArgs(process.argv.slice(2));
const scratch = mkdtempSync(path.join(tmpdir(), "tripletstream-flags-"));
try {
  for (const { name, file } of opts.inputs) {
    const report = reporterFor(name);
    const objects = [];
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
      if (doc.errors.length) problems.push(`${name}: ${file}: YAML: ${doc.errors[0].message}`);
      const o = doc.toJS();
      if (o) objects.push(o);
    }
    console.log(`${name}: ${objects.length} objects (${objects.map((o) => o.kind).join(", ")})`);
    for (const o of objects) {
      checkSchema(o, (m) => report(o, m));
      checkUnknownFields(o, (m) => report(o, m));
    }
    checkReferences(objects, report);
    checkDataParallel(objects, report);
    // Generated ConfigMap keys come from same-named files: the overlay's own,
    // else the base's.
    const sourceOf = (key) =>
      [name, "base"].map((d) => `deploy/k8s/${d}/${key}`).find((f) => existsSync(path.join(repoRoot, f)));
    const flagOpts = { binDir: opts.binDir, scratch, tag: name, dryRunData: opts.dryRun.get(name), sourceOf };
    checkFlags(objects, flagOpts, report, (m) => problems.push(m));
    checkServers(objects, report);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (problems.length) {
  console.error(`\n${problems.length} problem(s):`);
  for (const p of [...new Set(problems)]) console.error(`  ${p}`);
  process.exit(1);
}
console.log("manifests: no problems");
