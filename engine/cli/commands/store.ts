import type { Command } from 'commander';
import { envSetting } from '../../core/env-settings.js';
import { resolveHome } from '../../core/home.js';
import { listPartialDownloads, removeIdlePartials } from '../../store/download/index.js';
import { formatBytes, purgeUnreferencedBlobs, storeReport, verifyBlobs, type BlobCheck } from '../../store/index.js';
import { cancelOnSignals } from '../cancel-on-signals.js';
import { action, printJson, printLine } from '../output.js';

/** `orchard store ls|verify|gc`: what the shared model store holds, who uses it, and cleanup. */
export function register(program: Command): void {
  const store = program.command('store').description('The shared model store: list, verify and clean up blobs');

  store
    .command('ls')
    .description('Blobs in the store, their size and the apps that use them; partial downloads')
    .option('--json', 'print as JSON')
    .action(
      action(async (flags: { json?: boolean }) => {
        const home = resolveHome();
        const blobs = await storeReport(home);
        const partials = await listPartialDownloads(home);
        if (flags.json) {
          printJson({ ok: true, store: home.store, blobs, partials, totalBytes: blobs.reduce((n, b) => n + b.size, 0) });
          return;
        }
        printLine(`store: ${home.store}`);
        if (blobs.length === 0) printLine('  (no blobs)');
        for (const b of blobs) {
          const users = b.references.map((r) => `${r.app}:${r.weight}`).join(', ') || 'unused';
          printLine(`  ${b.sha256.slice(0, 16)}…  ${formatBytes(b.size).padStart(10)}  ${users}`);
        }
        for (const p of partials) {
          const state = p.activePid !== undefined ? `downloading now (pid ${p.activePid})` : 'idle';
          printLine(
            `  partial ${p.file}: ${formatBytes(p.bytesDone)}${p.bytesTotal ? ` of ${formatBytes(p.bytesTotal)}` : ''} from ` +
              `${p.url ?? 'an unknown source'}, ${state}`,
          );
        }
        printLine(`total: ${formatBytes(blobs.reduce((n, b) => n + b.size, 0))} in ${blobs.length} blob(s)`);
      }),
    );

  store
    .command('verify')
    .description('Hash every blob again and report any whose content no longer matches its name')
    .option('--repair', 'download each corrupt blob again from the URL recorded for it and re-link the apps that use it')
    .option('--json', 'print as JSON')
    .action(
      action(async (flags: { json?: boolean; repair?: boolean }) => {
        const home = resolveHome();
        const { signal, dispose } = cancelOnSignals();
        let checks: Awaited<ReturnType<typeof verifyBlobs>>;
        try {
          checks = await verifyBlobs(home, {
            signal,
            ...(flags.json
              ? {}
              : {
                  onBlob: (c: BlobCheck) =>
                    printLine(`  ${c.ok ? 'ok      ' : c.repaired ? 'REPAIRED' : 'CORRUPT '} ${c.sha256}${describe(c)}`),
                }),
            ...(flags.repair
              ? {
                  repair: {
                    token: envSetting('HF_TOKEN'),
                    signal,
                    ...(flags.json ? {} : { log: (line: string) => printLine(`    ${line}`) }),
                  },
                }
              : {}),
          });
        } finally {
          dispose();
        }
        const corrupt = checks.filter((c) => !c.ok);
        const unrepaired = corrupt.filter((c) => !c.repaired);
        if (unrepaired.length > 0) process.exitCode = 1;
        if (flags.json) {
          printJson({
            ok: unrepaired.length === 0,
            checked: checks.length,
            corrupt,
            repaired: corrupt.filter((c) => c.repaired),
            blobs: checks,
          });
          return;
        }
        if (corrupt.length === 0) printLine(`all ${checks.length} blob(s) verified`);
        else if (!flags.repair)
          printLine(
            `${corrupt.length} corrupt blob(s): run \`orchard store verify --repair\` to download them again and re-link the ` +
              'apps that use them',
          );
        else printLine(`${corrupt.length - unrepaired.length} of ${corrupt.length} corrupt blob(s) repaired`);
      }),
    );

  store
    .command('gc')
    .description('Delete blobs that no installed app references (and, with --partials, idle partial downloads)')
    .option(
      '--partials',
      'also delete partial downloads no running download is writing (their installs then fetch those files from the start)',
    )
    .option('--dry-run', 'only list what would be deleted')
    .option('--json', 'print as JSON')
    .action(
      action(async (flags: { json?: boolean; dryRun?: boolean; partials?: boolean }) => {
        const home = resolveHome();
        const dryRun = flags.dryRun === true;
        const removed = await purgeUnreferencedBlobs(home, { dryRun });
        const removedPartials = flags.partials ? await removeIdlePartials(home, { dryRun }) : [];
        const idle = flags.partials ? [] : (await listPartialDownloads(home)).filter((p) => p.activePid === undefined);
        const bytes = removed.reduce((n, b) => n + b.size, 0) + removedPartials.reduce((n, p) => n + p.diskBytes, 0);
        if (flags.json) {
          printJson({ ok: true, dryRun, removed, removedPartials, idlePartials: idle, freedBytes: bytes });
          return;
        }
        const verb = dryRun ? 'would remove' : 'removed';
        for (const b of removed) printLine(`  ${verb} ${b.sha256} (${formatBytes(b.size)})`);
        for (const p of removedPartials) printLine(`  ${verb} partial ${p.file} (${formatBytes(p.diskBytes)})`);
        printLine(
          `${dryRun ? 'would free' : 'freed'} ${formatBytes(bytes)} (${removed.length} unused blob(s)` +
            `${flags.partials ? `, ${removedPartials.length} partial download(s)` : ''})`,
        );
        if (idle.length > 0) {
          printLine(
            `${idle.length} idle partial download(s) hold ${formatBytes(idle.reduce((n, p) => n + p.diskBytes, 0))}; an install ` +
              'resumes from them. --partials removes them.',
          );
        }
      }),
    );
}

function describe(c: BlobCheck): string {
  if (c.ok) return '';
  const what = c.actual ? ` (content hashes to ${c.actual})` : c.why ? ` (${c.why})` : '';
  if (c.repaired) return `${what}: downloaded again${c.relinked && c.relinked.length > 0 ? `, re-linked ${c.relinked.join(', ')}` : ''}`;
  return `${what}${c.repairError ? `: not repaired: ${c.repairError}` : ''}`;
}
