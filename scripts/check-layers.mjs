// The dependency rules of DESIGN §2, checked over the product's sources (engine/, sandbox/, ui/src/,
// main/) by reading their import statements. `npm test` runs it; exit code 1 and one line per
// violation when a rule is broken. `node scripts/check-layers.mjs [--root DIR]` checks another tree
// (test/fixtures/layers holds one with planted violations, so the rules are shown to fail).
//
// Why not dependency-cruiser or eslint-plugin-import: both parse TypeScript through the `typescript`
// package's JavaScript compiler API, which TypeScript 7 (the native compiler this project builds
// with) no longer ships. Reading import specifiers needs no parser: the code base writes them one
// way (`from '...'`, `import('...')`), and the build has already type-checked every file.
//
// The rules:
//  1. Layers: a file may import only from its own unit and the units LAYERS allows it (below).
//  2. ui/ reaches the engine only over HTTP: it may import types (`import type`) from the API
//     contract (CONTRACT) and nothing else of the engine (shared/ is not the engine: pure helpers); main/ imports nothing of the engine (it
//     starts the engine as a process).
//  3. No import cycles between files (type-only imports count: a cycle of types is still a tangle).
//  4. A folder with an index.ts is a package: from outside it, import its index.ts (or the index.ts
//     of a package nested in it), not its files.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Which units each unit may import (besides itself and `core`/`schema`, which everything may
 * import). A unit is a folder under engine/ (engine/services/<name> each count as one), or sandbox,
 * ui, main. A new folder under engine/ must be added here, at its place in the order.
 */
export const LAYERS = {
  // shared/: pure modules with no imports, for the engine and the UI alike (formatBytes).
  shared: [],
  core: [],
  schema: [],
  sandbox: [],
  hardware: [],
  store: [],
  settings: [],
  // openai/: the OpenAI-compatible API's error shape and token metrics, shared by the LLM services.
  openai: [],
  recipe: ['sandbox', 'hardware'],
  fit: ['hardware', 'recipe'],
  diagnose: ['recipe', 'hardware'],
  // cluster/: hosts, SSH, the per-node split and the worker agent (llama.cpp RPC; docs/cluster.md).
  cluster: ['fit', 'hardware', 'recipe'],
  supervisor: ['recipe'],
  steps: ['recipe', 'sandbox', 'store', 'hardware', 'fit', 'diagnose'],
  install: ['recipe', 'steps', 'store', 'sandbox', 'hardware', 'fit', 'diagnose', 'supervisor', 'settings', 'cluster'],
  // Bundled services are standalone processes: never cli, api, install or steps.
  'services/*': ['recipe', 'fit', 'diagnose', 'supervisor', 'hardware', 'sandbox', 'store', 'settings', 'openai', 'cluster'],
  gateway: ['recipe', 'fit', 'diagnose', 'supervisor', 'hardware', 'sandbox', 'store', 'settings', 'openai', 'services/*'],
  api: [
    'recipe',
    'fit',
    'diagnose',
    'supervisor',
    'hardware',
    'sandbox',
    'store',
    'settings',
    'openai',
    'cluster',
    'install',
    'steps',
    'gateway',
    'services/*',
  ],
  cli: [
    'api',
    'gateway',
    'install',
    'steps',
    'supervisor',
    'diagnose',
    'services/*',
    'recipe',
    'fit',
    'hardware',
    'sandbox',
    'store',
    'settings',
    'openai',
    'cluster',
  ],
  ui: [],
  main: [],
};
/** Units at the bottom that every engine unit may import. */
const BASE = ['core', 'schema', 'shared'];
/** The only engine files ui/ may import, and only with `import type`: the HTTP API's contract. */
export const CONTRACT = ['engine/api/api-types.ts', 'engine/api/contract.ts'];
/**
 * Data (no code) the UI bundles as it is: the recipe JSON Schema, the single source of truth of the
 * recipe format, which the editor's completion, hover docs and inline errors are driven by.
 */
export const UI_DATA = ['engine/recipe/recipe.schema.json'];
/**
 * Code of a service runs elsewhere only through these files (its entry points); other layers may
 * still `import type` its contract types (the API re-exports the diffusion job's shape).
 */
const SERVICE_ENTRIES = /^engine\/services\/[^/]+\/(index|command|main)\.ts$/;

const SOURCE_DIRS = ['engine', 'sandbox', 'shared', 'ui/src', 'main'];
const SOURCE_EXT = /\.(ts|tsx|cts|mts)$/;

/** The unit a repo-relative path belongs to, or undefined for files outside the product. */
export function unitOf(rel) {
  if (rel === 'engine/recipe/recipe.types.gen.ts') return 'schema';
  const parts = rel.split('/');
  if (parts[0] === 'engine') {
    if (parts.length === 2) return 'engine';
    if (parts[1] === 'services' && parts.length > 3) return `services/${parts[2]}`;
    return parts[1];
  }
  if (['sandbox', 'shared', 'ui', 'main'].includes(parts[0])) return parts[0];
  return undefined;
}

const allowedFor = (unit) => LAYERS[unit.startsWith('services/') ? 'services/*' : unit];

function listSources(root) {
  const out = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (SOURCE_EXT.test(name) && !name.endsWith('.d.ts')) out.push(path.relative(root, p).split(path.sep).join('/'));
    }
  };
  for (const d of SOURCE_DIRS) walk(path.join(root, d));
  return out;
}

// `import x from '...'`, `import type {...} from '...'`, `export {...} from '...'`, `import '...'`,
// `import('...')`. Comments are blanked first so an example in a comment is not an import.
const IMPORT =
  /(?:^|[;\s}])(import|export)\s+(type\s+)?(?:[\w*{}\s,$]*?\bfrom\s*)?['"]([^'"\n]+)['"]|\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g;

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/[^\n]*/g, '$1');
}

/** The imports of one file: specifier, whether type-only, and the line it is on. */
export function importsOf(text) {
  const clean = stripComments(text);
  const found = [];
  for (const m of clean.matchAll(IMPORT)) {
    const spec = m[3] ?? m[4];
    if (!spec) continue;
    // `import { type A, type B } from` is type-only too.
    const braces = /^\s*(?:import|export)\s*\{([^}]*)\}/.exec(m[0].replace(/^[;\s}]/, ''));
    const allTypes = braces
      ? braces[1]
          .split(',')
          .filter((s) => s.trim())
          .every((s) => /^\s*type\s/.test(s))
      : false;
    const line = clean.slice(0, m.index).split('\n').length + (m[0].startsWith('\n') ? 1 : 0);
    found.push({ spec, typeOnly: Boolean(m[2]) || allTypes, line });
  }
  return found;
}

function resolve(root, fromRel, spec) {
  if (!spec.startsWith('.')) return undefined; // a package or node: builtin
  const base = path.join(path.dirname(path.join(root, fromRel)), spec);
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.js$/, '.tsx'),
    base.replace(/\.cjs$/, '.cts'),
    base.replace(/\.mjs$/, '.mts'),
    `${base}.ts`,
    `${base}.tsx`,
    path.join(base, 'index.ts'),
  ];
  const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  return path
    .relative(root, hit ?? base)
    .split(path.sep)
    .join('/');
}

/** Folders (repo-relative) that hold an index.ts: packages whose insides are private. */
function packagesOf(files) {
  return files.filter((f) => f.endsWith('/index.ts') && !f.startsWith('ui/') && !f.startsWith('main/')).map((f) => path.posix.dirname(f));
}

/** Every violation in the tree at `root`, as human-readable lines (empty: all rules hold). */
export function checkLayers(root) {
  const files = listSources(root);
  const packages = packagesOf(files);
  const problems = [];
  const graph = new Map(files.map((f) => [f, []]));

  for (const from of files) {
    const fromUnit = unitOf(from);
    for (const { spec, typeOnly, line } of importsOf(readFileSync(path.join(root, from), 'utf8'))) {
      const to = resolve(root, from, spec);
      if (to === undefined) continue;
      const where = `${from}:${line} imports ${to}`;
      if (graph.has(to)) graph.get(from).push(to);
      const toUnit = unitOf(to);
      if (toUnit === undefined) {
        problems.push(`${where}: outside the product's sources`);
        continue;
      }
      // 2. ui and main
      if (fromUnit === 'ui' || fromUnit === 'main') {
        if (toUnit === fromUnit || (fromUnit === 'ui' && toUnit === 'shared')) continue;
        if (fromUnit === 'ui' && CONTRACT.includes(to) && typeOnly) continue;
        if (fromUnit === 'ui' && UI_DATA.includes(to)) continue;
        problems.push(
          fromUnit === 'ui'
            ? `${where}: ui reaches the engine only over HTTP (only \`import type\` from ${CONTRACT.join(' or ')})`
            : `${where}: main starts the engine as a process and imports none of it`,
        );
        continue;
      }
      if (toUnit === 'ui' || toUnit === 'main') {
        problems.push(`${where}: the engine never imports ${toUnit}`);
        continue;
      }
      // 1. layers
      const allowed = allowedFor(fromUnit);
      if (allowed === undefined) {
        problems.push(`${where}: unknown layer "${fromUnit}": add it to LAYERS in scripts/check-layers.mjs (and to DESIGN §2)`);
        continue;
      }
      if (fromUnit === 'shared' && toUnit !== 'shared') {
        problems.push(`${where}: shared/ holds pure modules that import nothing of the product`);
        continue;
      }
      if (toUnit !== fromUnit && !BASE.includes(toUnit)) {
        const ok = allowed.includes(toUnit) || (toUnit.startsWith('services/') && allowed.includes('services/*'));
        if (!ok) problems.push(`${where}: ${fromUnit} may not import ${toUnit} (DESIGN §2)`);
        else if (toUnit.startsWith('services/') && !SERVICE_ENTRIES.test(to) && !typeOnly) {
          problems.push(`${where}: other layers run a service only through its entry point (index.ts, command.ts or main.ts)`);
        }
      }
      // 4. packages
      // The index of a package nested in another (store/download/ in store/) is public too.
      const isPublicIndex = (pkg) => packages.some((p) => (p === pkg || p.startsWith(`${pkg}/`)) && to === `${p}/index.ts`);
      const bypassed = packages.find((pkg) => to.startsWith(`${pkg}/`) && !from.startsWith(`${pkg}/`) && !isPublicIndex(pkg));
      if (bypassed) problems.push(`${where}: past the package's index; import ${bypassed}/index.ts`);
    }
  }

  // 3. cycles (Tarjan's strongly connected components)
  for (const cycle of stronglyConnected(graph)) problems.push(`import cycle: ${cycle.join(' -> ')} -> ${cycle[0]}`);
  return problems;
}

function stronglyConnected(graph) {
  let index = 0;
  const stack = [];
  const meta = new Map();
  const cycles = [];
  const visit = (v) => {
    const m = { index, low: index, onStack: true };
    index++;
    meta.set(v, m);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      const mw = meta.get(w);
      if (!mw) {
        visit(w);
        m.low = Math.min(m.low, meta.get(w).low);
      } else if (mw.onStack) m.low = Math.min(m.low, mw.index);
    }
    if (m.low === m.index) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        meta.get(w).onStack = false;
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.reverse());
    }
  };
  for (const v of graph.keys()) if (!meta.has(v)) visit(v);
  return cycles;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rootIndex = process.argv.indexOf('--root');
  const root = path.resolve(rootIndex >= 0 ? process.argv[rootIndex + 1] : path.dirname(path.dirname(fileURLToPath(import.meta.url))));
  const problems = checkLayers(root);
  for (const p of problems) console.error(`layers: ${p}`);
  if (problems.length > 0) {
    console.error(`layers: ${problems.length} violation(s) of the dependency rules (DESIGN §2; scripts/check-layers.mjs)`);
    process.exit(1);
  }
  console.log('layers: the dependency rules hold');
}
