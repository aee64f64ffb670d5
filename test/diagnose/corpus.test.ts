import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { diagnoseLog } from '../../engine/diagnose/diagnose-log.js';
import type { Backend } from '../../engine/recipe/recipe.types.gen.js';
import { fixturesDir } from '../helpers/paths.js';

interface Entry {
  file: string;
  source: string;
  expect?: Backend;
  label: { backend: Backend; fallback: string; offload?: { layers: number; total: number } };
}

const dir = path.join(fixturesDir, 'logs');
const corpus = JSON.parse(readFileSync(path.join(dir, 'corpus.json'), 'utf8')) as { entries: Entry[] };

test('the corpus is at least 40 real excerpts, each with a source link', () => {
  assert.ok(corpus.entries.length >= 40, `only ${corpus.entries.length} excerpts`);
  for (const e of corpus.entries) assert.match(e.source, /^(https:\/\/|code index)/, e.file);
});

test('diagnoser accuracy on the labelled corpus is at least 95% (backend + fallback), layer counts exact', () => {
  const misses: string[] = [];
  let layerChecks = 0;
  for (const e of corpus.entries) {
    const text = readFileSync(path.join(dir, e.file), 'utf8');
    const v = diagnoseLog(text, e.expect ? { expect: e.expect } : {});
    if (v.backend !== e.label.backend || v.fallback !== e.label.fallback) {
      misses.push(`${e.file}: got ${v.backend}/${v.fallback}, label ${e.label.backend}/${e.label.fallback}`);
    }
    if (e.label.offload) {
      layerChecks++;
      assert.deepEqual(v.offload, e.label.offload, `${e.file}: layer counts`);
    }
    assert.ok(v.evidence.length > 0 || v.backend === 'unknown', `${e.file}: a verdict must quote its evidence`);
  }
  const total = corpus.entries.length;
  const accuracy = (total - misses.length) / total;
  console.log(`corpus: ${total} excerpts, backend+fallback accuracy ${(accuracy * 100).toFixed(1)}% (${total - misses.length}/${total}), exact layer counts on ${layerChecks} excerpts`);
  for (const m of misses) console.log(`  miss: ${m}`);
  assert.ok(accuracy >= 0.95, `accuracy ${(accuracy * 100).toFixed(1)}% < 95%:\n${misses.join('\n')}`);
});
