import type { Verdict } from '../diagnose/verdict.js';
import type { MachineInfo } from '../hardware/machine-info.js';
import { OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import type { Backend } from '../recipe/recipe.types.gen.js';
import { HttpError } from './http-errors.js';

/**
 * Engine parts written in parallel with the API (hardware probe, doctor, fit, diagnoser) are
 * loaded when a route needs them, by module path and export name, so the server runs (and says
 * clearly what is missing) before they land. Each candidate is `[module relative to this file,
 * export names to try]`; the first function found wins.
 */
type Candidate = readonly [string, readonly string[]];
type AnyFunction = (...args: unknown[]) => unknown;

const cache = new Map<string, AnyFunction | null>();

async function load(what: string, candidates: readonly Candidate[]): Promise<AnyFunction | undefined> {
  if (cache.has(what)) return cache.get(what) ?? undefined;
  for (const [specifier, names] of candidates) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(new URL(specifier, import.meta.url).href)) as Record<string, unknown>;
    } catch (err) {
      // Missing module: try the next; a module that exists but fails to load is a real error.
      if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(new URL(specifier, import.meta.url).pathname)) continue;
      throw err;
    }
    for (const name of names) {
      const fn = mod[name];
      if (typeof fn === 'function') {
        cache.set(what, fn as AnyFunction);
        return fn as AnyFunction;
      }
    }
  }
  cache.set(what, null);
  return undefined;
}

function notAvailable(what: string): HttpError {
  return new HttpError(501, 'NOT_AVAILABLE', `${what} is not available in this build of Orchard`, 'This part of the engine has not landed yet; the rest of the API works.', 'engine/api/optional-modules.ts');
}

export async function probeMachine(): Promise<MachineInfo> {
  const { probeMachine: probe } = await import('../hardware/probe.js');
  return probe();
}

export async function doctorReport(home: unknown): Promise<unknown> {
  const fn = await load('doctor', [
    ['../hardware/doctor.js', ['doctorReport', 'runDoctor', 'buildDoctorReport', 'doctor']],
    ['../hardware/index.js', ['doctorReport', 'runDoctor']],
  ]);
  if (!fn) throw notAvailable('the hardware doctor');
  return fn({ home });
}

/** POST /fit: a GGUF file or URL, or an LLM recipe, against this machine (the `orchard fit` logic). */
export interface FitRequest {
  recipe?: string;
  model?: string;
  context?: number;
  home: OrchardHome;
  hfToken?: string;
}

export async function fitReport(request: FitRequest): Promise<unknown> {
  const machine = await probeMachine();
  const headers = request.hfToken ? { authorization: `Bearer ${request.hfToken}` } : undefined;
  if (request.model !== undefined) {
    const { readModelShape } = await import('../fit/model-headers.js');
    const { fitModelOnMachine } = await import('../fit/fit-verdict.js');
    const { DEFAULT_CONTEXT } = await import('../services/llm/load-llm.js');
    const shape = await readModelShape(request.model, headers ? { headers } : {});
    return fitModelOnMachine(shape, machine, { contextSize: request.context ?? Math.min(shape.trainContext, DEFAULT_CONTEXT), parallel: 1, gpu: 'auto' });
  }
  const { findRecipe } = await import('../recipe/catalog.js');
  const { planRecipe } = await import('../recipe/plan.js');
  const { checkRecipeFit } = await import('../fit/recipe-fit.js');
  const { profileFor } = await import('./routes/profiles.js');
  const plan = await planRecipe(await findRecipe(request.recipe ?? '', request.home), { profile: await profileFor('host'), home: request.home });
  const report = await checkRecipeFit(plan, machine, { ...(request.context ? { contextSize: request.context } : {}), ...(headers ? { headers } : {}) });
  if (!report) {
    throw new OrchardError('USAGE', `recipe "${request.recipe ?? ''}" has no LLM service with a GGUF model to check`, { where: 'body.recipe', hint: 'Give a .gguf file, a GGUF URL or an LLM recipe.' });
  }
  return report;
}

export async function diagnoseLog(log: string, expect: string | undefined): Promise<Verdict> {
  const { diagnoseLog: diagnose } = await import('../diagnose/diagnose-log.js');
  return diagnose(log, expect === undefined ? {} : { expect: checkBackend(expect) });
}

/** Something lines are pushed into and a verdict comes out of (one per running app). */
export interface LiveDiagnosis {
  push(line: string): void;
  verdict(): Verdict | undefined;
}

/** A live diagnoser for one app's output. */
export async function liveDiagnoser(expect: string | undefined): Promise<LiveDiagnosis> {
  const { createLiveDiagnoser } = await import('../diagnose/live.js');
  return createLiveDiagnoser(expect === undefined ? {} : { expect: checkBackend(expect) });
}

const BACKENDS: readonly Backend[] = ['metal', 'cuda', 'vulkan', 'rocm', 'cpu', 'unknown'];
function checkBackend(value: string): Backend {
  if (!(BACKENDS as readonly string[]).includes(value)) {
    throw new HttpError(400, 'USAGE', `"expect" must be one of ${BACKENDS.join(', ')}, got "${value}"`, undefined, 'body.expect');
  }
  return value as Backend;
}
