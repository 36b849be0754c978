// Lints Dockerfiles without a Docker engine (run by scripts/check_deploy.sh):
//  - dockerfile-utils: the Dockerfile validator of the VS Code Docker
//    language server (syntax, instruction arguments, flags, JSON forms);
//  - dockerfilelint: best-practice rules (apt-get use, tags, sudo, ...);
//    rules can be turned off in deploy/docker/.dockerfilelintrc;
//  - this project's rules for its images: multi-stage, the final stage runs
//    as a non-root USER with an exec-form ENTRYPOINT and installs no
//    compiler; scripts/... that RUN lines call exist in the build context
//    (the repository root) and are executable.
//   node lint_dockerfiles.mjs FILE [...]
// Prints every problem as FILE:LINE: message and exits 1 if there was any.
import { accessSync, constants, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DockerfileParser } from "dockerfile-ast";
import { validate } from "dockerfile-utils";
import dockerfilelint from "dockerfilelint";

const problems = [];
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// dockerfilelint does not expand ARGs in FROM; give it the default values of
// the ARGs declared before the first FROM, as BuildKit does.
function expandFromArgs(content) {
  const lines = content.split("\n");
  const args = new Map();
  let seenFrom = false;
  return lines
    .map((line) => {
      const arg = /^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)\s*$/.exec(line);
      if (arg && !seenFrom) args.set(arg[1], arg[2].replace(/^"(.*)"$/, "$1"));
      if (!/^\s*FROM\s/i.test(line)) return line;
      seenFrom = true;
      return line.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (all, name) => args.get(name) ?? all);
    })
    .join("\n");
}

function isExecForm(text) {
  try {
    const v = JSON.parse(text ?? "");
    return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string");
  } catch {
    return false;
  }
}

function projectRules(file, content, say) {
  const instructions = DockerfileParser.parse(content).getInstructions();
  const stages = [];
  for (const ins of instructions) {
    if (ins.getKeyword() === "FROM") stages.push([]);
    if (stages.length) stages[stages.length - 1].push(ins);
  }
  if (stages.length < 2) say(1, "not a multi-stage build (build stage + runtime stage)");
  const final = stages[stages.length - 1] ?? [];
  const line = (ins) => ins.getRange().start.line + 1;
  const last = (keyword) => final.filter((i) => i.getKeyword() === keyword).pop();
  const user = last("USER");
  const who = user?.getArgumentsContent()?.split(":")[0];
  if (!user) say(1, "final stage has no USER (runs as root)");
  else if (who === "root" || who === "0") say(line(user), "final stage runs as root");
  const entrypoint = last("ENTRYPOINT");
  if (!entrypoint) say(1, "final stage has no ENTRYPOINT");
  else if (!isExecForm(entrypoint.getArgumentsContent())) {
    say(line(entrypoint), 'ENTRYPOINT is not in exec form (["/path", "arg"]): signals would go to a shell');
  }
  const cmd = last("CMD");
  if (cmd && !isExecForm(cmd.getArgumentsContent())) say(line(cmd), "CMD is not in exec form");
  for (const ins of instructions.filter((i) => i.getKeyword() === "RUN")) {
    for (const [script] of (ins.getArgumentsContent() ?? "").matchAll(/\b(scripts|deploy)\/[\w./-]+\.sh\b/g)) {
      try {
        accessSync(path.join(repoRoot, script), constants.X_OK);
      } catch {
        say(line(ins), `RUN calls ${script}, which is not an executable file of the repository`);
      }
    }
  }
  for (const ins of final) {
    const text = ins.getArgumentsContent() ?? "";
    if (ins.getKeyword() === "RUN" && /\b(build-essential|g\+\+|gcc|clang|cmake|-dev\b)/.test(text)) {
      say(line(ins), "final stage installs a compiler or -dev package");
    }
    const fromStage = (ins.getFlags?.() ?? []).some((f) => f.getName() === "from");
    if (ins.getKeyword() === "COPY" && !fromStage) {
      say(line(ins), "final stage copies from the build context instead of the build stage");
    }
  }
}

for (const file of process.argv.slice(2)) {
  const content = readFileSync(file, "utf8");
  const say = (lineNumber, message) => problems.push(`${file}:${lineNumber}: ${message}`);
  // LSP severities: 1 error, 2 warning, 3 information, 4 hint.
  for (const d of validate(content)) {
    if (d.severity <= 2) say(d.range.start.line + 1, `dockerfile-utils: ${d.message}`);
  }
  for (const d of dockerfilelint.run(path.dirname(file), expandFromArgs(content))) {
    say(d.line, `dockerfilelint ${d.rule}: ${d.title}`);
  }
  projectRules(file, content, say);
  console.log(`${file}: linted`);
}
if (problems.length) {
  console.error(`\n${problems.length} problem(s):`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
