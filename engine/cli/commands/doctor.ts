import type { Command } from 'commander';
import { envReport } from '../../core/env-settings.js';
import { resolveHome } from '../../core/home.js';
import { doctorReport, gib } from '../../hardware/doctor-report.js';
import { probeMachine } from '../../hardware/probe.js';
import { listRecipes } from '../../recipe/catalog.js';
import { action, printJson, printLine } from '../output.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description(
      'This machine, its accelerators, the memory a model can use, what each bundled recipe needs against it, and problems with fixes',
    )
    .option('--json', 'print the report as JSON')
    .option('--env', 'print the environment variables Orchard reads: value, default, what each does')
    .action(
      action(async (opts: { json?: boolean; env?: boolean }) => {
        if (opts.env) {
          const rows = envReport();
          if (opts.json) printJson({ env: rows });
          else for (const r of rows) printLine(`${r.name}=${r.value ?? ''}\n    ${r.description} (default: ${r.default})`);
          return;
        }
        const home = resolveHome();
        const [machine, recipes] = await Promise.all([probeMachine(), listRecipes(home)]);
        const report = await doctorReport(machine, recipes, home);
        if (opts.json) {
          printJson(report);
          return;
        }
        const m = report.machine;
        printLine(
          `machine:      ${m.model ? `${m.model}, ` : ''}${m.cpu.brand} (${m.cpu.cores} cores), ${gib(m.memory.totalBytes)} RAM` +
            `${m.unifiedMemory ? ' (unified)' : ''}, ${m.os}-${m.arch}`,
        );
        for (const g of m.gpus)
          printLine(
            `gpu:          ${g.name}${g.cores ? `, ${g.cores} cores` : ''}${g.vramBytes ? `, ${gib(g.vramBytes)}` : ''}` +
              `${g.api ? `, ${g.api}` : ''}`,
          );
        printLine(`accelerators: ${report.accelerators.join(', ')}`);
        printLine(`model memory: ${gib(report.budget.modelBytes)} — ${report.budget.explanation}`);
        const w = report.budget.wiredLimit;
        if (w) printLine(`big models:   ${w.command}\n              ${w.risk}\n              undo: ${w.resetCommand}`);
        if (report.disk.freeBytes !== null) printLine(`disk free:    ${gib(report.disk.freeBytes)} at ${report.disk.path}`);
        for (const r of report.recipes) printLine(`recipe ${r.id}: ${r.ok ? 'fits' : `${r.problems.join('; ')} — ${r.fixes.join(' ')}`}`);
        if (report.problems.length === 0) printLine('problems:     none');
        for (const p of report.problems) printLine(`problem:      ${p.problem}\n  fix:        ${p.fix}`);
      }),
    );
}
