import { appPaths, type OrchardHome } from '../core/home.js';
import { processEnvironment, sandboxVariables, envBinDir } from '../../sandbox/index.js';

/** The environment an installed app's processes get: what `orchard shell` and `orchard run` enter. */
export function appProcessEnvironment(home: OrchardHome, id: string): Record<string, string> {
  const app = appPaths(home, id);
  return processEnvironment(sandboxVariables(app, home), { envBinDir: envBinDir(app) });
}
