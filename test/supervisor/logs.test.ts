import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { LineSplitter, MAX_LINE_CHARS } from '../../engine/supervisor/line-splitter.js';
import { LogRing, type ServiceLogLine } from '../../engine/supervisor/log-ring.js';
import { pruneRunLogs, RotatingLog } from '../../engine/supervisor/rotating-log.js';
import { Supervisor } from '../../engine/supervisor/supervisor.js';
import { tempDir } from '../helpers/paths.js';
import { fixtureSpec } from './helpers.js';

const line = (text: string): ServiceLogLine => ({ type: 'log', app: 'a', stream: 'stdout', line: text, time: 0, run: 1 });

test('the log ring keeps the newest lines in order', () => {
  const ring = new LogRing(3);
  assert.deepEqual(ring.toArray(), []);
  for (const n of [1, 2, 3, 4, 5]) ring.push(line(`l${n}`));
  assert.deepEqual(
    ring.toArray().map((l) => l.line),
    ['l3', 'l4', 'l5'],
  );
  assert.deepEqual(
    ring.toArray(2).map((l) => l.line),
    ['l4', 'l5'],
  );
  assert.equal(ring.size, 3);
  assert.throws(() => new LogRing(0), RangeError);
});

test('the line splitter handles chunks, CRLF, progress-bar CRs and runaway lines', () => {
  const out: string[] = [];
  const splitter = new LineSplitter((l) => out.push(l));
  splitter.push('hel');
  splitter.push('lo\r\nwor');
  splitter.push('ld\n10%\r20%\rdone');
  splitter.flush();
  assert.deepEqual(out, ['hello', 'world', '10%', '20%', 'done']);
  out.length = 0;
  splitter.push('x'.repeat(MAX_LINE_CHARS * 2 + 5));
  splitter.flush();
  assert.deepEqual(
    out.map((l) => l.length),
    [MAX_LINE_CHARS, MAX_LINE_CHARS, 5],
  );
});

test('a rotating log rotates by size and keeps only a few files', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const file = path.join(dir, 'logs', 'run.log');
    const log = new RotatingLog(file, { maxBytes: 1000, keepRotated: 2 });
    for (let i = 0; i < 200; i++) log.write(`line ${String(i).padStart(4, '0')} ${'.'.repeat(40)}`);
    await log.flush();
    assert.deepEqual((await readdir(path.dirname(file))).sort(), ['run.log', 'run.log.1', 'run.log.2']);
    const current = await readFile(file, 'utf8');
    assert.ok(Buffer.byteLength(current) <= 1000);
    assert.match(current, /line 0199/);
    const older = await readFile(`${file}.1`, 'utf8');
    const lastInOlder = Number(/line (\d+)[^\n]*\n$/.exec(older)?.[1]);
    const firstInCurrent = Number(/^line (\d+)/.exec(current)?.[1]);
    assert.equal(firstInCurrent, lastInOlder + 1, 'no line lost or repeated across a rotation');
    assert.equal(log.error, undefined);
  } finally {
    await cleanup();
  }
});

test('old run logs are pruned, their rotated files with them', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    for (const name of ['service-1-run1.log', 'service-1-run1.log.1', 'service-2-run2.log', 'service-3-run3.log', 'step-git.log']) {
      const log = new RotatingLog(path.join(dir, name), { maxBytes: 100, keepRotated: 0 });
      log.write('x');
      await log.flush();
    }
    await pruneRunLogs(dir, 'service-', 2);
    assert.deepEqual((await readdir(dir)).sort(), ['service-2-run2.log', 'service-3-run3.log', 'step-git.log']);
  } finally {
    await cleanup();
  }
});

test('a running service: lines reach the ring, subscribers, the onLine hook and a rotated per-run file', async () => {
  const { dir, cleanup } = await tempDir();
  const hooked: string[] = [];
  const supervisor = new Supervisor({ metricsIntervalMs: 0, onLine: (app, l) => hooked.push(`${app}:${l.line}`) });
  try {
    const streamed: string[] = [];
    supervisor.on('log', (l) => streamed.push(l.line));
    const subscribed: string[] = [];
    const unsubscribe = supervisor.subscribeLines('chatty', (l) => subscribed.push(l.line));
    const spec = fixtureSpec(dir, ['--lines', '500'], { logs: { maxBytes: 2000, keepRotated: 2, ringLines: 100 } });
    await supervisor.start('chatty', spec);
    unsubscribe();
    await supervisor.stop('chatty');
    const ring = supervisor.logs('chatty');
    assert.equal(ring.length, 100);
    assert.ok(ring.some((l) => l.line === 'line 500'));
    assert.ok(!ring.some((l) => l.line === 'line 1'), 'old lines fell off the ring');
    for (const seen of [streamed, subscribed]) assert.ok(seen.includes('line 1') && seen.includes('line 500'));
    assert.ok(hooked.includes('chatty:line 250'));
    const files = (await readdir(dir)).filter((n) => n.startsWith('service-')).sort();
    assert.equal(files.length, 3, `one run, rotated twice at most: ${files.join(', ')}`);
    assert.ok(files.every((f) => /^service-.*-run1\.log(\.[12])?$/.test(f)));
    const current = await readFile(path.join(dir, files.find((f) => f.endsWith('.log'))!), 'utf8');
    assert.match(current, /\[orchard\] process \d+ exited with code 0|got SIGTERM/);
  } finally {
    await supervisor.close();
    await cleanup();
  }
});
