import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isOrchardError, type OrchardError } from '../../engine/core/errors.js';
import { resolveHome } from '../../engine/core/home.js';
import { downloadFile } from '../../engine/store/download/download.js';
import { fetchToStore } from '../../engine/store/download/fetch-to-store.js';
import { bufferContent, LoopbackServer } from '../../bench/download/loopback-server.js';
import { tempDir } from '../helpers/paths.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MiB = 2 ** 20;
let root: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard store test '));
});
after(async () => cleanup());

async function withServer<T>(opts: ConstructorParameters<typeof LoopbackServer>[0], fn: (s: LoopbackServer) => Promise<T>): Promise<T> {
  const server = await new LoopbackServer(opts).start();
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

function rangeRequests(s: LoopbackServer): string[] {
  return s.requests.map((r) => r.headers.range).filter((r): r is string => r !== undefined && r !== 'bytes=0-0');
}

test('parallel segments produce the source byte for byte, with several ranged connections', async () => {
  const data = randomBytes(6 * MiB + 12345);
  await withServer({}, async (s) => {
    s.files.set('/model.bin', { content: bufferContent(data), etag: '"v1"' });
    const part = path.join(root, 'parallel', 'model.part');
    const result = await downloadFile({ urls: [s.url('/model.bin')], partFile: part, expectedSha256: sha(data), connections: 8 });
    assert.equal(result.sha256, sha(data));
    assert.equal(result.integrity, 'pinned');
    assert.ok((await readFile(part)).equals(data), 'the downloaded bytes equal the source');
    assert.ok(rangeRequests(s).length >= 4, `expected parallel ranges, saw ${rangeRequests(s).join(', ')}`);
    assert.ok(s.bytesServed <= data.length + 8, `served ${s.bytesServed} for ${data.length}`);
  });
});

test('a server without Range support is downloaded in one stream and hashed', async () => {
  const data = randomBytes(3 * MiB + 7);
  await withServer({ ranges: false }, async (s) => {
    s.files.set('/plain.bin', { content: bufferContent(data) });
    const part = path.join(root, 'norange', 'plain.part');
    const result = await downloadFile({ urls: [s.url('/plain.bin')], partFile: part, connections: 8 });
    assert.equal(result.sha256, sha(data));
    assert.equal(result.integrity, 'none');
    assert.ok((await readFile(part)).equals(data));
    const bodies = s.requests.filter((r) => r.headers.range === undefined);
    assert.equal(bodies.length, 1, 'exactly one full-body request after the probe');
  });
});

test('a file that changes on the server between attempts is restarted from zero, never mixed', async () => {
  const v1 = randomBytes(4 * MiB);
  const v2 = randomBytes(4 * MiB);
  await withServer({ ratePerConnection: 2 * MiB }, async (s) => {
    s.files.set('/m.bin', { content: bufferContent(v1), etag: '"one"' });
    const part = path.join(root, 'etag', 'm.part');
    const controller = new AbortController();
    await assert.rejects(
      downloadFile({
        urls: [s.url('/m.bin')],
        partFile: part,
        connections: 2,
        signal: controller.signal,
        onProgress: (done) => {
          if (done >= MiB) controller.abort();
        },
      }),
      (err: unknown) => isOrchardError(err) && err.code === 'CANCELLED',
    );
    const sidecar = JSON.parse(await readFile(`${part}.json`, 'utf8')) as { done: [number, number][]; validators: { etag: string } };
    assert.equal(sidecar.validators.etag, '"one"');
    assert.ok(sidecar.done.length > 0, 'some ranges were recorded before the abort');

    s.files.set('/m.bin', { content: bufferContent(v2), etag: '"two"' });
    const logs: string[] = [];
    const result = await downloadFile({ urls: [s.url('/m.bin')], partFile: part, connections: 2, log: (l) => logs.push(l) });
    assert.equal(result.reusedBytes, 0, 'nothing from version one was reused');
    assert.ok((await readFile(part)).equals(v2), 'the file is entirely version two');
    assert.ok(
      logs.some((l) => l.includes('starting from byte 0')),
      logs.join('\n'),
    );
  });
});

test('the file changing during the download (If-Range answered with 200) restarts it', async () => {
  const v1 = randomBytes(3 * MiB);
  const v2 = randomBytes(3 * MiB);
  let swapped = false;
  const holder: { server?: LoopbackServer } = {};
  await withServer(
    {
      ratePerConnection: 4 * MiB,
      hook: (req, n) => {
        if (n === 3 && !swapped) {
          swapped = true;
          holder.server!.files.set('/c.bin', { content: bufferContent(v2), etag: '"B"' });
        }
        return undefined;
      },
    },
    async (s) => {
      holder.server = s;
      s.files.set('/c.bin', { content: bufferContent(v1), etag: '"A"' });
      const part = path.join(root, 'ifrange', 'c.part');
      const result = await downloadFile({ urls: [s.url('/c.bin')], partFile: part, connections: 4 });
      assert.ok(swapped);
      assert.equal(result.sha256, sha(v2));
      assert.ok((await readFile(part)).equals(v2));
    },
  );
});
test('truncated responses are resumed from the last byte received', async () => {
  const data = randomBytes(4 * MiB);
  await withServer({ hook: (req, n) => (n >= 1 && n <= 3 ? { truncateAfter: 300_000 } : undefined) }, async (s) => {
    s.files.set('/t.bin', { content: bufferContent(data), etag: '"t"' });
    const part = path.join(root, 'trunc', 't.part');
    const result = await downloadFile({
      urls: [s.url('/t.bin')],
      partFile: part,
      expectedSha256: sha(data),
      connections: 2,
      retryBaseMs: 10,
    });
    assert.ok((await readFile(part)).equals(data));
    assert.equal(result.sha256, sha(data));
    assert.ok(s.bytesServed < data.length * 1.05, `resumed, not restarted: served ${s.bytesServed}`);
  });
});

test('flaky 500s are retried with backoff', async () => {
  const data = randomBytes(2 * MiB + 1);
  await withServer({ hook: (req, n) => (n % 2 === 0 && n < 12 ? { status: 500, body: 'boom' } : undefined) }, async (s) => {
    s.files.set('/f.bin', { content: bufferContent(data), etag: '"f"' });
    const part = path.join(root, 'flaky', 'f.part');
    const logs: string[] = [];
    const result = await downloadFile({
      urls: [s.url('/f.bin')],
      partFile: part,
      expectedSha256: sha(data),
      connections: 3,
      retryBaseMs: 10,
      log: (l) => logs.push(l),
    });
    assert.equal(result.sha256, sha(data));
    assert.ok(
      logs.some((l) => l.includes('HTTP 500')),
      logs.join('\n'),
    );
  });
});

test('a stalled connection is dropped and retried', async () => {
  const data = randomBytes(MiB);
  let stalls = 0;
  await withServer(
    {
      hook: (req, n) => {
        // The first ranged body request hangs after its headers (no byte ever comes).
        if (n === 1) {
          stalls++;
          return { stallAfter: 1000 };
        }
        return undefined;
      },
    },
    async (s) => {
      s.files.set('/s.bin', { content: bufferContent(data), etag: '"s"' });
      const part = path.join(root, 'stall', 's.part');
      const result = await downloadFile({ urls: [s.url('/s.bin')], partFile: part, connections: 1, stallMs: 300, retryBaseMs: 10 });
      assert.equal(result.sha256, sha(data));
      assert.equal(stalls, 1);
    },
  );
});

test('mirrors are tried in order when the primary fails', async () => {
  const data = randomBytes(MiB + 3);
  await withServer({}, async (s) => {
    s.files.set('/mirror/x.bin', { content: bufferContent(data), etag: '"x"' });
    const part = path.join(root, 'mirror', 'x.part');
    const result = await downloadFile({
      urls: [s.url('/gone/x.bin'), s.url('/mirror/x.bin')],
      partFile: part,
      expectedSha256: sha(data),
      retryBaseMs: 10,
    });
    assert.equal(result.url, s.url('/mirror/x.bin'));
    assert.ok((await readFile(part)).equals(data));
  });
});

test('a refused port gets two quick retries, an unknown host none, before the next mirror or the error', async () => {
  const data = randomBytes(MiB);
  // A port that was just free: nothing listens there.
  const closed = await new LoopbackServer().start();
  const refusedUrl = closed.url('/x.bin');
  await closed.stop();
  await withServer({}, async (s) => {
    s.files.set('/x.bin', { content: bufferContent(data), etag: '"x"' });
    const logs: string[] = [];
    const part = path.join(root, 'refused', 'x.part');
    const result = await downloadFile({
      urls: [refusedUrl, s.url('/x.bin')],
      partFile: part,
      expectedSha256: sha(data),
      retryBaseMs: 10,
      log: (l) => logs.push(l),
    });
    assert.equal(result.url, s.url('/x.bin'), 'the mirror served it');
    assert.equal(logs.filter((l) => l.includes('ECONNREFUSED') && / retry \d/.test(l)).length, 2, logs.join('\n'));
  });

  const refused = await downloadFile({ urls: [refusedUrl], partFile: path.join(root, 'refused', 'y.part'), retryBaseMs: 10 }).catch(
    (e: unknown) => e as OrchardError,
  );
  assert.ok(isOrchardError(refused) && refused.code === 'DOWNLOAD', String(refused));
  assert.match(refused.message, /ECONNREFUSED/);

  // RFC 6761: .invalid never resolves. Where DNS itself is missing the answer is "try again"
  // (EAI_AGAIN), which is rightly retried, so only a real "no such host" is checked.
  const answer = await lookup('no-such-host.invalid').then(
    () => 'resolved',
    (e: NodeJS.ErrnoException) => e.code,
  );
  if (answer === 'ENOTFOUND') {
    const logs: string[] = [];
    const unknown = await downloadFile({
      urls: ['http://no-such-host.invalid/x.bin'],
      partFile: path.join(root, 'refused', 'z.part'),
      retryBaseMs: 10,
      log: (l) => logs.push(l),
    }).catch((e: unknown) => e as OrchardError);
    assert.ok(isOrchardError(unknown), String(unknown));
    assert.match(unknown.message, /the host no-such-host\.invalid does not exist/);
    assert.deepEqual(
      logs.filter((l) => l.includes('retry')),
      [],
      'no retry for a host that does not exist',
    );
  }
});

test('a wrong sha256 is rejected with expected, actual and URL, and the store is unchanged', async () => {
  const data = randomBytes(MiB);
  const home = resolveHome({ ORCHARD_HOME: path.join(root, 'wrong sha home') });
  const wrong = 'a'.repeat(64);
  await withServer({}, async (s) => {
    s.files.set('/w.bin', { content: bufferContent(data), etag: '"w"' });
    const err = await fetchToStore({ home, weight: { id: 'w', url: s.url('/w.bin'), sha256: wrong } }).then(
      () => assert.fail('a mismatching file must be rejected'),
      (e: unknown) => e as OrchardError,
    );
    assert.equal(err.code, 'INTEGRITY');
    assert.match(err.message, new RegExp(`expected ${wrong}`));
    assert.match(err.message, new RegExp(`got ${sha(data)}`));
    assert.ok(err.message.includes(s.url('/w.bin')), err.message);
    const blobs = existsSync(home.blobs) ? await readdir(home.blobs) : [];
    assert.deepEqual(blobs, [], 'no blob entered the store');
    const tmp = existsSync(home.storeTmp) ? (await readdir(home.storeTmp)).filter((n) => !n.startsWith('.')) : [];
    assert.deepEqual(tmp, [], 'the rejected bytes were removed');
  });
});
