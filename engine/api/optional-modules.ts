import type { Verdict } from '../diagnose/verdict.js';
import type { MachineInfo } from '../hardware/machine-info.js';
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
  const fn = await load('probe', [['../hardware/probe.js', ['probeMachine']]]);
  if (!fn) throw notAvailable('the hardware probe');
  return (await fn()) as MachineInfo;
}

export async function doctorReport(home: unknown): Promise<unknown> {
  const fn = await load('doctor', [
    ['../hardware/doctor.js', ['doctorReport', 'runDoctor', 'buildDoctorReport', 'doctor']],
    ['../hardware/index.js', ['doctorReport', 'runDoctor']],
  ]);
  if (!fn) throw notAvailable('the hardware doctor');
  return fn({ home });
}

export interface FitRequest {
  recipe?: string;
  model?: string;
  context?: number;
  home: unknown;
}

export async function fitReport(request: FitRequest): Promise<unknown> {
  const fn = await load('fit', [
    ['../fit/fit.js', ['fitForRequest', 'fit', 'predictFit']],
    ['../fit/index.js', ['fitForRequest', 'fit', 'predictFit']],
  ]);
  if (!fn) throw notAvailable('the memory fit check');
  return fn(request);
}

export async function diagnoseLog(log: string, expect: string | undefined): Promise<Verdict> {
  const fn = await load('diagnose', [
    ['../diagnose/diagnose.js', ['diagnoseLog', 'diagnoseText', 'diagnose']],
    ['../diagnose/index.js', ['diagnoseLog', 'diagnoseText', 'diagnose']],
  ]);
  if (!fn) throw notAvailable('the backend diagnoser');
  return (await fn(log, expect === undefined ? {} : { expect })) as Verdict;
}

/** Something lines are pushed into and a verdict comes out of (one per running app). */
export interface LiveDiagnosis {
  push(line: string): void;
  verdict(): Verdict | undefined;
}

/** A live diagnoser for one app's output, or undefined when the diagnoser has not landed. */
export async function liveDiagnoser(expect: string | undefined): Promise<LiveDiagnosis | undefined> {
  const make = await load('live', [
    ['../diagnose/live.js', ['createLiveDiagnoser', 'liveDiagnoser']],
    ['../diagnose/index.js', ['createLiveDiagnoser', 'liveDiagnoser']],
  ]);
  if (!make) return undefined;
  const made = (await make(expect === undefined ? {} : { expect })) as Record<string, unknown>;
  const push = made['push'];
  const verdict = made['verdict'];
  if (typeof push !== 'function') return undefined;
  return {
    push: (line) => void (push as AnyFunction).call(made, line),
    verdict: () => (typeof verdict === 'function' ? ((verdict as AnyFunction).call(made) as Verdict | undefined) : (verdict as Verdict | undefined)),
  };
}
