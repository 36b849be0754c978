// Cross-object references in rendered manifests: claims, ConfigMaps and
// their keys, mounts, $(VAR) uses, probe ports, and what Services,
// PodDisruptionBudgets, NetworkPolicies, HPAs and monitors select.
import { containersOf, expand, matches, podSpecOf } from "./objects.mjs";

// report(obj, message) for each dangling reference.
export function checkReferences(objects, report) {
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const names = (kind) => new Set(byKind(kind).map((o) => o.metadata?.name));
  const configMaps = new Map(byKind("ConfigMap").map((o) => [o.metadata.name, o]));
  const claims = names("PersistentVolumeClaim");
  const pods = objects.map((o) => ({ obj: o, pod: podSpecOf(o) })).filter((x) => x.pod?.spec);

  for (const { obj, pod } of pods) {
    const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
    for (const v of volumes.values()) {
      if (v.persistentVolumeClaim && !claims.has(v.persistentVolumeClaim.claimName)) {
        report(obj, `volume ${v.name}: no PersistentVolumeClaim ${v.persistentVolumeClaim.claimName}`);
      }
      if (v.configMap && !configMaps.has(v.configMap.name) && !v.configMap.optional) {
        report(obj, `volume ${v.name}: no ConfigMap ${v.configMap.name}`);
      }
    }
    for (const c of containersOf(pod.spec)) {
      for (const m of c.volumeMounts ?? []) {
        if (!volumes.has(m.name)) report(obj, `container ${c.name}: mounts unknown volume ${m.name}`);
      }
      const defined = new Set();
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.configMapKeyRef;
        if (ref && !ref.optional) {
          const cm = configMaps.get(ref.name);
          if (!cm) report(obj, `container ${c.name}: env ${e.name}: no ConfigMap ${ref.name}`);
          else if (!Object.hasOwn(cm.data ?? {}, ref.key)) {
            report(obj, `container ${c.name}: env ${e.name}: ConfigMap ${ref.name} has no key ${ref.key}`);
          }
        }
        if (e.value !== undefined) {
          expand(e.value, new Map([...defined].map((n) => [n, ""])), (n) =>
            report(obj, `container ${c.name}: env ${e.name} uses $(${n}), not defined before it`),
          );
        }
        defined.add(e.name);
      }
      for (const a of [...(c.command ?? []), ...(c.args ?? [])]) {
        expand(a, new Map([...defined].map((n) => [n, ""])), (n) =>
          report(obj, `container ${c.name}: "${a}" uses $(${n}), which is not in its env`),
        );
      }
      const ports = new Map((c.ports ?? []).map((p) => [p.containerPort, p]));
      for (const probeName of ["startupProbe", "readinessProbe", "livenessProbe"]) {
        const probe = c[probeName];
        if (probe?.grpc && !ports.has(probe.grpc.port)) {
          report(obj, `container ${c.name}: ${probeName} grpc port ${probe.grpc.port} is not a container port`);
        }
        // httpGet and tcpSocket ports may be numbers or port names.
        for (const kind of ["httpGet", "tcpSocket"]) {
          const port = probe?.[kind]?.port;
          if (port === undefined) continue;
          const known = typeof port === "number" ? ports.has(port)
                                                 : (c.ports ?? []).some((p) => p.name === port);
          if (!known) report(obj, `container ${c.name}: ${probeName} ${kind} port ${port} is not a container port`);
        }
      }
    }
  }

  const podLabels = pods.map((x) => x.pod.labels);
  const selects = (selector) => podLabels.some((l) => matches(selector, l));
  for (const s of byKind("Service")) {
    if (!s.spec?.selector) continue;
    const target = pods.find((x) => matches({ matchLabels: s.spec.selector }, x.pod.labels));
    if (!target) {
      report(s, "selector matches no pod template");
      continue;
    }
    const portNames = new Set(containersOf(target.pod.spec).flatMap((c) => (c.ports ?? []).map((p) => p.name)));
    for (const p of s.spec.ports ?? []) {
      if (typeof p.targetPort === "string" && !portNames.has(p.targetPort)) {
        report(s, `port ${p.name}: targetPort ${p.targetPort} is no container port name`);
      }
    }
  }
  for (const kind of ["PodDisruptionBudget", "NetworkPolicy"]) {
    for (const o of byKind(kind)) {
      const sel = kind === "NetworkPolicy" ? o.spec?.podSelector : o.spec?.selector;
      if (!selects(sel)) report(o, "selector matches no pod template");
      for (const rule of o.spec?.ingress ?? []) {
        for (const peer of rule.from ?? []) {
          if (peer.podSelector && !peer.namespaceSelector && !selects(peer.podSelector)) {
            report(o, `ingress from podSelector ${JSON.stringify(peer.podSelector)} matches no pod template`);
          }
        }
      }
    }
  }
  for (const h of byKind("HorizontalPodAutoscaler")) {
    const ref = h.spec?.scaleTargetRef ?? {};
    if (!objects.some((o) => o.kind === ref.kind && o.metadata?.name === ref.name)) {
      report(h, `scaleTargetRef ${ref.kind}/${ref.name} is not in the manifests`);
    }
    // An External metric must be one a prometheus-adapter rule in the
    // manifests names (`as: "NAME"`).
    for (const m of h.spec?.metrics ?? []) {
      if (m.type !== "External") continue;
      const name = m.external?.metric?.name;
      const defined = byKind("ConfigMap").some((c) =>
        Object.values(c.data ?? {}).some((text) => String(text).includes(`as: "${name}"`)));
      if (!defined) report(h, `external metric ${name} has no prometheus-adapter rule in the manifests`);
    }
  }
  for (const m of byKind("ServiceMonitor")) {
    const svc = byKind("Service").find((s) => matches(m.spec?.selector, s.metadata?.labels ?? {}));
    if (!svc) report(m, "selector matches no Service");
    else {
      for (const e of m.spec?.endpoints ?? []) {
        if (e.port && !(svc.spec.ports ?? []).some((p) => p.name === e.port)) {
          report(m, `endpoint port ${e.port} is not a port of Service ${svc.metadata.name}`);
        }
      }
    }
  }
  for (const m of byKind("PodMonitor")) {
    const target = pods.find((x) => matches(m.spec?.selector, x.pod.labels));
    if (!target) report(m, "selector matches no pod template");
    else {
      const portNames = new Set(containersOf(target.pod.spec).flatMap((c) => (c.ports ?? []).map((p) => p.name)));
      for (const e of m.spec?.podMetricsEndpoints ?? []) {
        if (e.port && !portNames.has(e.port)) report(m, `endpoint port ${e.port} is no container port name`);
      }
    }
  }
}

