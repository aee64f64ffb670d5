// One-off refactoring, kept so it can be re-run after merging branches that touched engine/store/:
// moves the downloader's files from engine/store/ into engine/store/download/ (`git mv`) and fixes
// every relative import, dynamic import and `new URL('./x.js', import.meta.url)` that points at a
// moved file or is written inside one, in engine/, sandbox/, test/ and bench/. No other change.
//   node scripts/group-store-download.mjs [--dry-run] [extra-file.ts ...]
// Extra names (files a merge added to engine/store/ that belong to the downloader) join the list.
// Afterwards: add new exports to engine/store/download/index.ts, then run the build and
// `node scripts/check-layers.mjs` (an import that skips the index is reported there).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const dryRun = args.includes('--dry-run');
const from = 'engine/store';
const to = 'engine/store/download';
const DOWNLOADER = [
  'body-pump.ts',
  'download-errors.ts',
  'download-progress.ts',
  'download-queue.ts',
  'download.ts',
  'fetch-to-store.ts',
  'hash-worker.ts',
  'http-client.ts',
  'hub-auth.ts',
  'in-order-hasher.ts',
  'page-cache-drop.ts',
  'part-lock.ts',
  'part-persister.ts',
  'partial-state.ts',
  'partials.ts',
  'piece-planner.ts',
  'range-set.ts',
  'remote-probe.ts',
  'retry-policy.ts',
  'serial-writer.ts',
  ...args.filter((a) => !a.startsWith('--')),
].filter((f) => existsSync(path.join(root, from, f)));

/** Old repo-relative path -> new one, for every moved file. */
const moves = new Map(DOWNLOADER.map((f) => [`${from}/${f}`, `${to}/${f}`]));
const git = (...a) => execFileSync('git', a, { cwd: root, encoding: 'utf8' });
const sources = git('ls-files', 'engine', 'sandbox', 'test', 'bench')
  .split('\n')
  .filter((f) => /\.(ts|tsx|mts|cts)$/.test(f) && !f.startsWith('test/fixtures/'));

const SPEC = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|new URL\(\s*)(['"])(\.{1,2}\/[^'"]+)\2/g;
const toTs = (spec) => spec.replace(/\.js$/, '.ts');
const posixRel = (fromDir, target) => {
  const rel = path.posix.relative(fromDir, target);
  return rel.startsWith('.') ? rel : `./${rel}`;
};

let changedFiles = 0;
for (const file of sources) {
  const newFile = moves.get(file) ?? file;
  const text = readFileSync(path.join(root, file), 'utf8');
  const next = text.replace(SPEC, (all, lead, quote, spec) => {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), toTs(spec)));
    const moved = moves.get(target);
    if (!moved && newFile === file) return all;
    const newTarget = moved ?? target;
    const rel = posixRel(path.posix.dirname(newFile), newTarget).replace(/\.ts$/, spec.endsWith('.js') ? '.js' : '.ts');
    return `${lead}${quote}${rel}${quote}`;
  });
  if (next !== text) {
    changedFiles++;
    if (!dryRun) writeFileSync(path.join(root, file), next);
    console.log(`imports: ${file}`);
  }
}
if (!dryRun) mkdirSync(path.join(root, to), { recursive: true });
for (const [old, moved] of moves) {
  console.log(`git mv ${old} ${moved}`);
  if (!dryRun) git('mv', old, moved);
}
console.log(`${moves.size} files moved, imports fixed in ${changedFiles} files${dryRun ? ' (dry run)' : ''}`);
