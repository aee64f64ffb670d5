import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Verdict } from '../../engine/diagnose/verdict.js';
import type { FitReport } from '../../engine/fit/fit-verdict.js';
import type { DoctorReport } from '../../engine/hardware/doctor-report.js';
import { fixturesDir, tempDir } from '../helpers/paths.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';
import { api, startTestServer, type TestServer } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let server: TestServer;
before(async () => {
  ({ dir, cleanup } = await tempDir('orchard api tools '));
  server = await startTestServer(path.join(dir, 'home'));
});
after(async () => {
  await server.server.close();
  await cleanup();
});

test('GET /doctor answers the machine, its budget and each bundled recipe against it', async () => {
  const { status, value } = await api<DoctorReport>(server, 'GET', '/doctor');
  assert.equal(status, 200);
  assert.equal(value.machine.os, process.platform === 'darwin' ? 'darwin' : 'linux');
  assert.ok(value.machine.memory.totalBytes > 0);
  assert.ok(value.recipes.length >= 10, 'every bundled recipe is assessed');
});

test('POST /fit predicts a generated GGUF against this machine; a bad body is a 400', async () => {
  const model = path.join(dir, 'tiny model.gguf');
  await writeTinyGguf(model, { mode: 'random' });
  const { status, value } = await api<FitReport>(server, 'POST', '/fit', { model, context: 256 });
  assert.equal(status, 200);
  assert.equal(value.verdict, 'fits');
  assert.equal(value.contextSize, 256);
  assert.ok(value.bytes.total > value.bytes.weights);
  const bad = await api(server, 'POST', '/fit', {});
  assert.equal(bad.status, 400);
});

test('POST /diagnose reads a real llama.cpp log into the DESIGN §5 verdict', async () => {
  const corpus = JSON.parse(await readFile(path.join(fixturesDir, 'logs', 'corpus.json'), 'utf8')) as
    | { entries?: { file: string; label: { backend: string; fallback: string } }[] }
    | { file: string; label: { backend: string; fallback: string } }[];
  const entries = Array.isArray(corpus) ? corpus : (corpus.entries ?? []);
  const partial = entries.find((e) => e.label.fallback === 'partial');
  assert.ok(partial, 'the corpus has a partial-offload log');
  const log = await readFile(path.join(fixturesDir, 'logs', partial.file), 'utf8');
  const { status, value } = await api<Verdict>(server, 'POST', '/diagnose', { log });
  assert.equal(status, 200);
  assert.equal(value.backend, partial.label.backend);
  assert.equal(value.fallback, 'partial');
  assert.ok(value.evidence.length > 0);
  const bad = await api(server, 'POST', '/diagnose', { log, expect: 'quantum' });
  assert.equal(bad.status, 400);
});
