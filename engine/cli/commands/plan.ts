import type { Command } from 'commander';
import { resolveHome } from '../../core/home.js';
import { findRecipe } from '../../recipe/catalog.js';
import { planRecipe } from '../../recipe/plan.js';
import { resolveProfile } from '../../recipe/resolve-profile.js';
import { formatPlan } from '../format-plan.js';
import { collectInput, INPUT_HELP } from '../inputs-option.js';
import { action, printJson, printLine } from '../output.js';

export function register(program: Command): void {
  program
    .command('plan <recipe>')
    .description('Show every action an install would take on a platform profile; runs nothing')
    .option('--profile <name>', 'darwin-arm64-metal | linux-x64-cuda | linux-x64-cpu | host', 'host')
    .option('--input <key=value>', INPUT_HELP, collectInput)
    .option('--json', 'print the plan object')
    .action(
      action(async (recipe: string, opts: { profile: string; input?: Record<string, string>; json?: boolean }) => {
        const home = resolveHome();
        const plan = await planRecipe(await findRecipe(recipe, home), {
          profile: await resolveProfile(opts.profile),
          inputs: opts.input ?? {},
          home,
        });
        if (opts.json) printJson(plan);
        else printLine(formatPlan(plan));
      }),
    );
}
