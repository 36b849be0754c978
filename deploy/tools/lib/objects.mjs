// Helpers over rendered Kubernetes objects: pod templates, containers,
// label selectors and the kubelet's $(VAR) expansion.

// The pod template of a workload (or a Pod's own spec) and its labels; null
// for objects that run no pods.
export function podSpecOf(obj) {
  switch (obj.kind) {
    case "Pod":
      return { spec: obj.spec, labels: obj.metadata?.labels ?? {} };
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return { spec: obj.spec?.template?.spec, labels: obj.spec?.template?.metadata?.labels ?? {} };
    case "CronJob":
      return {
        spec: obj.spec?.jobTemplate?.spec?.template?.spec,
        labels: obj.spec?.jobTemplate?.spec?.template?.metadata?.labels ?? {},
      };
    default:
      return null;
  }
}

// Init containers first, then containers.
export function containersOf(spec) {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

// Whether a LabelSelector selects these labels; an empty selector selects
// nothing here (in Kubernetes it selects everything: never what we mean).
export function matches(selector, labels) {
  if (!selector) return false;
  const ml = selector.matchLabels ?? {};
  for (const [k, v] of Object.entries(ml)) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    if (e.operator === "In" && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === "NotIn" && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return Object.keys(ml).length + (selector.matchExpressions ?? []).length > 0;
}

// The container's env as the kubelet sees it for $(VAR) expansion: literal
// values (expanded in order), fieldRef metadata.namespace as the namespace,
// anything else a placeholder.
export function envValues(container, namespace) {
  const values = new Map();
  for (const e of container.env ?? []) {
    let v = "placeholder";
    if (e.value !== undefined) v = expand(e.value, values, () => {});
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") v = namespace;
    values.set(e.name, v);
  }
  return values;
}

// Replaces $(VAR) by its value; onUnknown(name) for names not in values
// (the kubelet leaves those as they are).
export function expand(text, values, onUnknown) {
  return String(text).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, name) => {
    if (values.has(name)) return values.get(name);
    onUnknown(name);
    return all;
  });
}

