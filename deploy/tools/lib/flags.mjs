// Flag checks: the command lines the manifests give tripletstream binaries,
// including the flag files they load from mounted ConfigMaps, against the
// binaries themselves.
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { containersOf, envValues, expand, podSpecOf } from "./objects.mjs";

// Which binary a container runs: the tripletstream-* entry of an explicit
// command, else the image's ENTRYPOINT, told by the last part of the image
// name (server, trainer, trainer-cuda, probe).
const BINARY_BY_IMAGE = [
  [/(^|[-/])server$/, "tripletstream-server"],
  [/(^|[-/])trainer(-cuda)?$/, "tripletstream-trainer"],
  [/(^|[-/])probe$/, "tripletstream-probe"],
];

// A binary name, null for a container that runs something else (a shell),
// undefined for an image this table does not know.
export function binaryOf(container) {
  if (container.command?.length) {
    return container.command.map((x) => path.basename(x)).find((x) => x.startsWith("tripletstream-")) ?? null;
  }
  const repo = String(container.image ?? "").replace(/@.*$/, "").replace(/:[^/:]*$/, "");
  for (const [re, binary] of BINARY_BY_IMAGE) if (re.test(repo)) return binary;
  return undefined;
}

// Runs `binary --helpfull` once; returns { file, flags: Map(name -> {bool}) }
// or null after fail(message).
const helpCache = new Map();
function binaryHelp(binDir, binary, fail) {
  if (helpCache.has(binary)) return helpCache.get(binary);
  const file = path.join(binDir, binary);
  let result = null;
  if (!existsSync(file)) {
    fail(`${file}: missing; build it first (scripts/build.sh) or pass the right bin dir`);
  } else {
    // absl's --helpfull lists every flag, absl's own included (exit 1 by design).
    const run = spawnSync(file, ["--helpfull"], { encoding: "utf8" });
    const text = `${run.stdout}${run.stderr}`;
    const starts = [...text.matchAll(/^ {4}--([A-Za-z0-9_]+) \(/gm)];
    const flags = new Map();
    starts.forEach((m, i) => {
      const body = text.slice(m.index, starts[i + 1]?.index);
      flags.set(m[1], { bool: /default: (true|false);/.test(body) });
    });
    if (flags.size === 0) fail(`${file}: --helpfull listed no flags`);
    else result = { file, flags };
  }
  helpCache.set(binary, result);
  return result;
}

function checkFlagsKnown(help, tokens, say) {
  for (const t of tokens) {
    if (!t.startsWith("--") || t === "--") continue;
    const name = t.slice(2).split("=")[0];
    const negated = name.startsWith("no") && help.flags.get(name.slice(2))?.bool;
    if (!help.flags.has(name) && !negated) {
      say(`--${name} is not a flag of ${path.basename(help.file)} (not in its --helpfull)`);
    }
  }
}

// Replaces each --flagfile=PATH by a local copy of the ConfigMap key mounted
// at PATH, checking the flags in it on the way. Returns { argv, effective }:
// the new argv and every flag's last value, flag files read in place as
// absl does.
function resolveFlagfiles(argv, ctx) {
  const { container, volumes, configMaps, help, say, scratch, tag, sourceOf } = ctx;
  const effective = new Map();
  const note = (token) => {
    if (!token.startsWith("--")) return;
    const eq = token.indexOf("=");
    effective.set(eq < 0 ? token.slice(2) : token.slice(2, eq), eq < 0 ? "true" : token.slice(eq + 1));
  };
  const out = argv.map((a) => {
    if (!a.startsWith("--flagfile=")) {
      note(a);
      return a;
    }
    const local = [];
    for (const file of a.slice("--flagfile=".length).split(",")) {
      const mount = (container.volumeMounts ?? []).find((m) => file.startsWith(`${m.mountPath.replace(/\/$/, "")}/`));
      const source = mount && volumes.get(mount.name)?.configMap;
      if (!source) {
        say(`--flagfile=${file} is not in a mounted ConfigMap`);
        continue;
      }
      let key = file.slice(mount.mountPath.replace(/\/$/, "").length + 1);
      if (source.items) {
        const item = source.items.find((i) => i.path === key);
        if (!item) {
          say(`--flagfile=${file}: ConfigMap ${source.name} does not project ${key}`);
          continue;
        }
        key = item.key;
      }
      const content = configMaps.get(source.name)?.data?.[key];
      if (content === undefined) {
        say(`--flagfile=${file}: ConfigMap ${source.name} has no key ${key}`);
        continue;
      }
      const origin = sourceOf?.(key);
      const cmSay = (m) => say(`${key} (ConfigMap ${source.name}${origin ? `, from ${origin}` : ""}): ${m}`);
      const lines = content.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
      for (const l of lines) if (!l.startsWith("--")) cmSay(`line "${l}" is not a --flag`);
      checkFlagsKnown(help, lines, cmSay);
      lines.forEach(note);
      const copy = path.join(scratch, `${tag}-${key}`.replace(/[^A-Za-z0-9_.-]/g, "_"));
      writeFileSync(copy, content);
      local.push(copy);
    }
    return `--flagfile=${local.join(",")}`;
  });
  return { argv: out, effective };
}

// The pod must give the server time to drain: SIGTERM, --drain_delay_s of
// NOT_SERVING, then --shutdown_grace_s for in-flight streams, all before the
// kubelet's SIGKILL at terminationGracePeriodSeconds (default 30).
function checkDrainFits(podSpec, effective, say) {
  const drain = Number(effective.get("drain_delay_s") ?? 0);
  const grace = Number(effective.get("shutdown_grace_s") ?? 5);
  const period = podSpec.terminationGracePeriodSeconds ?? 30;
  if (drain + grace >= period) {
    say(`--drain_delay_s (${drain}) + --shutdown_grace_s (${grace}) do not fit in terminationGracePeriodSeconds (${period})`);
  }
}

// For every container running a tripletstream binary: each --flag of its
// args and flag files must be in the binary's --helpfull, and the binary
// must accept the command line (--only_check_args parses names and values).
// opts: { binDir, scratch, tag, dryRunData, sourceOf } (dryRunData: also
// run the server with --dry_run on that folder; sourceOf(key): the file a
// ConfigMap key was generated from, for messages). report(obj, message); fail(message)
// for problems outside any object.
export function checkFlags(objects, opts, report, fail) {
  const configMaps = new Map(objects.filter((o) => o.kind === "ConfigMap").map((o) => [o.metadata.name, o]));
  for (const obj of objects) {
    const pod = podSpecOf(obj);
    if (!pod?.spec) continue;
    const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
    for (const c of containersOf(pod.spec)) {
      const binary = binaryOf(c);
      if (binary === null) continue;
      const say = (m) => report(obj, `container ${c.name}: ${m}`);
      if (binary === undefined) {
        say(`cannot tell which binary image ${c.image} runs (add it to BINARY_BY_IMAGE in deploy/tools/lib/flags.mjs)`);
        continue;
      }
      const help = binaryHelp(opts.binDir, binary, fail);
      if (!help) continue;
      const env = envValues(c, obj.metadata?.namespace ?? "default");
      const command = c.command ?? [];
      const argv = command
        .slice(command.findIndex((x) => path.basename(x) === binary) + 1)
        .concat(c.args ?? [])
        .map((a) => expand(a, env, () => {}));
      checkFlagsKnown(help, argv, say);
      const tag = `${opts.tag}-${obj.metadata.name}-${c.name}`;
      const { argv: local, effective } = resolveFlagfiles(argv, {
        container: c, volumes, configMaps, help, say, scratch: opts.scratch, tag, sourceOf: opts.sourceOf,
      });
      if (binary === "tripletstream-server") checkDrainFits(pod.spec, effective, say);
      const run = spawnSync(help.file, [...local, "--only_check_args"], { encoding: "utf8" });
      if (run.status !== 0) {
        const why = `${run.stderr}${run.stdout}`.split("\n").filter((l) => /error/i.test(l)).join("; ");
        say(`${binary} rejects its arguments: ${why || `exit ${run.status}`}`);
      }
      if (opts.dryRunData && binary === "tripletstream-server") {
        const extra = [`--data=${opts.dryRunData}`, "--dry_run", "--stats_interval_s=0"];
        if (help.flags.has("metrics_port")) extra.push("--metrics_port=0");
        const dry = spawnSync(help.file, [...local, ...extra], { encoding: "utf8", timeout: 60000 });
        if (dry.status !== 0) {
          const tail = `${dry.stderr}`.trim().split("\n").slice(-3).join("; ");
          say(`--dry_run on ${opts.dryRunData} with these flags failed (exit ${dry.status}): ${tail}`);
        } else {
          console.log(`  ${obj.kind}/${obj.metadata.name} ${c.name}: --dry_run loaded ${opts.dryRunData}`);
        }
      }
    }
  }
}

// The trainer's --servers=dns:///HOST:PORT must name a headless Service of
// the same namespace and one of its ports.
export function checkServers(objects, report) {
  const services = objects.filter((o) => o.kind === "Service");
  for (const obj of objects) {
    for (const c of containersOf(podSpecOf(obj)?.spec)) {
      if (binaryOf(c) !== "tripletstream-trainer") continue;
      const env = envValues(c, obj.metadata?.namespace ?? "default");
      for (const a of (c.args ?? []).map((x) => expand(x, env, () => {}))) {
        if (!a.startsWith("--servers=")) continue;
        for (const entry of a.slice("--servers=".length).split(",")) {
          const m = /^dns:\/\/\/([^:/]+):(\d+)$/.exec(entry);
          if (!m) continue;
          const say = (msg) => report(obj, `container ${c.name}: --servers ${entry}: ${msg}`);
          const [name, namespace] = m[1].split(".");
          const port = Number(m[2]);
          const svc = services.find((s) => s.metadata?.name === name);
          if (!svc) {
            say(`no Service ${name}`);
            continue;
          }
          if (svc.spec?.clusterIP !== "None") say(`Service ${name} is not headless: DNS would give one virtual IP`);
          if (namespace && namespace !== (svc.metadata?.namespace ?? "default")) {
            say(`namespace ${namespace} is not the Service's (${svc.metadata?.namespace ?? "default"})`);
          }
          if (!(svc.spec?.ports ?? []).some((p) => p.port === port)) say(`port ${port} is not a port of Service ${name}`);
        }
      }
    }
  }
}
