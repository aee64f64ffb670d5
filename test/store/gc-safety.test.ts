import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generatedContent, LoopbackServer } from '../../bench/download/loopback-server.js';
import { resolveHome } from '../../engine/core/home.js';
import { downloadFile } from '../../engine/store/download/download.js';
import { acquirePartLock } from '../../engine/store/download/part-lock.js';
import { removeIdlePartials } from '../../engine/store/download/partials.js';
import { writeInstalledState } from '../helpers/app-state.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const blobFile = (home: string, hex: string) => path.join(home, 'store', 'blobs', 'sha256', hex);

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard gc safety '));
});
after(async () => cleanup());

/**
 * Serves /good at once. /late answers only once `lateReady()` says so: 404 before (a failure
 * that comes after /good is in the store), its bytes after.
 */
async function weightsServer(
  good: Buffer,
  late: Buffer,
  lateReady: () => Promise<boolean>,
): Promise<{ server: Server; url: (p: string) => string; gets: string[] }> {
  const gets: string[] = [];
  const server = createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    gets.push(`${p} ${req.headers.range ?? ''}`);
    void (async () => {
      const body = p === '/good' ? good : p === '/late' && (await lateReady()) ? late : undefined;
      if (!body) return void res.writeHead(404).end('not found');
      res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, url: (p) => `http://127.0.0.1:${port}${p}`, gets };
}

test(
  'a model stored before another weight of the same step fails stays referenced: gc keeps it and the rerun does not fetch it ' + 'again',
  async () => {
    const home = path.join(root, 'home partial');
    const good = randomBytes(64 * 1024);
    const late = randomBytes(32 * 1024);
    let lateServed = false;
    const srv = await weightsServer(good, late, async () => {
      if (lateServed) return true;
      // Fail only once /good has entered the store, so the failure comes after it.
      for (let i = 0; i < 200 && !existsSync(blobFile(home, sha(good))); i++) await sleep(25);
      return false;
    });
    try {
      const recipeDir = path.join(root, 'recipes', 'two-weights');
      await mkdir(recipeDir, { recursive: true });
      await writeFile(
        path.join(recipeDir, 'recipe.json'),
        JSON.stringify({
          id: 'two-weights',
          name: 'Two weights',
          version: '1.0.0',
          kind: 'tool',
          weights: [
            { id: 'good', url: srv.url('/good'), file: 'good.bin', size: good.length, sha256: sha(good) },
            { id: 'late', url: srv.url('/late'), file: 'late.bin', size: late.length, sha256: sha(late) },
          ],
          install: [{ kind: 'fetch' }, { kind: 'link', weight: 'good' }, { kind: 'link', weight: 'late' }],
        }),
      );

      const failed = await runCli(['install', recipeDir], { home });
      assert.equal(failed.code, 1, failed.stderr);
      assert.match(failed.stderr, /HTTP 404/);
      const state = JSON.parse(await readFile(path.join(home, 'apps', 'two-weights', 'state.json'), 'utf8')) as {
        lifecycle: string;
        weights: Record<string, { sha256: string }>;
      };
      assert.equal(state.lifecycle, 'failed');
      assert.deepEqual(Object.keys(state.weights), ['good'], 'the stored weight is referenced although its step failed');
      assert.equal(state.weights['good']!.sha256, sha(good));

      const gc = parseJson<{ removed: unknown[] }>(await runCli(['store', 'gc', '--json'], { home }));
      assert.deepEqual(gc.removed, [], 'gc keeps a model an unfinished install already holds');
      assert.ok(existsSync(blobFile(home, sha(good))));

      lateServed = true;
      const goodGets = srv.gets.filter((g) => g.startsWith('/good')).length;
      const rerun = await runCli(['install', recipeDir], { home });
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.equal(srv.gets.filter((g) => g.startsWith('/good')).length, goodGets, 'the rerun did not ask for /good again');
      assert.ok(existsSync(path.join(home, 'apps', 'two-weights', 'models', 'late.bin')));
    } finally {
      await new Promise((resolve) => srv.server.close(resolve));
    }
  },
);

test('gc and uninstall --purge-models delete no model while an install is running; a dead installer does not block them', async () => {
  const home = path.join(root, 'home busy');
  // An unreferenced blob, and an app whose install is "running" (its lock holds a live pid).
  const orphan = randomBytes(4096);
  await mkdir(path.dirname(blobFile(home, sha(orphan))), { recursive: true });
  await writeFile(blobFile(home, sha(orphan)), orphan);
  const lockOf = (app: string) => path.join(home, 'apps', app, '.lock');
  await mkdir(path.dirname(lockOf('installing-app')), { recursive: true });
  await writeFile(lockOf('installing-app'), JSON.stringify({ pid: process.pid, operation: 'install', since: new Date().toISOString() }));

  const refused = await runCli(['store', 'gc', '--json'], { home });
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stdout + refused.stderr, /no model was removed: install of installing-app \(pid \d+\) is running/);
  assert.match(refused.stdout + refused.stderr, /orchard store gc/);
  assert.ok(existsSync(blobFile(home, sha(orphan))));
  const dry = parseJson<{ removed: { sha256: string }[] }>(await runCli(['store', 'gc', '--dry-run', '--json'], { home }));
  assert.deepEqual(
    dry.removed.map((r) => r.sha256),
    [sha(orphan)],
    'a dry run still says what gc would remove',
  );

  // Uninstalling another app still removes it; only the purge waits, and says so.
  const oldApp = await writeInstalledState(home, 'old-app');
  const un = parseJson<{ purged: unknown[]; warnings: string[] }>(
    await runCli(['uninstall', 'old-app', '--purge-models', '--json'], { home }),
  );
  assert.ok(!existsSync(oldApp), 'the app itself is removed');
  assert.deepEqual(un.purged, []);
  assert.match(un.warnings.join('\n'), /no model was removed: install of installing-app .* is running.*orchard store gc/);
  assert.ok(existsSync(blobFile(home, sha(orphan))));

  // The installer died without releasing its lock: gc goes ahead.
  const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
  await writeFile(lockOf('installing-app'), JSON.stringify({ pid: dead, operation: 'install', since: new Date().toISOString() }));
  const gc = parseJson<{ removed: { sha256: string }[] }>(await runCli(['store', 'gc', '--json'], { home }));
  assert.deepEqual(
    gc.removed.map((r) => r.sha256),
    [sha(orphan)],
  );
  assert.ok(!existsSync(blobFile(home, sha(orphan))));
});

test('gc reports idle partial downloads and removes them only with --partials; one being written is never touched', async () => {
  const home = path.join(root, 'home partials');
  const tmp = path.join(home, 'store', 'tmp');
  const server = await new LoopbackServer({ ratePerConnection: 2 * 2 ** 20 }).start();
  try {
    server.files.set('/big.bin', { content: generatedContent(32 * 2 ** 20, 5), etag: '"p"' });
    // An interrupted download: cancelled once some bytes are in, its bytes and sidecar stay for the resume.
    const stop = new AbortController();
    const idle = path.join(tmp, 'idle.part');
    const onProgress = (done: number) => {
      if (done >= 2 ** 20) stop.abort();
    };
    await assert.rejects(downloadFile({ urls: [server.url('/big.bin')], partFile: idle, signal: stop.signal, onProgress }), /cancelled/);
    assert.ok(existsSync(idle) && existsSync(`${idle}.json`));
    // A download in progress in a live process (its lock holds a live pid).
    const active = path.join(tmp, 'active.part');
    await writeFile(active, randomBytes(1024));
    await writeFile(`${active}.lock`, String(process.pid));

    const ls = parseJson<{ partials: { file: string; url?: string; bytesDone: number; activePid?: number }[] }>(
      await runCli(['store', 'ls', '--json'], { home }),
    );
    assert.deepEqual(
      ls.partials.map((p) => [path.basename(p.file), p.activePid]),
      [
        ['active.part', process.pid],
        ['idle.part', undefined],
      ],
    );
    assert.equal(ls.partials[1]!.url, server.url('/big.bin'));
    assert.ok(ls.partials[1]!.bytesDone > 0);

    const plain = await runCli(['store', 'gc'], { home });
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /1 idle partial download\(s\) hold .*--partials removes them/);
    assert.ok(existsSync(idle), 'plain gc keeps what an install resumes from');

    const gc = parseJson<{ removedPartials: { file: string }[]; freedBytes: number }>(
      await runCli(['store', 'gc', '--partials', '--json'], { home }),
    );
    assert.deepEqual(
      gc.removedPartials.map((p) => path.basename(p.file)),
      ['idle.part'],
    );
    assert.ok(gc.freedBytes > 0);
    assert.ok(!existsSync(idle) && !existsSync(`${idle}.json`), 'the idle part file and its sidecar are gone');
    assert.ok(existsSync(active), 'the partial being written is kept');
  } finally {
    await server.stop();
  }
});

test(
  "gc --partials removes a partial only while holding its part lock: a dead owner's lock is taken over and let go; a live " +
    "owner's partial is kept",
  async () => {
    const home = path.join(root, 'home partial locks');
    const tmp = path.join(home, 'store', 'tmp');
    await mkdir(tmp, { recursive: true });
    const stale = path.join(tmp, 'stale.part');
    const live = path.join(tmp, 'live.part');
    for (const p of [stale, live]) await writeFile(p, randomBytes(4096));
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
    await writeFile(`${stale}.lock`, JSON.stringify({ pid: dead, start: '1', operation: 'download' }));
    // A download in this (live) process holds the other one, with its pid and start time.
    const release = await acquirePartLock(live);
    try {
      const removed = await removeIdlePartials(resolveHome({ ORCHARD_HOME: home }));
      assert.deepEqual(
        removed.map((p) => path.basename(p.file)),
        ['stale.part'],
      );
      assert.ok(!existsSync(stale) && !existsSync(`${stale}.lock`), 'the idle partial and its stale lock are gone');
      assert.ok(existsSync(live) && existsSync(`${live}.lock`), 'the partial being written is kept, its lock untouched');
      assert.deepEqual(
        (await readdir(tmp)).filter((n) => n.includes('stale-') || n.endsWith('.new')),
        [],
        'no lock debris',
      );
    } finally {
      await release();
    }
  },
);
