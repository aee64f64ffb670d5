// `npm test`: build (which typechecks every part), check the recipe types have not drifted from the
// schema, lint, check the formatting and the dependency rules (DESIGN §2), then run node's test
// runner over the compiled tests. Lint, format and layers run on the full run only (no targets).
// `node scripts/test.mjs [--out DIR] [--engine-only] [--allow-type-errors] [test/dir-or-file.test.ts ...]`
// runs a subset against a private build folder (used while developing in parallel).
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const buildFlags = [];
const targets = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out') buildFlags.push('--out', args[++i]);
  else if (args[i].startsWith('--')) buildFlags.push(args[i]);
  else targets.push(args[i]);
}
const outIndex = buildFlags.indexOf('--out');
const out = outIndex >= 0 ? buildFlags[outIndex + 1] : 'dist';

execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), ...buildFlags], { cwd: root, stdio: 'inherit' });
execFileSync(process.execPath, [path.join(root, 'scripts', 'gen-recipe-types.mjs'), '--check'], { cwd: root, stdio: 'inherit' });
if (targets.length === 0) {
  const biome = path.join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
  const checks = [
    ['lint (npm run lint; npm run lint:fix fixes most)', [biome, 'lint', '.']],
    ['format (npm run format)', [biome, 'format', '.']],
    ['dependency rules (scripts/check-layers.mjs)', [path.join(root, 'scripts', 'check-layers.mjs')]],
  ];
  for (const [what, argv] of checks) {
    const r = spawnSync(process.execPath, argv, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`npm test: ${what} failed`);
      process.exit(r.status ?? 1);
    }
  }
}
// Node 20's runner, given a folder, runs every .js in it (helpers too): list *.test.js ourselves.
const testFiles = (p) =>
  statSync(p).isDirectory()
    ? readdirSync(p)
        .sort()
        .flatMap((name) => testFiles(path.join(p, name)))
    : p.endsWith('.test.js')
      ? [p]
      : [];
const compiled = (targets.length > 0 ? targets : ['test']).map((t) => path.join(root, out, t.replace(/\.ts$/, '.js'))).flatMap(testFiles);
if (compiled.length === 0) {
  console.error(`no test files under ${targets.join(' ') || 'test'}`);
  process.exit(1);
}
// The cluster tests need a real llama.cpp RPC build (about 8 minutes on 2 cores, then cached by the
// source bundle's hash): made here, before the runner's per-test timeout applies, and only once.
if (compiled.some((f) => f.includes(`${path.sep}cluster${path.sep}`))) {
  const { pathToFileURL } = await import('node:url');
  const helper = path.join(root, out, 'test', 'helpers', 'llamacpp-build.js');
  const { llamaCppBuild } = await import(pathToFileURL(helper).href);
  const started = Date.now();
  const built = await llamaCppBuild();
  if ('skip' in built) console.log(`# cluster tests will skip: ${built.skip}`);
  else console.log(`# llama.cpp RPC engine ready in ${built.binDir} (${Math.round((Date.now() - started) / 1000)} s)`);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...compiled], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env },
});
process.exit(result.status ?? 1);
