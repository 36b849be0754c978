// Data-parallel trainer Jobs: a Job whose containers set WORLD_SIZE must be
// an Indexed Job whose completions and parallelism equal WORLD_SIZE, take
// RANK from the completion index, and point MASTER_ADDR at its own pod 0
// (<job name>-0.<subdomain>, after kustomize's name prefixes) behind a
// headless Service named like the subdomain that selects its pods.
import { containersOf, matches } from "./objects.mjs";

const kIndexAnnotation = "metadata.annotations['batch.kubernetes.io/job-completion-index']";

export function checkDataParallel(objects, report) {
  const services = new Map(objects.filter((o) => o.kind === "Service").map((s) => [s.metadata.name, s]));
  for (const job of objects.filter((o) => o.kind === "Job")) {
    const spec = job.spec ?? {};
    const pod = spec.template?.spec ?? {};
    for (const c of containersOf(pod)) {
      const env = new Map((c.env ?? []).map((e) => [e.name, e]));
      if (!env.has("WORLD_SIZE")) continue;
      const say = (m) => report(job, `container ${c.name}: ${m}`);
      const world = Number(env.get("WORLD_SIZE").value);
      if (!Number.isInteger(world) || world < 1) {
        say(`WORLD_SIZE "${env.get("WORLD_SIZE").value}" is not a positive integer`);
        continue;
      }
      if (spec.completionMode !== "Indexed") say("WORLD_SIZE is set but the Job is not completionMode: Indexed");
      if (spec.completions !== world) say(`completions ${spec.completions} != WORLD_SIZE ${world}`);
      if (spec.parallelism !== world) say(`parallelism ${spec.parallelism} != WORLD_SIZE ${world}: some ranks would wait for others that never start`);
      if (env.get("RANK")?.valueFrom?.fieldRef?.fieldPath !== kIndexAnnotation) {
        say("RANK must come from the completion index annotation");
      }
      const subdomain = pod.subdomain;
      const expected = `${job.metadata.name}-0.${subdomain}`;
      const master = env.get("MASTER_ADDR")?.value ?? "";
      if (!subdomain) {
        say("the pod template has no subdomain: pods get no stable names for MASTER_ADDR");
      } else if (master !== expected && !master.startsWith(`${expected}.`)) {
        say(`MASTER_ADDR "${master}" is not pod 0 of this Job ("${expected}")`);
      }
      const service = subdomain ? services.get(subdomain) : undefined;
      if (subdomain && !service) say(`no Service ${subdomain} for the pods' subdomain`);
      if (service) {
        if (service.spec?.clusterIP !== "None") report(service, "must be headless (clusterIP: None) to give pods DNS names");
        const labels = spec.template?.metadata?.labels ?? {};
        if (!matches({ matchLabels: service.spec?.selector ?? {} }, labels)) {
          report(service, `selector does not select the pods of Job ${job.metadata.name}`);
        }
      }
      const port = Number(env.get("MASTER_PORT")?.value ?? 29500);
      if (!(c.ports ?? []).some((p) => p.containerPort === port)) {
        say(`MASTER_PORT ${port} is not a container port`);
      }
    }
  }
}
