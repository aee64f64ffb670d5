import { existsSync, statSync } from 'node:fs';
import { OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import type { MachineInfo } from '../hardware/machine-info.js';
import { findRecipe } from '../recipe/catalog.js';
import { planRecipe } from '../recipe/plan.js';
import type { Profile } from '../recipe/profile.js';
import type { Accelerator } from '../recipe/recipe.types.gen.js';
import { DEFAULT_CONTEXT } from '../services/llm/defaults.js';
import { isUrl } from './byte-source.js';
import { fitModelOnMachine, type FitReport } from './fit-verdict.js';
import { readModelShape } from './model-headers.js';
import { checkRecipeFit } from './recipe-fit.js';

export interface FitTargetOptions {
  machine: MachineInfo;
  home: OrchardHome;
  /** The host profile, for planning a recipe target. */
  profile: Profile;
  contextSize?: number;
  parallel?: number;
  gpu?: Accelerator | 'auto';
  hfToken?: string;
}

/**
 * `orchard fit` and `POST /api/v1/fit`: a GGUF file, a GGUF URL (header read over HTTP Range) or an
 * LLM recipe (the model its service loads), against this machine.
 */
export async function fitTarget(target: string, o: FitTargetOptions): Promise<FitReport> {
  const headers = o.hfToken ? { authorization: `Bearer ${o.hfToken}` } : undefined;
  // A recipe file (recipes/x/recipe.json) is a recipe, like its id; any other file or URL is a model.
  const recipeFile = !isUrl(target) && /\.json$/i.test(target);
  if (!recipeFile && (isUrl(target) || (existsSync(target) && statSync(target).isFile()))) {
    const shape = await readModelShape(target, headers ? { headers } : {});
    return fitModelOnMachine(shape, o.machine, {
      contextSize: o.contextSize ?? Math.min(shape.trainContext, DEFAULT_CONTEXT),
      parallel: o.parallel ?? 1,
      gpu: o.gpu ?? 'auto',
    });
  }
  const plan = await planRecipe(await findRecipe(target, o.home), { profile: o.profile, home: o.home });
  const report = await checkRecipeFit(plan, o.machine, { ...(o.contextSize ? { contextSize: o.contextSize } : {}), ...(headers ? { headers } : {}) });
  if (!report) {
    throw new OrchardError('USAGE', `recipe "${target}" has no LLM service with a GGUF model to check`, { hint: 'Give a .gguf file, a GGUF URL or an LLM recipe.' });
  }
  return report;
}
