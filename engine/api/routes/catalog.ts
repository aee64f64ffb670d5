import { statfs } from 'node:fs/promises';
import { messageOf } from '../../core/errors.js';
import { appPaths } from '../../core/home.js';
import type { MachineInfo } from '../../hardware/machine-info.js';
import { readAppState } from '../../install/state-store.js';
import type { LoadedRecipe } from '../../recipe/load.js';
import type { Plan } from '../../recipe/plan-types.js';
import type { ApiContext } from '../api-context.js';
import { HttpError } from '../http-errors.js';
import type { CatalogEntry, CatalogResponse, FitSummary } from '../api-types.js';
import { probeMachine } from '../../hardware/probe.js';
import { resolveProfile } from '../../recipe/resolve-profile.js';
import { scanRecipes } from '../../recipe/catalog.js';
import { planRecipe } from '../../recipe/plan.js';

const GiB = 1024 ** 3;
/** How long one hardware probe serves catalog requests (it runs nvidia-smi, vulkaninfo, sysctl…). */
export const PROBE_TTL_MS = 60_000;

let cachedProbe: { at: number; machine: Promise<MachineInfo> } | undefined;

/** One probe for every recipe of a request, and for the requests of the next minute. */
function probeOnce(): Promise<MachineInfo> {
  if (!cachedProbe || Date.now() - cachedProbe.at > PROBE_TTL_MS) {
    const machine = probeMachine();
    cachedProbe = { at: Date.now(), machine };
    // A failed probe is not kept: the next request tries again.
    machine.catch(() => {
      if (cachedProbe?.machine === machine) cachedProbe = undefined;
    });
  }
  return cachedProbe.machine;
}

/** GET /api/v1/catalog: bundled and user recipes, each with what it needs and whether it fits here. */
export async function catalog(ctx: ApiContext, signal?: AbortSignal): Promise<CatalogResponse> {
  const { recipes, problems } = await scanRecipes(ctx.home);
  const machine = await probeOnce().then(
    (m) => ({ ok: true as const, m }),
    (err: unknown) => ({ ok: false as const, reason: messageOf(err) }),
  );
  const freeDisk = await statfs(ctx.home.root)
    .then((s) => s.bavail * s.bsize)
    .catch(() => undefined);
  const entries: CatalogEntry[] = [];
  for (const loaded of recipes) {
    if (signal?.aborted) {
      ctx.log(`catalog: the client went away; stopped after ${entries.length} of ${recipes.length} recipes`);
      throw new HttpError(499, 'CLIENT_CLOSED', 'the client closed the request');
    }
    entries.push(await entry(ctx, loaded, machine.ok ? machine.m : machine.reason, freeDisk));
  }
  // The platform alone decides the default engine: no second hardware probe for it.
  groupEngines(entries, recipes, (await resolveProfile('host', probeOnce)).platform);
  return { recipes: entries, problems: problems.map((p) => ({ file: p.file, error: p.error.toJSON() })) };
}

async function entry(
  ctx: ApiContext,
  loaded: LoadedRecipe & { source: 'bundled' | 'user' },
  machine: MachineInfo | string,
  freeDisk: number | undefined,
): Promise<CatalogEntry> {
  const r = loaded.recipe;
  const plan = typeof machine === 'string' ? undefined : await planForHost(ctx, loaded).catch(() => undefined);
  const weights = plan?.weights;
  const downloadBytes = weights?.every((w) => typeof w.size === 'number') ? weights.reduce((sum, w) => sum + (w.size ?? 0), 0) : undefined;
  const state = await readAppState(appPaths(ctx.home, r.id)).catch(() => undefined);
  const memoryGiB = plan?.requirements.memoryGiB ?? r.requires?.memoryGiB;
  const diskGiB = plan?.requirements.diskGiB ?? r.requires?.diskGiB;
  return {
    id: r.id,
    name: r.name,
    version: r.version,
    kind: r.kind,
    ...(r.description !== undefined ? { description: r.description } : {}),
    source: loaded.source,
    file: loaded.file,
    accelerators: [...(r.requires?.accelerators ?? [])],
    platforms: [...(r.requires?.platforms ?? [])],
    ...(memoryGiB !== undefined ? { memoryGiB } : {}),
    ...(diskGiB !== undefined ? { diskGiB } : {}),
    ...(downloadBytes !== undefined ? { downloadBytes } : {}),
    ...(plan &&
    Object.values(plan.scripts)
      .flat()
      .some((s) => s.kind === 'git' || s.kind === 'env' || s.kind === 'run' || s.kind === 'extract')
      ? { fetchesMore: true }
      : {}),
    fit: fitSummary(machine, plan, memoryGiB, diskGiB, freeDisk),
    ...(state ? { installed: state.lifecycle } : {}),
  };
}

/** One model, several engines: mark the entry of the engine this platform prefers (MLX on darwin-arm64, else GGUF). */
export function groupEngines(entries: CatalogEntry[], recipes: readonly LoadedRecipe[], platform: string): void {
  const want = platform === 'darwin-arm64' ? 'mlx' : 'gguf';
  const byFamily = new Map<string, CatalogEntry[]>();
  recipes.forEach((loaded, i) => {
    const m = loaded.recipe.model;
    const e = entries[i];
    if (!m || !e) return;
    e.model = { family: m.family, engine: m.engine, preferred: true, others: [] };
    byFamily.set(m.family, [...(byFamily.get(m.family) ?? []), e]);
  });
  for (const members of byFamily.values()) {
    const hasWanted = members.some((e) => e.model?.engine === want);
    const preferred = members.find((e) => (hasWanted ? e.model?.engine === want : true));
    for (const e of members) {
      if (!e.model) continue;
      e.model.preferred = e === preferred;
      e.model.others = members.filter((o) => o !== e).map((o) => ({ id: o.id, name: o.name, engine: o.model?.engine ?? 'gguf' }));
    }
  }
}

async function planForHost(ctx: ApiContext, loaded: LoadedRecipe): Promise<Plan> {
  return planRecipe(loaded, { profile: await resolveProfile('host', probeOnce), home: ctx.home });
}

/**
 * Fits when the platform and accelerators are supported and the memory and disk it asks for are
 * there. The precise memory fit of an LLM (weights + KV cache at a context) is `POST /fit`.
 */
export function fitSummary(
  machine: MachineInfo | string,
  plan: Plan | undefined,
  memoryGiB: number | undefined,
  diskGiB: number | undefined,
  freeDisk: number | undefined,
): FitSummary {
  if (typeof machine === 'string') return unknownFit(`this machine could not be probed: ${machine}`);
  if (!plan) return unknownFit('the recipe could not be planned for this machine');
  const blockers: string[] = [...plan.blockers];
  const facts: string[] = [];
  let verdict: FitSummary['verdict'] = plan.blockers.length > 0 ? 'does-not-fit' : 'fits';
  const memory = machine.memory.totalBytes;
  if (memoryGiB !== undefined) {
    const need = memoryGiB * GiB;
    if (need > memory) {
      verdict = 'does-not-fit';
      blockers.push(`needs ${memoryGiB} GiB of memory; this machine has ${(memory / GiB).toFixed(1)} GiB`);
    } else if (machine.unifiedMemory && machine.macos && need > machine.macos.gpuWorkingSetBytes) {
      if (verdict === 'fits') verdict = 'fits-after-raising-limit';
      blockers.push(
        `needs ${memoryGiB} GiB; the GPU may use ${(machine.macos.gpuWorkingSetBytes / GiB).toFixed(1)} GiB until ` +
          'iogpu.wired_limit_mb is raised (see Doctor)',
      );
    } else {
      facts.push(`needs ${memoryGiB} GiB of memory; this machine has ${(memory / GiB).toFixed(1)} GiB`);
    }
  }
  if (diskGiB !== undefined && freeDisk !== undefined) {
    if (diskGiB * GiB > freeDisk) {
      verdict = 'does-not-fit';
      blockers.push(`needs ${diskGiB} GiB of disk; ${(freeDisk / GiB).toFixed(1)} GiB are free`);
    } else {
      facts.push(`needs ${diskGiB} GiB of disk; ${(freeDisk / GiB).toFixed(1)} GiB are free`);
    }
  }
  return {
    verdict,
    reasons: [...blockers, ...facts],
    blockers,
    facts,
    ...(plan.allowCpuAccepts ? { allowCpuAccepts: plan.allowCpuAccepts } : {}),
  };
}

function unknownFit(reason: string): FitSummary {
  return { verdict: 'unknown', reasons: [reason], blockers: [], facts: [reason] };
}
