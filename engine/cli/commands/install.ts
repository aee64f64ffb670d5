import type { Command } from 'commander';
import { resolveHome } from '../../core/home.js';
import { runInstall } from '../../install/installer.js';
import { requireAppState } from '../../install/state-store.js';
import { findRecipe } from '../../recipe/catalog.js';
import { loadRecipe } from '../../recipe/load.js';
import { planRecipe } from '../../recipe/plan.js';
import { resolveProfile } from '../../recipe/resolve-profile.js';
import { collectInput, INPUT_HELP } from '../inputs-option.js';
import { action, printJson, printLine } from '../output.js';
import { progressPrinter } from '../progress-printer.js';
import { cancelOnSignals } from '../cancel-on-signals.js';
import { red } from '../../core/style.js';
import { envSetting } from '../../core/env-settings.js';

interface InstallFlags {
  input?: Record<string, string>;
  allowCpu?: boolean;
  force?: boolean;
  allowUnconfined?: boolean;
  verbose?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('install <recipe>')
    .description('Install an app from a recipe file or id; run it again after an interruption and it resumes')
    .option('--input <key=value>', INPUT_HELP, collectInput)
    .option('--allow-cpu', 'accept a CPU backend where the recipe expects a GPU (remembered and shown)')
    .option('--force', 'install although this machine does not meet the needs or the model does not fit')
    .option('--allow-unconfined', 'run recipe steps that cannot be confined on this machine (shown in red in the plan)')
    .option('-v, --verbose', 'show every line the steps print')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (recipe: string, flags: InstallFlags) => {
        const home = resolveHome();
        const loaded = await findRecipe(recipe, home);
        await install(
          'install',
          await planRecipe(loaded, { profile: await resolveProfile('host'), inputs: flags.input ?? {}, home }),
          flags,
        );
      }),
    );

  program
    .command('update <id>')
    .description('Re-plan an installed app from its recipe and re-run only the steps that changed, then its update script')
    .option('--input <key=value>', 'change a recipe input (repeatable)', collectInput)
    .option('--allow-cpu', 'accept a CPU backend where the recipe expects a GPU')
    .option('--allow-unconfined', 'run recipe steps that cannot be confined on this machine (shown in red in the plan)')
    .option('-v, --verbose', 'show every line the steps print')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (id: string, flags: InstallFlags) => {
        const home = resolveHome();
        const state = await requireAppState(home, id);
        const inputs = { ...state.inputs, ...flags.input };
        await install(
          'update',
          await planRecipe(await loadRecipe(state.recipe.file), { profile: await resolveProfile('host'), inputs, home }),
          flags,
        );
      }),
    );
}

async function install(operation: 'install' | 'update', plan: Awaited<ReturnType<typeof planRecipe>>, flags: InstallFlags): Promise<void> {
  const home = resolveHome();
  if (!flags.json) {
    printLine(`${operation === 'install' ? 'Installing' : 'Updating'} ${plan.recipe.name} ${plan.recipe.version} into ${plan.paths.root}`);
    for (const w of plan.warnings) printLine(red(`  ! ${w}`));
  }
  const { signal, dispose } = cancelOnSignals();
  try {
    const result = await runInstall({
      home,
      plan,
      operation,
      signal,
      ...(flags.json ? {} : { emit: progressPrinter({ verbose: flags.verbose === true }) }),
      ...(flags.allowCpu ? { allowCpu: true } : {}),
      ...(flags.force ? { force: true } : {}),
      ...(flags.allowUnconfined ? { allowUnconfined: true } : {}),
      ...(envSetting('HF_TOKEN') ? { hfToken: envSetting('HF_TOKEN') } : {}),
    });
    if (flags.json) {
      printJson({
        ok: true,
        app: plan.recipe.id,
        lifecycle: result.state.lifecycle,
        ran: result.ran,
        skipped: result.skipped,
        verdict: result.state.verdict ?? null,
      });
    } else {
      printLine(
        `${plan.recipe.name} is installed in ${plan.paths.root} (${result.ran.length} step(s) run, ${result.skipped.length} already done).`,
      );
      if (result.state.verdict) printLine(`backend: ${result.state.verdict.backend} (fallback ${result.state.verdict.fallback})`);
    }
  } finally {
    dispose();
  }
}
