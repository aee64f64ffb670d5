import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { createLiveDiagnoser } from '../../engine/diagnose/live.js';
import type { Verdict } from '../../engine/diagnose/verdict.js';

// A real process that starts like ComfyUI on a Mac and, half way through a generation, hits an
// operator MPS lacks (the warning text is PyTorch's, from aten/src/ATen/mps/MPSFallback.mm).
const APP = `
const out = (l) => process.stdout.write(l + '\\n');
out('Total VRAM 36864 MB, total RAM 36864 MB');
out('Set vram state to: SHARED');
out('Device: mps');
out('Starting server');
setTimeout(() => {
  out(' 50%|█████     | 10/20 [00:05<00:05,  2.00it/s]');
  process.stderr.write("UserWarning: The operator 'aten::_upsample_bilinear2d_aa.out' is not currently supported on the MPS " +
    "backend and will fall back to run on the CPU. This may have performance implications.\\n");
  setTimeout(() => { out('100%|██████████| 20/20 [00:30<00:00,  1.00s/it]'); process.exit(0); }, 100);
}, 300);
`;

test('live diagnosis of a running process: metal, then partial with the new evidence when a fallback warning appears', async () => {
  const changes: Verdict[] = [];
  const live = createLiveDiagnoser({ expect: 'metal', onChange: (v) => changes.push(v) });
  const child = spawn(process.execPath, ['-e', APP], { stdio: ['ignore', 'pipe', 'pipe'] });
  const feed = (stream: NodeJS.ReadableStream) =>
    new Promise<void>((resolve) =>
      createInterface({ input: stream })
        .on('line', (l) => live.push(l))
        .on('close', resolve),
    );
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await Promise.all([feed(child.stdout), feed(child.stderr), new Promise((r) => child.on('exit', r))]);
  clearTimeout(timer);

  assert.ok(changes.length >= 2, `expected at least two verdict changes, got ${changes.length}`);
  assert.deepEqual([changes[0]?.backend, changes[0]?.fallback], ['metal', 'none']);
  const final = live.verdict();
  assert.deepEqual([final.backend, final.fallback], ['metal', 'partial']);
  assert.ok(
    final.evidence.some((e) => e.includes('aten::_upsample_bilinear2d_aa.out')),
    final.evidence.join('\n'),
  );
  assert.match(final.advice.join(' '), /aten::_upsample_bilinear2d_aa\.out/);
  assert.equal(live.lines, 7);
});

test('lines that say nothing do not fire the callback, and the per-line cost stays small', () => {
  let calls = 0;
  const live = createLiveDiagnoser({ onChange: () => calls++ });
  const start = process.hrtime.bigint();
  for (let i = 0; i < 20_000; i++) live.push(`[GIN] 2025/02/09 - 21:59:55 | 200 | 546.252µs | 127.0.0.1 | POST "/api/chat" request ${i}`);
  const perLineUs = Number(process.hrtime.bigint() - start) / 1000 / 20_000;
  assert.equal(calls, 0);
  assert.equal(live.verdict().backend, 'unknown');
  console.log(`live diagnoser: ${perLineUs.toFixed(2)} µs per non-matching line`);
  assert.ok(perLineUs < 200, `${perLineUs} µs per line`);
  live.push('load_tensors: offloaded 33/81 layers to GPU');
  assert.equal(calls, 1);
  assert.deepEqual(live.verdict().offload, { layers: 33, total: 81 });
});
