import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { diagnoseLog } from '../../engine/diagnose/diagnose-log.js';
import { patterns, statefulFactories } from '../../engine/diagnose/extract/index.js';
import { FAMILIES, type Family } from '../../engine/diagnose/facts.js';
import type { Verdict } from '../../engine/diagnose/verdict.js';
import type { Backend } from '../../engine/recipe/recipe.types.gen.js';
import { fixturesDir } from '../helpers/paths.js';

interface Entry {
  file: string;
  source: string;
  family: Family;
  tool: string;
  os: string;
  hardware: string;
  expect?: Backend;
  label: { backend: Backend; fallback: Verdict['fallback']; offload?: { layers: number; total: number } };
}

const dir = path.join(fixturesDir, 'logs');
const corpus = JSON.parse(readFileSync(path.join(dir, 'corpus.json'), 'utf8')) as { entries: Entry[] };
const texts = new Map(corpus.entries.map((e) => [e.file, readFileSync(path.join(dir, e.file), 'utf8')]));

const run = (e: Entry, heldOut?: ReadonlySet<Family>): Verdict =>
  diagnoseLog(texts.get(e.file) ?? '', { ...(e.expect ? { expect: e.expect } : {}), ...(heldOut ? { heldOut } : {}) });
const right = (e: Entry, v: Verdict) => v.backend === e.label.backend && v.fallback === e.label.fallback;

/**
 * Families scoring below the 90% bar in the leave-one-family-out run, with the score measured when
 * this was written and why. The test fails if any other family with ≥ 5 cases drops below 90%, or
 * if one of these drops below its recorded score. See docs/diagnose.md ("What the rules don't know").
 */
const BELOW_BAR: Partial<Record<Family, { score: number; why: string }>> = {
  ollama: {
    score: 20 / 42,
    why: 'scheduler (layers.offload/layers.model), `ollama ps`, discovery, no-AVX and rocBLAS lines are Ollama-only vocabulary',
  },
  mlx: { score: 7 / 14, why: "MLX's throughput, benchmark, LoRA, buffer-limit and metal::Device lines are printed by MLX alone" },
  vllm: { score: 9 / 15, why: "vLLM's attention backends (GPU and Torch SDPA on CPU), platform probe and free-memory check are vLLM-only" },
  'sd.cpp': { score: 13 / 15, why: "sd.cpp's MB(VRAM)/MB(RAM) buffers and --vae-on-cpu are sd.cpp-only" },
  koboldcpp: { score: 8 / 9, why: "koboldcpp's CPU library names (koboldcpp_openblas_noavx2) are its own" },
  'llama-cpp-python': {
    score: 5 / 7,
    why: '"built without hardware acceleration" is its own words; a Mac log with no Metal line is told only by absence',
  },
  gpustack: { score: 4 / 6, why: 'llama-box\'s CPU-only system_info and CUDA\'s "no kernel image" were first seen in GPUStack threads' },
  diffusers: {
    score: 2 / 5,
    why: 'the fp16-on-cpu pipeline warning and the MPS allocator\'s "Invalid buffer size" are diffusers/PyTorch-MPS-only',
  },
};
/** The leave-one-family-out overall score when this was written (the 95% bar is not met; see docs/diagnose.md). */
const LOFO_OVERALL_FLOOR = 192 / 240;

test('the corpus: ≥ 200 real excerpts from ≥ 15 tools, each with source, family, OS, hardware and a valid label', () => {
  const tools = new Set(corpus.entries.map((e) => e.tool));
  const families = new Set(corpus.entries.map((e) => e.family));
  const files = new Set<string>();
  for (const e of corpus.entries) {
    assert.match(e.source, /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+\/(issues|pull)\/\d+$/, e.file);
    assert.ok((FAMILIES as readonly string[]).includes(e.family), `${e.file}: family ${e.family}`);
    assert.ok(e.tool && e.os && e.hardware, e.file);
    assert.ok(['metal', 'cuda', 'vulkan', 'rocm', 'cpu', 'unknown'].includes(e.label.backend), e.file);
    assert.ok(['none', 'partial', 'full'].includes(e.label.fallback), e.file);
    assert.ok(!files.has(e.file), `${e.file} listed twice`);
    files.add(e.file);
    assert.ok((texts.get(e.file) ?? '').trim().length > 0, `${e.file} is empty`);
  }
  const byOs = count(corpus.entries.map((e) => e.os));
  const byHw = count(corpus.entries.map((e) => e.hardware));
  console.log(`corpus: ${corpus.entries.length} excerpts, ${tools.size} tools, ${families.size} families`);
  console.log(`  os: ${fmt(byOs)}\n  hardware: ${fmt(byHw)}`);
  assert.ok(corpus.entries.length >= 200, `only ${corpus.entries.length} excerpts`);
  assert.ok(tools.size >= 15, `only ${tools.size} tools`);
  for (const os of ['macos', 'linux', 'windows']) assert.ok((byOs.get(os) ?? 0) > 0, `no ${os} excerpt`);
  for (const hw of ['nvidia', 'amd', 'intel', 'apple']) assert.ok((byHw.get(hw) ?? 0) > 0, `no ${hw} excerpt`);
});

test('every extractor pattern names the families that taught it, and fires on an excerpt of each of them', () => {
  const firedIn = new Map<string, Set<Family>>();
  for (const e of corpus.entries) {
    const lines = (texts.get(e.file) ?? '').split(/\r?\n/);
    for (const p of patterns) {
      if (
        lines.some((line) => (p.hint === undefined || [p.hint].flat().some((h) => line.toLowerCase().includes(h)) ? fires(p, line) : false))
      )
        firedIn.set(p.id, (firedIn.get(p.id) ?? new Set()).add(e.family));
    }
    for (const make of statefulFactories) {
      const s = make();
      if (lines.map((line) => s.scan(line, line.toLowerCase()).length).some((n) => n > 0))
        firedIn.set(s.id, (firedIn.get(s.id) ?? new Set()).add(e.family));
    }
  }
  const extractors: { id: string; from: readonly Family[]; untaught?: string }[] = [
    ...patterns,
    ...statefulFactories.map((make) => make()),
  ];
  const unearned: string[] = [];
  for (const p of extractors) {
    if (p.from.length === 0) {
      assert.ok(p.untaught, `${p.id} names no family and does not say where its vocabulary comes from`);
      continue;
    }
    for (const f of p.from) if (!firedIn.get(p.id)?.has(f)) unearned.push(`${p.id} claims ${f}, but fires on none of its excerpts`);
  }
  assert.deepEqual(unearned, []);
  const untaught = extractors.filter((p) => p.from.length === 0).map((p) => p.id);
  console.log(`extractors: ${extractors.length}, untaught (off in every leave-one-out run): ${untaught.join(', ') || 'none'}`);
});

function fires(p: (typeof patterns)[number], line: string): boolean {
  const m = p.re.exec(line);
  return m !== null && p.produce(m, line).length > 0;
}

test('all rules on: ≥ 95% backend + fallback on the corpus, layer counts exact, every verdict quotes its evidence', () => {
  const misses: string[] = [];
  let layerChecks = 0;
  for (const e of corpus.entries) {
    const v = run(e);
    if (!right(e, v)) misses.push(`${e.family} ${e.file}: got ${v.backend}/${v.fallback}, label ${e.label.backend}/${e.label.fallback}`);
    if (e.label.offload) {
      layerChecks++;
      assert.deepEqual(v.offload, e.label.offload, `${e.file}: layer counts`);
    }
    assert.ok(v.evidence.length > 0 || v.backend === 'unknown', `${e.file}: a verdict must quote its evidence`);
    for (const line of v.evidence)
      assert.ok((texts.get(e.file) ?? '').includes(line.split(' ')[0] ?? ''), `${e.file}: evidence not from the log`);
  }
  const total = corpus.entries.length;
  const accuracy = (total - misses.length) / total;
  console.log(`all rules: ${pct(accuracy)} (${total - misses.length}/${total}), exact layer counts on ${layerChecks} excerpts`);
  for (const m of misses) console.log(`  miss: ${m}`);
  assert.ok(accuracy >= 0.95, `accuracy ${pct(accuracy)} < 95%:\n${misses.join('\n')}`);
});

test('leave one family out: each family scored with the patterns its own excerpts taught switched off', () => {
  const byFamily = new Map<Family, { right: number; total: number; misses: string[] }>();
  for (const e of corpus.entries) {
    const v = run(e, new Set([e.family]));
    const s = byFamily.get(e.family) ?? { right: 0, total: 0, misses: [] };
    s.total++;
    if (right(e, v)) s.right++;
    else s.misses.push(`${e.file}: got ${v.backend}/${v.fallback}, label ${e.label.backend}/${e.label.fallback}`);
    byFamily.set(e.family, s);
  }
  let rightAll = 0;
  let totalAll = 0;
  const failures: string[] = [];
  console.log('leave-one-family-out (backend + fallback exact):');
  for (const [family, s] of [...byFamily].sort((a, b) => b[1].total - a[1].total)) {
    rightAll += s.right;
    totalAll += s.total;
    const score = s.right / s.total;
    console.log(`  ${family.padEnd(17)} ${String(s.right).padStart(3)}/${String(s.total).padEnd(3)} ${pct(score)}`);
    for (const m of s.misses) console.log(`      miss: ${m}`);
    const known = BELOW_BAR[family];
    if (known) {
      if (score + 1e-9 < known.score) failures.push(`${family} fell to ${pct(score)} (recorded ${pct(known.score)})`);
    } else if (s.total >= 5 && score < 0.9) failures.push(`${family}: ${pct(score)} < 90%`);
  }
  const overall = rightAll / totalAll;
  console.log(`  overall           ${rightAll}/${totalAll} ${pct(overall)}`);
  for (const [family, known] of Object.entries(BELOW_BAR)) console.log(`  below the 90% bar: ${family} (${known.why})`);
  assert.deepEqual(failures, []);
  assert.ok(
    overall + 1e-9 >= LOFO_OVERALL_FLOOR,
    `leave-one-family-out overall ${pct(overall)} fell below the recorded ${pct(LOFO_OVERALL_FLOOR)}`,
  );
});

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function count(xs: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

function fmt(m: Map<string, number>): string {
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}
