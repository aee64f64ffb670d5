import { readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../core/atomic-write.js';
import { OrchardError } from '../core/errors.js';
import { findTooDeep, tooDeepMessage } from '../core/json-depth.js';
import type { AppPaths, OrchardHome } from '../core/home.js';
import { appPaths } from '../core/home.js';
import type { Plan } from '../recipe/plan-types.js';
import type { AppState } from './app-state.js';

export async function readAppState(app: AppPaths): Promise<AppState | undefined> {
  let text: string;
  try {
    text = await readFile(app.stateFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const deep = findTooDeep(text);
  if (deep) {
    throw new OrchardError('IO', `the state of ${app.id} is ${tooDeepMessage(deep)}`, {
      where: `${app.stateFile}:${deep.pointer}`,
      hint: 'Orchard never writes it that way, so it was edited by hand; fix it or run `orchard uninstall` and install again.',
    });
  }
  try {
    return JSON.parse(text) as AppState;
  } catch (err) {
    throw new OrchardError('IO', `the state of ${app.id} is unreadable`, {
      where: app.stateFile,
      hint: 'It is written atomically, so this means it was edited by hand; fix the JSON or run `orchard uninstall` and install again.',
      cause: err,
    });
  }
}

export async function writeAppState(app: AppPaths, state: AppState): Promise<void> {
  state.updatedAt = new Date().toISOString();
  await writeJsonAtomic(app.stateFile, state);
}

export async function requireAppState(home: OrchardHome, id: string): Promise<AppState> {
  const state = await readAppState(appPaths(home, id));
  if (!state) {
    throw new OrchardError('NOT_INSTALLED', `${id} is not installed`, {
      hint: `\`orchard status\` lists the installed apps; \`orchard install ${id}\` installs it when a recipe has that id.`,
    });
  }
  return state;
}

export function newAppState(plan: Plan): AppState {
  const now = new Date().toISOString();
  return {
    schema: 1,
    id: plan.recipe.id,
    recipe: { id: plan.recipe.id, name: plan.recipe.name, version: plan.recipe.version, kind: plan.recipe.kind, file: plan.recipe.file },
    lifecycle: 'installing',
    profile: plan.profile.name,
    inputs: { ...plan.inputs },
    journal: {},
    weights: {},
    createdAt: now,
    updatedAt: now,
  };
}
