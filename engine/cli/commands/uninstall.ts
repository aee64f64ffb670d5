import type { Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import { appPaths, resolveHome } from '../../core/home.js';
import { readAppState } from '../../install/state-store.js';
import { uninstallApp } from '../../install/uninstall.js';
import { action, printJson, printLine } from '../output.js';
import { progressPrinter } from '../progress-printer.js';

export function register(program: Command): void {
  program
    .command('uninstall <id>')
    .description("Remove an app's folder; models in the shared store are kept unless --purge-models")
    .option('--purge-models', 'also delete store blobs that no other installed app uses')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (id: string, flags: { purgeModels?: boolean; json?: boolean }) => {
        const home = resolveHome();
        if (!(await readAppState(appPaths(home, id)))) {
          throw new OrchardError('NOT_INSTALLED', `${id} is not installed, so there is nothing to uninstall`, {
            hint: '`orchard status` lists the installed apps.',
          });
        }
        const result = await uninstallApp({
          home,
          id,
          ...(flags.purgeModels ? { purgeModels: true } : {}),
          ...(flags.json ? {} : { emit: progressPrinter() }),
        });
        if (flags.json) {
          printJson({ ok: true, app: id, ...result });
          return;
        }
        printLine(`removed ${result.removed}`);
        if (result.keptOutputs) printLine(`  what the app made was kept: ${result.keptOutputs}`);
        for (const w of result.warnings) printLine(`  ! ${w}`);
        if (flags.purgeModels) printLine(`purged ${result.purged.length} unused model blob(s)`);
        else printLine('models in the shared store were kept (orchard store gc, or uninstall --purge-models, removes unused ones)');
      }),
    );
}
