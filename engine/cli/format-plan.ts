import type { Plan, PlannedStep, StepConfinement } from '../recipe/plan-types.js';
import { formatBytes } from '../store/index.js';
import { describeChoiceNeed } from '../../shared/choice-need.js';
import { bold, dim, red } from '../core/style.js';

/** A word as a shell would need it quoted (for showing commands only; nothing is run through a shell). */
export const quote = (arg: string) => (/^[\w@%+=:,./{}-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
/** `{{port}}` is filled when the service starts: the plan says so instead of showing the template. */
const showPort = (text: string) => text.replace(/\{\{\s*port\s*\}\}/g, '<port>');

/** The plan as a person reads it: what will happen, where, what it costs, and what to worry about. */
export function formatPlan(plan: Plan): string {
  const out: string[] = [];
  out.push(bold(`${plan.recipe.name} ${plan.recipe.version} (${plan.recipe.id}) for ${plan.profile.name}`));
  out.push(dim(`recipe ${plan.recipe.file}`));
  if (Object.keys(plan.inputs).length > 0) {
    out.push(
      `inputs: ${Object.entries(plan.inputs)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')}`,
    );
  }
  out.push(...formatChoices(plan));
  for (const b of plan.blockers) out.push(red(`BLOCKED: ${b}`));
  const req = plan.requirements;
  const needs = [
    req.memoryGiB !== undefined ? `memory ${req.memoryGiB} GiB` : undefined,
    req.diskGiB !== undefined ? `disk ${req.diskGiB} GiB` : undefined,
    req.accelerators.length > 0 ? `accelerators ${req.accelerators.join('/')}` : undefined,
    req.tools.length > 0 ? `tools ${req.tools.join(', ')}` : undefined,
  ].filter(Boolean);
  if (needs.length > 0) out.push(`needs: ${needs.join('; ')}`);
  if (plan.expectedBackend) out.push(`expected backend: ${plan.expectedBackend} (checked after install)`);
  out.push(`app folder: ${plan.paths.root}`);

  if (plan.weights.length > 0) {
    out.push('', bold('Weights (into the shared store, linked into the app):'));
    for (const w of plan.weights) {
      const size = w.size !== undefined ? formatBytes(w.size) : 'size from hub';
      const pin = w.pinned ? `sha256 ${w.sha256?.slice(0, 12)}…` : red('unpinned: hash taken from the hub at download');
      out.push(`  ${w.id}: ${w.url} (${size}; ${pin})${w.gatedPage ? red(` gated: accept the licence at ${w.gatedPage}`) : ''}`);
      out.push(dim(`    -> ${w.path}`));
    }
  }
  for (const script of ['install', 'update', 'start', 'uninstall'] as const) {
    const steps = plan.scripts[script];
    if (steps.length === 0) continue;
    out.push('', bold(`${script[0]!.toUpperCase()}${script.slice(1)} steps:`));
    steps.forEach((step, i) => out.push(...formatStep(step, i + 1)));
  }
  if (plan.service) {
    const s = plan.service;
    out.push('', bold('Service:'));
    out.push(
      showPort(
        `  ${s.type === 'command' ? (s.command ?? []).map(quote).join(' ') : `orchard service ${s.type} ${s.args.map(quote).join(' ')}`}`,
      ),
    );
    if (s.confinement) out.push(`  ${confinementText(s.confinement)}`);
    if (s.type === 'llm-cluster') {
      out.push(
        '  across cluster hosts (llama.cpp RPC over SSH tunnels): `orchard cluster plan <model> --hosts …` lists every remote ' +
          'command and tunnel',
      );
    }
    out.push(
      dim(
        '  on 127.0.0.1:<port> (a free port, assigned at start); ready when ' +
          `${s.readiness.http ? `GET ${s.readiness.http} answers` : `output matches /${s.readiness.log}/`} (timeout ` +
          `${s.readiness.timeoutMs / 1000}s); restart ${s.restart.policy}`,
      ),
    );
  }
  out.push('', bold('Network hosts contacted:'), `  ${plan.hosts.length > 0 ? plan.hosts.join(', ') : 'none'}`);
  out.push(
    bold('Isolation:'),
    `  HOME, caches and temp redirected into ${plan.paths.root}; confinement: ` +
      `${plan.confinement.available ? plan.confinement.mechanism : red('none')} — ${plan.confinement.note}`,
  );
  if (plan.unconfined.length > 0)
    out.push(red(`  cannot be confined here: ${plan.unconfined.join(', ')}; install refuses them unless --allow-unconfined`));
  if (plan.warnings.length > 0) {
    out.push('', bold('Warnings:'));
    for (const w of plan.warnings) out.push(red(`  ! ${w}`));
  }
  return out.join('\n');
}

/** Every value of a choice that changes what is downloaded or needed, with its cost; `*` marks the chosen one. */
function formatChoices(plan: Plan): string[] {
  const lines: string[] = [];
  for (const [name, needs] of Object.entries(plan.choiceNeeds ?? {})) {
    lines.push(`choices for ${name} (--input ${name}=…):`);
    for (const [choice, need] of Object.entries(needs)) {
      const chosen = String(plan.inputs[name]) === choice;
      const text = describeChoiceNeed(need);
      const line = `  ${chosen ? '*' : ' '} ${choice}${text ? ` — ${text}` : ''}`;
      lines.push(chosen ? bold(line) : line);
    }
  }
  return lines;
}

function formatStep(step: PlannedStep, n: number): string[] {
  const head = `  ${String(n).padStart(2)}. [${step.kind}] ${step.title}`;
  const lines = [head];
  const detail = (text: string) => lines.push(dim(`      ${text}`));
  switch (step.kind) {
    case 'git':
      detail(
        `git clone ${step.params.url} -> ${step.params.dest} at ${step.params.ref}${step.params.pinned ? '' : red(' (unpinned)')}` +
          `${step.params.submodules ? ' with submodules' : ''}`,
      );
      break;
    case 'extract':
      detail(`extract ${step.params.archive} -> ${step.params.dest}${step.params.strip ? ` (strip ${step.params.strip})` : ''}`);
      break;
    case 'env':
      detail(
        step.params.type === 'none'
          ? 'no environment: steps use the tools already on this machine'
          : `${step.params.type} environment in ${step.params.dir}${step.params.python ? ` (Python ${step.params.python})` : ''}`,
      );
      break;
    case 'run': {
      const p = step.params;
      const cmd = p.shell ? red(`sh -c ${quote(p.shellCommand ?? '')}`) : (p.argv ?? []).map(quote).join(' ');
      detail(`$ ${cmd}`);
      detail(`in ${p.cwd}${p.useEnv ? ' with the app environment first on PATH' : ''}`);
      for (const [k, v] of Object.entries(p.env)) detail(`env ${k}=${v}`);
      if (p.hosts.length > 0) detail(`contacts ${p.hosts.join(', ')}`);
      break;
    }
    case 'write':
      detail(`write ${step.params.content.length} bytes to ${step.params.path} (mode ${step.params.mode.toString(8)})`);
      break;
    case 'fetch':
      for (const w of step.params.weights) detail(`download ${w.id}${w.size !== undefined ? ` (${formatBytes(w.size)})` : ''}`);
      break;
    case 'link':
      detail(`link ${step.params.weight.id} -> ${step.params.to}`);
      break;
    case 'verify':
      detail(`probe ${step.params.probe.type}; expect backend ${step.params.expect}`);
      break;
  }
  if (step.confinement) lines.push(`      ${confinementText(step.confinement)}`);
  for (const w of step.effects.warnings) lines.push(red(`      ! ${w}`));
  return lines;
}

/** One line per step: how its process is confined, red when it cannot be (docs/confinement.md). */
export function confinementText(c: StepConfinement): string {
  if (c.runs === 'orchard') return dim('done by Orchard itself (paths checked), no recipe process');
  const net = c.network ? 'network yes' : 'network no';
  return c.confined ? dim(`confined: ${c.mechanism}; ${net}`) : red(`NOT CONFINED (needs --allow-unconfined); ${net}`);
}
