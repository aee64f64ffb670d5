import type { Command } from 'commander';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { resolveHome, type OrchardHome } from '../../core/home.js';
import { formatBytes } from '../../store/disk-space.js';
import { purgeUnreferencedBlobs, storeReport, verifyBlobs } from '../../store/gc.js';
import { readPartialState } from '../../store/partial-state.js';
import { RangeSet } from '../../store/range-set.js';
import { action, printJson, printLine } from '../output.js';

/** `orchard store ls|verify|gc`: what the shared model store holds, who uses it, and cleanup. */
export function register(program: Command): void {
  const store = program.command('store').description('The shared model store: list, verify and clean up blobs');

  store
    .command('ls')
    .description('Blobs in the store, their size and the apps that use them; partial downloads')
    .option('--json', 'print as JSON')
    .action(action(async (flags: { json?: boolean }) => {
      const home = resolveHome();
      const blobs = await storeReport(home);
      const partials = await listPartials(home);
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
      for (const p of partials) printLine(`  partial ${p.file}: ${formatBytes(p.bytesDone)}${p.bytesTotal ? ` of ${formatBytes(p.bytesTotal)}` : ''} from ${p.url}`);
      printLine(`total: ${formatBytes(blobs.reduce((n, b) => n + b.size, 0))} in ${blobs.length} blob(s)`);
    }));

  store
    .command('verify')
    .description('Hash every blob again and report any whose content no longer matches its name')
    .option('--json', 'print as JSON')
    .action(action(async (flags: { json?: boolean }) => {
      const home = resolveHome();
      const checks = await verifyBlobs(home, flags.json ? {} : { onBlob: (c) => printLine(`  ${c.ok ? 'ok     ' : 'CORRUPT'} ${c.sha256}${c.actual ? ` (content hashes to ${c.actual})` : ''}`) });
      const corrupt = checks.filter((c) => !c.ok);
      if (corrupt.length > 0) process.exitCode = 1;
      if (flags.json) {
        printJson({ ok: corrupt.length === 0, checked: checks.length, corrupt, blobs: checks });
        return;
      }
      printLine(corrupt.length === 0 ? `all ${checks.length} blob(s) verified` : `${corrupt.length} corrupt blob(s): delete them and run install again for the apps that use them`);
    }));

  store
    .command('gc')
    .description('Delete blobs that no installed app references')
    .option('--dry-run', 'only list what would be deleted')
    .option('--json', 'print as JSON')
    .action(action(async (flags: { json?: boolean; dryRun?: boolean }) => {
      const home = resolveHome();
      const removed = await purgeUnreferencedBlobs(home, flags.dryRun ? { dryRun: true } : {});
      const bytes = removed.reduce((n, b) => n + b.size, 0);
      if (flags.json) {
        printJson({ ok: true, dryRun: flags.dryRun === true, removed, freedBytes: bytes });
        return;
      }
      for (const b of removed) printLine(`  ${flags.dryRun ? 'would remove' : 'removed'} ${b.sha256} (${formatBytes(b.size)})`);
      printLine(`${flags.dryRun ? 'would free' : 'freed'} ${formatBytes(bytes)} (${removed.length} unused blob(s))`);
    }));
}

async function listPartials(home: OrchardHome): Promise<{ file: string; url: string; bytesDone: number; bytesTotal?: number }[]> {
  const names = await readdir(home.storeTmp).catch(() => [] as string[]);
  const out: { file: string; url: string; bytesDone: number; bytesTotal?: number }[] = [];
  for (const name of names.filter((n) => n.endsWith('.part'))) {
    const file = path.join(home.storeTmp, name);
    const state = await readPartialState(file);
    if (!state) continue;
    out.push({ file, url: state.sourceUrl, bytesDone: new RangeSet(state.done).total(), ...(state.validators.size !== undefined ? { bytesTotal: state.validators.size } : {}) });
  }
  return out;
}
