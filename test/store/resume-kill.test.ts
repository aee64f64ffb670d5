import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { bufferContent, LoopbackServer } from '../../bench/download/loopback-server.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { cliEntry, tempDir } from '../helpers/paths.js';

const MiB = 2 ** 20;

test('SIGKILL of a real `orchard fetch` mid-download, then resume: bytes served in total ≤ 1.02 × the file', async (t) => {
  const { dir, cleanup } = await tempDir();
  // 24 MiB at 4 × 768 KiB/s: about 8 s in all, so the loss at a kill (≈0.1 s of transfer) is small.
  const data = randomBytes(24 * MiB);
  const digest = createHash('sha256').update(data).digest('hex');
  const server = await new LoopbackServer({ ratePerConnection: 768 * 1024 }).start();
  try {
    server.files.set('/weights.bin', { content: bufferContent(data), etag: '"w1"' });
    const out = path.join(dir, 'out file.bin');
    const args = [cliEntry, 'fetch', server.url('/weights.bin'), '-o', out, '--sha256', digest, '--connections', '4', '--json'];
    const child = spawn(process.execPath, args, { env: { ...process.env, ORCHARD_HOME: path.join(dir, 'home') }, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while (server.bytesServed < data.length / 2 && Date.now() < deadline) await sleep(20);
    assert.ok(server.bytesServed >= data.length / 2, `the download reached 50 % within 20 s (served ${server.bytesServed})`);
    child.kill('SIGKILL');
    await exited;
    const servedBeforeKill = server.bytesServed;
    assert.ok(servedBeforeKill < data.length, 'killed before the end');
    assert.ok(!existsSync(out), 'no output after a kill');
    assert.ok(existsSync(`${out}.part.json`), 'the sidecar survived the kill');

    const result = await runCli(['fetch', server.url('/weights.bin'), '-o', out, '--sha256', digest, '--connections', '4', '--json'], {
      home: path.join(dir, 'home'),
      timeoutMs: 60_000,
    });
    const json = parseJson<{ ok: boolean; sha256: string; reusedBytes: number }>(result);
    assert.equal(json.sha256, digest);
    assert.ok((await readFile(out)).equals(data), 'the resumed file is byte-identical');
    assert.ok(json.reusedBytes > data.length * 0.4, `reused ${json.reusedBytes} bytes from the first attempt`);
    const ratio = server.bytesServed / data.length;
    t.diagnostic(`served ${ratio.toFixed(4)}× the file in total; ${json.reusedBytes} bytes reused after the kill`);
    assert.ok(ratio <= 1.02, `served ${server.bytesServed} bytes for a ${data.length}-byte file (${ratio.toFixed(4)}×)`);
    assert.ok(!existsSync(`${out}.part`) && !existsSync(`${out}.part.json`), 'partial files are cleaned up');
  } finally {
    await server.stop();
    await cleanup();
  }
});
