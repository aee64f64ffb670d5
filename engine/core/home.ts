import os from 'node:os';
import path from 'node:path';
import { envSetting } from './env-settings.js';

/**
 * The on-disk layout of DESIGN §3. Everything Orchard writes lives under ORCHARD_HOME
 * (default ~/Orchard); tests always point it at a temp folder.
 */
export interface OrchardHome {
  root: string;
  store: string;
  blobs: string;
  storeTmp: string;
  apps: string;
  userRecipes: string;
  settingsFile: string;
}

export function resolveHome(env: NodeJS.ProcessEnv = process.env): OrchardHome {
  const root = path.resolve(envSetting('ORCHARD_HOME', env) ?? path.join(os.homedir(), 'Orchard'));
  const store = path.join(root, 'store');
  return {
    root,
    store,
    blobs: path.join(store, 'blobs', 'sha256'),
    storeTmp: path.join(store, 'tmp'),
    apps: path.join(root, 'apps'),
    userRecipes: path.join(root, 'recipes'),
    settingsFile: path.join(root, 'orchard.json'),
  };
}

/** The folders of one app (DESIGN §3). */
export interface AppPaths {
  id: string;
  root: string;
  app: string;
  env: string;
  models: string;
  home: string;
  cache: string;
  tmp: string;
  logs: string;
  /** What the app made (the image/video services save renders here); kept when the app is uninstalled. */
  outputs: string;
  stateFile: string;
  lockFile: string;
}

export function appPaths(home: OrchardHome, id: string): AppPaths {
  const root = path.join(home.apps, id);
  return {
    id,
    root,
    app: path.join(root, 'app'),
    env: path.join(root, 'env'),
    models: path.join(root, 'models'),
    home: path.join(root, 'home'),
    cache: path.join(root, 'cache'),
    tmp: path.join(root, 'tmp'),
    logs: path.join(root, 'logs'),
    outputs: path.join(root, 'outputs'),
    stateFile: path.join(root, 'state.json'),
    lockFile: path.join(root, '.lock'),
  };
}

/** True when `child` is `parent` or lies below it (both absolute, already resolved). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
