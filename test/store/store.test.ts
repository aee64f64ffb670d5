import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isOrchardError, type OrchardError } from '../../engine/core/errors.js';
import { uninstallApp } from '../../engine/install/uninstall.js';
import type { ResolvedWeight } from '../../engine/recipe/plan-types.js';
import { blobPath } from '../../engine/store/blob-store.js';
import { fetchToStore, setFreeSpaceSource } from '../../engine/store/download/fetch-to-store.js';
import { fetchStep } from '../../engine/steps/fetch.js';
import { linkStep } from '../../engine/steps/link.js';
import { bufferContent, generatedContent, LoopbackServer } from '../../bench/download/loopback-server.js';
import { readPartialState } from '../../engine/store/download/partial-state.js';
import { RangeSet } from '../../engine/store/download/range-set.js';
import { writeInstalledState } from '../helpers/app-state.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { selfSignedCert } from '../helpers/tls-cert.js';
import { tokenHeadersFor } from '../../engine/fit/recipe-fit.js';
import { makeTestApp, plannedStep, stepContext, type TestApp } from '../steps/context.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MiB = 2 ** 20;
let root: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard store steps '));
});
after(async () => cleanup());

function weight(t: TestApp, id: string, url: string, data: Buffer | undefined, extra: Partial<ResolvedWeight> = {}): ResolvedWeight {
  return {
    id,
    url,
    mirrors: [],
    file: `${id}.bin`,
    path: path.join(t.app.models, `${id}.bin`),
    ...(data ? { sha256: sha(data), size: data.length } : {}),
    pinned: data !== undefined,
    ...extra,
  };
}

/** What the installer records for a fetch step's weights (engine/install/installer.ts weightRecorder). */
async function recordState(t: TestApp, weights: Record<string, unknown>): Promise<void> {
  await writeInstalledState(t.home.root, t.app.id, { weights });
}

test(
  'the token goes only to a hub host over https, only for a weight marked auth, never to the redirect target, never over ' + 'http',
  async () => {
    const data = randomBytes(2 * MiB + 5);
    const token = 'hf_TESTSECRET_do_not_leak';
    const tls = selfSignedCert();
    https.globalAgent.options.ca = tls.cert; // this process trusts the throwaway certificate
    const cdn = await new LoopbackServer({ host: '127.0.0.2' }).start();
    const redirect = () => ({
      status: 302,
      headers: {
        location: cdn.url('/cdn/blob?X-Amz-Signature=abc'),
        'x-linked-etag': `"${sha(data)}"`,
        'x-linked-size': String(data.length),
      },
    });
    const hub = await new LoopbackServer({ host: '127.0.0.1', tls, hook: redirect }).start();
    const plainHub = await new LoopbackServer({ host: '127.0.0.1', hook: redirect }).start();
    try {
      assert.match(hub.url('/'), /^https:/);
      cdn.files.set('/cdn/blob', { content: bufferContent(data), etag: '"cdn-etag"' });
      const home = (await makeTestApp(path.join(root, 'auth'))).home;
      const gated = { id: 'gated', url: hub.url('/org/model/resolve/main/w.bin'), auth: 'huggingface' as const };
      const stored = await fetchToStore({ home, weight: gated, token, hubHosts: ['127.0.0.1'] });
      assert.equal(stored.sha256, sha(data));
      assert.equal(stored.integrity, 'hub', 'the hash came from X-Linked-Etag');
      assert.ok(
        hub.requests.length > 0 && hub.requests.every((r) => r.headers.authorization === `Bearer ${token}`),
        'the hub got the token over https',
      );
      assert.ok(cdn.requests.length > 0, 'the CDN served the bytes');
      for (const r of cdn.requests) assert.equal(r.headers.authorization, undefined, 'the token never reaches another host');
      assert.ok((await readFile(stored.path)).equals(data));
      assert.equal((await stat(stored.path)).mode & 0o777, 0o444, 'blobs are read-only');

      // The same hub, a weight not marked auth: no token.
      const before = hub.requests.length;
      await fetchToStore({ home, weight: { id: 'open', url: hub.url('/org/open/resolve/main/w.bin') }, token, hubHosts: ['127.0.0.1'] });
      assert.ok(hub.requests.length > before);
      for (const r of hub.requests.slice(before))
        assert.equal(r.headers.authorization, undefined, 'a weight not marked auth never carries the token');

      // A hub host over plain http: never, even for a gated weight.
      await fetchToStore({
        home,
        weight: { ...gated, url: plainHub.url('/org/model/resolve/main/w.bin') },
        token,
        hubHosts: ['127.0.0.1'],
      });
      assert.ok(plainHub.requests.length > 0);
      for (const r of plainHub.requests) assert.equal(r.headers.authorization, undefined, 'the token never goes over http');
      for (const r of cdn.requests) assert.equal(r.headers.authorization, undefined);
    } finally {
      delete https.globalAgent.options.ca;
      tls.cleanup();
      await hub.stop();
      await plainHub.stop();
      await cdn.stop();
    }
  },
);

test('401 from the hub says the model is gated, names the licence page, and never shows the token', async () => {
  const hub = await new LoopbackServer({ hook: () => ({ status: 401, body: 'Access to model org/gated is restricted' }) }).start();
  try {
    const home = (await makeTestApp(path.join(root, 'gated'))).home;
    const token = 'hf_SHOULD_NOT_APPEAR';
    const err = await fetchToStore({
      home,
      weight: { id: 'g', url: hub.url('/org/gated/resolve/main/model.safetensors'), gatedPage: 'https://huggingface.co/org/gated' },
      token,
      hubHosts: ['127.0.0.1'],
    }).then(
      () => assert.fail('must fail'),
      (e: unknown) => e as OrchardError,
    );
    assert.equal(err.code, 'AUTH');
    assert.match(err.message, /gated/);
    assert.match(err.hint ?? '', /https:\/\/huggingface\.co\/org\/gated/);
    assert.ok(!JSON.stringify(err.toJSON()).includes(token), 'the token is not in the error');
    assert.ok(!err.format().includes(token));
  } finally {
    await hub.stop();
  }
});

test('disk preflight refuses before any byte when free space is short, listing the sizes', async () => {
  const data = randomBytes(MiB);
  const server = await new LoopbackServer().start();
  try {
    server.files.set('/big.bin', { content: bufferContent(data), etag: '"b"' });
    const t = await makeTestApp(path.join(root, 'disk'));
    // Step level: pinned sizes are checked before any request.
    setFreeSpaceSource(async () => 100 * MiB);
    try {
      const w = weight(t, 'big', server.url('/big.bin'), data, { size: 10 * 2 ** 30 });
      const step = plannedStep('fetch', { weights: [w] });
      const err = await fetchStep(step, await stepContext(t, step.key)).then(
        () => assert.fail('must refuse'),
        (e: unknown) => e as OrchardError,
      );
      assert.equal(err.code, 'DISK_SPACE');
      assert.match(err.message, /10\.0 GiB still to download/);
      assert.match(err.message, /100\.0 MiB free/);
      assert.equal(server.requests.length, 0, 'no request was made');
    } finally {
      setFreeSpaceSource(undefined);
    }
    // Unpinned: the size comes from the probe, and the refusal still comes before any body byte.
    const err = await fetchToStore({ home: t.home, weight: { id: 'u', url: server.url('/big.bin') }, freeSpace: async () => 1000 }).then(
      () => assert.fail('must refuse'),
      (e: unknown) => e as OrchardError,
    );
    assert.equal(err.code, 'DISK_SPACE');
    assert.ok(server.bytesServed <= 1, `only the one-byte probe was served (${server.bytesServed})`);
    assert.equal(existsSync(t.home.blobs) ? (await readdir(t.home.blobs)).length : 0, 0);
  } finally {
    await server.stop();
  }
});

test('two apps share one blob; uninstalling one keeps it; gc after both removes it', async () => {
  const data = randomBytes(MiB + 17);
  const server = await new LoopbackServer().start();
  try {
    server.files.set('/shared.bin', { content: bufferContent(data), etag: '"s"' });
    const base = path.join(root, 'share');
    const a = await makeTestApp(base, 'app-a');
    const b = await makeTestApp(base, 'app-b');
    const outputs: Record<string, unknown>[] = [];
    for (const t of [a, b]) {
      const w = weight(t, 'flux', server.url('/shared.bin'), data);
      const step = plannedStep('fetch', { weights: [w] });
      const outcome = await fetchStep(step, await stepContext(t, step.key));
      const weights = outcome.outputs?.['weights'] as Record<string, unknown>;
      outputs.push(weights);
      await recordState(t, weights);
      const link = plannedStep('link', { weight: w, to: w.path }, { key: 'link-1' });
      await linkStep(link, await stepContext(t, link.key));
      const [s1, s2] = await Promise.all([stat(w.path), stat(blobPath(a.home, sha(data)))]);
      assert.equal(s1.ino, s2.ino, 'the app sees a hardlink of the blob');
    }
    const bodyRequests = server.requests.filter((r) => r.headers.range !== 'bytes=0-0');
    assert.ok(bodyRequests.length >= 1);
    const afterFirst = server.requests.length;
    assert.deepEqual(outputs[0]!['flux'], {
      sha256: sha(data),
      size: data.length,
      url: server.url('/shared.bin'),
      path: path.join(a.app.models, 'flux.bin'),
      integrity: 'pinned',
      pinned: true,
    } as unknown);
    assert.equal(server.requests.length, afterFirst, 'the second app downloaded nothing');
    assert.equal((await readdir(a.home.blobs)).length, 1, 'stored once');

    const ls = parseJson<{ blobs: { sha256: string; references: { app: string }[] }[] }>(
      await runCli(['store', 'ls', '--json'], { home: a.home.root }),
    );
    assert.deepEqual(
      ls.blobs.map((x) => x.references.map((r) => r.app).sort()),
      [['app-a', 'app-b']],
    );

    const u1 = await uninstallApp({ home: a.home, id: 'app-a', purgeModels: true });
    assert.deepEqual(u1.purged, [], 'app-b still uses it');
    assert.ok(existsSync(blobPath(a.home, sha(data))));
    await uninstallApp({ home: a.home, id: 'app-b' });
    assert.ok(existsSync(blobPath(a.home, sha(data))), 'kept without --purge-models');
    const gc = parseJson<{ removed: { sha256: string }[] }>(await runCli(['store', 'gc', '--json'], { home: a.home.root }));
    assert.deepEqual(
      gc.removed.map((r) => r.sha256),
      [sha(data)],
    );
    assert.ok(!existsSync(blobPath(a.home, sha(data))));
  } finally {
    await server.stop();
  }
});

test('a real file in the way of a link is kept and reported; the link step is idempotent otherwise', async () => {
  const data = randomBytes(256 * 1024);
  const server = await new LoopbackServer().start();
  try {
    server.files.set('/m.bin', { content: bufferContent(data), etag: '"m"' });
    const t = await makeTestApp(path.join(root, 'inway'));
    const w = weight(t, 'model', server.url('/m.bin'), data);
    const fetch = plannedStep('fetch', { weights: [w] });
    await recordState(t, (await fetchStep(fetch, await stepContext(t, fetch.key))).outputs?.['weights'] as Record<string, unknown>);

    const mine = path.join(t.app.models, 'mine.bin');
    await mkdir(path.dirname(mine), { recursive: true });
    await writeFile(mine, 'my own fine-tune, do not touch');
    const link = plannedStep('link', { weight: w, to: mine }, { key: 'link-1' });
    const err = await linkStep(link, await stepContext(t, link.key)).then(
      () => assert.fail('must not replace a real file'),
      (e: unknown) => e as OrchardError,
    );
    assert.ok(isOrchardError(err));
    assert.ok(err.message.includes(mine), err.message);
    assert.match(err.hint ?? '', /never deletes or moves/);
    assert.equal(await readFile(mine, 'utf8'), 'my own fine-tune, do not touch');

    const ok = plannedStep('link', { weight: w, to: w.path }, { key: 'link-2' });
    const first = await linkStep(ok, await stepContext(t, ok.key));
    const again = await linkStep(ok, await stepContext(t, ok.key));
    assert.equal((first.outputs?.['link'] as { method: string } | undefined)?.method, 'hardlink');
    assert.equal((again.outputs?.['link'] as { method: string } | undefined)?.method, 'already-linked');
    assert.ok((await lstat(w.path)).isFile());
    // A stale symlink (Orchard's own kind of link) is replaced.
    const stale = path.join(t.app.models, 'stale.bin');
    const { symlink } = await import('node:fs/promises');
    await symlink('/nonexistent/old-blob', stale);
    const relink = plannedStep('link', { weight: w, to: stale }, { key: 'link-3' });
    await linkStep(relink, await stepContext(t, relink.key));
    assert.ok((await readFile(stale)).equals(data));
  } finally {
    await server.stop();
  }
});

test("one weight failing stops the step's other downloads at once; their bytes stay on disk for the resume", async () => {
  const big = 64 * MiB;
  // 8 connections at 2 MiB/s each: the big weight would take 4 s; the other one fails after 500 ms.
  const slow = await new LoopbackServer({ ratePerConnection: 2 * MiB }).start();
  const failing = createServer((_req, res) => void setTimeout(() => res.writeHead(404).end('gone'), 500));
  await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
  try {
    slow.files.set('/big.bin', { content: generatedContent(big, 3), etag: '"big"' });
    const t = await makeTestApp(path.join(root, 'stop-others'));
    const lostUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/lost.bin`;
    const step = plannedStep('fetch', {
      weights: [weight(t, 'big', slow.url('/big.bin'), undefined, { size: big }), weight(t, 'lost', lostUrl, undefined)],
    });
    await assert.rejects(fetchStep(step, await stepContext(t, step.key)), /HTTP 404/);
    const tmp = path.join(t.home.store, 'tmp');
    const names = await readdir(tmp);
    assert.deepEqual(
      names.filter((n) => n.endsWith('.lock')),
      [],
      'no download still holds its lock once the step has failed',
    );
    const served = slow.bytesServed;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(slow.bytesServed - served < MiB, `nothing keeps downloading after the step failed (${slow.bytesServed - served} more bytes)`);
    const part = names.find((n) => n.endsWith('.part'));
    assert.ok(part, `the big weight's partial download is kept (${names.join(', ')})`);
    const kept = await readPartialState(path.join(tmp, part));
    assert.ok(
      kept && new RangeSet(kept.done).total() > 0 && new RangeSet(kept.done).total() < big,
      'with the bytes it had, ready to resume',
    );
    assert.equal((await readdir(t.home.blobs).catch(() => [])).length, 0);
  } finally {
    await slow.stop();
    await new Promise((resolve) => failing.close(resolve));
  }
});

test('the fit gate reads a GGUF header with the token only for an https hub URL', () => {
  const h = { authorization: 'Bearer hf_x' };
  assert.equal(tokenHeadersFor('https://huggingface.co/org/m/resolve/main/m.gguf', h), h);
  assert.equal(tokenHeadersFor('https://cdn-lfs.hf.co/x', h), h);
  assert.equal(tokenHeadersFor('http://huggingface.co/org/m/resolve/main/m.gguf', h), undefined, 'never over http');
  assert.equal(tokenHeadersFor('https://example.com/m.gguf', h), undefined, 'never to another host');
  assert.equal(tokenHeadersFor('https://huggingface.co.evil.example/m.gguf', h), undefined);
});
