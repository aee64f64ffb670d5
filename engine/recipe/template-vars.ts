import path from 'node:path';
import { llamaCppSourceBundle } from '../core/bundled-sources.js';
import type { AppPaths, OrchardHome } from '../core/home.js';
import type { Profile } from './profile.js';

export interface TemplateVarsInput {
  app: AppPaths;
  home: OrchardHome;
  recipeDir: string;
  profile: Profile;
  inputs: Readonly<Record<string, string | number | boolean>>;
  weights: readonly { id: string; path: string }[];
  /** Only `service` gets {{port}}; it stays literal until the supervisor allocates one. */
  withPort: boolean;
}

/** The complete table of template variables (docs/recipes.md lists the same names). */
export function templateVariables(v: TemplateVarsInput): Map<string, string> {
  const bin = v.profile.os === 'win32' ? path.join(v.app.env, 'Scripts') : path.join(v.app.env, 'bin');
  const vars = new Map<string, string>([
    ['app.id', v.app.id],
    ['app.root', v.app.root],
    ['app.dir', v.app.app],
    ['app.env', v.app.env],
    ['app.models', v.app.models],
    ['app.home', v.app.home],
    ['app.cache', v.app.cache],
    ['app.tmp', v.app.tmp],
    ['app.logs', v.app.logs],
    ['recipe.dir', v.recipeDir],
    ['store.path', v.home.store],
    ['platform', v.profile.platform],
    ['os', v.profile.os],
    ['arch', v.profile.arch],
    ['accelerator', v.profile.accelerator],
    ['env.bin', bin],
    ['env.python', path.join(bin, v.profile.os === 'win32' ? 'python.exe' : 'python')],
    ['orchard.llamacppSource', llamaCppSourceBundle()],
  ]);
  for (const [name, value] of Object.entries(v.inputs)) vars.set(`inputs.${name}`, String(value));
  for (const w of v.weights) vars.set(`weights.${w.id}.path`, w.path);
  if (v.withPort) vars.set('port', '{{port}}');
  return vars;
}
