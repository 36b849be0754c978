// Schema checks of rendered objects.
//  - kubernetes-models: the Kubernetes OpenAPI schemas compiled to ajv
//    validators (types, required fields, enums, quantities, int-or-string);
//    @kubernetes-models/prometheus-operator for ServiceMonitor/PodMonitor.
//  - @kubernetes/client-node: the field lists generated from the OpenAPI
//    spec, to reject unknown fields as the API server's strict field
//    validation (kubectl's default) does. kubernetes-models allows them.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const clientModels = await import("@kubernetes/client-node/dist/gen/models/ObjectSerializer.js");

function modelClass(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const module =
    group === "monitoring.coreos.com"
      ? `@kubernetes-models/prometheus-operator/${group}/${version}`
      : `kubernetes-models/${group ? `${group}/` : ""}${version}`;
  try {
    return require(module)[kind] ?? null;
  } catch {
    return null; // no such group or version
  }
}

// report(message) for each schema violation of obj.
export function checkSchema(obj, report) {
  if (!obj.apiVersion || !obj.kind) {
    report("missing apiVersion or kind");
    return;
  }
  const Model = modelClass(obj.apiVersion, obj.kind);
  if (!Model) {
    report(`no schema for ${obj.apiVersion} ${obj.kind} (unknown kind or API version)`);
    return;
  }
  try {
    new Model(structuredClone(obj)).validate();
  } catch (e) {
    const list = e.errors?.length
      ? [...new Set(e.errors.map((x) => `${x.instancePath || "/"} ${x.message}`))]
      : [e.message];
    for (const m of list) report(`schema: ${m}`);
  }
}

function checkFields(value, type, at, report) {
  if (value === null || value === undefined) return;
  let m;
  if ((m = /^Array<(.+)>$/.exec(type))) {
    if (Array.isArray(value)) value.forEach((v, i) => checkFields(v, m[1], `${at}/${i}`, report));
    return;
  }
  if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
    if (typeof value === "object") {
      for (const [k, v] of Object.entries(value)) checkFields(v, m[1], `${at}/${k}`, report);
    }
    return;
  }
  const cls = clientModels[type];
  if (!cls?.getAttributeTypeMap || typeof value !== "object" || Array.isArray(value)) return;
  const attrs = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!attrs.has(k)) report(`${at}/${k}: unknown field "${k}" (not in ${type})`);
    else checkFields(v, attrs.get(k), `${at}/${k}`, report);
  }
}

// report(message) for each field obj has that its type does not. Custom
// resources (no generated model) get the schema check only.
export function checkUnknownFields(obj, report) {
  if (!obj.apiVersion || !obj.kind) return;
  const version = obj.apiVersion.includes("/") ? obj.apiVersion.split("/")[1] : obj.apiVersion;
  const type = version.charAt(0).toUpperCase() + version.slice(1) + obj.kind;
  if (!clientModels[type]) return;
  checkFields(obj, type, "", report);
}
