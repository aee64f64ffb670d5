import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import type { MachineInfo } from '../hardware/machine-info.js';
import { findRecipe, listRecipes } from '../recipe/catalog.js';
import { planRecipe } from '../recipe/plan.js';
import type { Profile } from '../recipe/profile.js';
import type { Accelerator } from '../recipe/recipe.types.gen.js';
import { DEFAULT_CONTEXT } from './llm-defaults.js';
import { isUrl } from './byte-source.js';
import { fitModelOnMachine, type FitReport } from './fit-verdict.js';
import { readModelShape } from './model-headers.js';
import { fitMlxOnMachine, readMlxModelShape } from './mlx-fit.js';
import { checkRecipeFit, tokenHeadersFor } from './recipe-fit.js';

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
  // An MLX model: a repository URL (not a .gguf file) or a folder with config.json.
  if (
    (isUrl(target) && !/\.gguf($|\?)/i.test(target)) ||
    (existsSync(path.join(target, 'config.json')) && statSync(target).isDirectory())
  ) {
    const shape = await readMlxModelShape(target, headers ? { headers } : {});
    return fitMlxOnMachine(shape, o.machine, o.contextSize ?? Math.min(shape.trainContext, 8192));
  }
  // A recipe file (recipes/x/recipe.json) is a recipe, like its id; any other file or URL is a model.
  const recipeFile = !isUrl(target) && /\.json$/i.test(target);
  if (!recipeFile && (isUrl(target) || (existsSync(target) && statSync(target).isFile()))) {
    const urlHeaders = isUrl(target) ? tokenHeadersFor(target, headers) : undefined;
    const shape = await readModelShape(target, urlHeaders ? { headers: urlHeaders } : {});
    return fitModelOnMachine(shape, o.machine, {
      contextSize: o.contextSize ?? Math.min(shape.trainContext, DEFAULT_CONTEXT),
      parallel: o.parallel ?? 1,
      gpu: o.gpu ?? 'auto',
    });
  }
  const loaded = await findRecipe(target, o.home);
  const plan = await planRecipe(loaded, { profile: o.profile, home: o.home });
  const report = await checkRecipeFit(plan, o.machine, {
    ...(o.contextSize ? { contextSize: o.contextSize } : {}),
    ...(headers ? { headers } : {}),
  });
  if (!report) {
    throw new OrchardError('USAGE', `recipe "${target}" has no LLM service with a GGUF or MLX model to check`, {
      hint: 'Give a .gguf file, a GGUF URL, an MLX repository URL or an LLM recipe.',
    });
  }
  const family = loaded.recipe.model?.family;
  if (!family) return report;
  // One model, several engines: fit the others too, so the user sees both (a failure to read one is reported, not fatal).
  const siblings = (await listRecipes(o.home)).filter((r) => r.recipe.model?.family === family && r.recipe.id !== loaded.recipe.id);
  const alternatives: NonNullable<FitReport['alternatives']> = [];
  for (const sibling of siblings) {
    const engine = sibling.recipe.model?.engine ?? 'gguf';
    try {
      const other = await checkRecipeFit(await planRecipe(sibling, { profile: o.profile, home: o.home }), o.machine, {
        ...(o.contextSize ? { contextSize: o.contextSize } : {}),
        ...(headers ? { headers } : {}),
      });
      if (other)
        alternatives.push({
          recipe: sibling.recipe.id,
          engine,
          verdict: other.verdict,
          totalBytes: other.bytes.total,
          ...(other.raiseLimit ? { raiseLimit: other.raiseLimit.command } : {}),
        });
    } catch (err) {
      alternatives.push({ recipe: sibling.recipe.id, engine, error: (err as Error).message });
    }
  }
  return { ...report, engine: loaded.recipe.model?.engine ?? 'gguf', alternatives };
}
