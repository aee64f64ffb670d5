import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseJson, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { startRangeServer, type RangeServer } from '../helpers/range-server.js';

let root: string;
let cleanup: () => Promise<void>;
let server: RangeServer;
const body = randomBytes(300_000);

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard fetch rerun '));
  server = await startRangeServer({ 'model.bin': body });
});
after(async () => {
  await server.close();
  await cleanup();
});

test('fetch -o FILE --sha256 X again on a finished, verified file costs no bytes; a changed file is fetched again', async () => {
  const home = path.join(root, 'home');
  const out = path.join(root, 'out dir', 'model.bin');
  const args = ['fetch', server.url('model.bin'), '-o', out, '--sha256', server.sha256('model.bin')];
  const first = await runCli([...args, '--json'], { home });
  assert.equal(first.code, 0, first.stderr);
  // The whole body, plus whatever probe the downloader makes (a one-byte range).
  const firstCost = server.bytesServed;
  assert.ok(firstCost >= body.length && firstCost < body.length + 16, String(firstCost));

  const again = await runCli([...args, '--json'], { home });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(server.bytesServed, firstCost, 'the re-run fetched no bytes');
  assert.equal(parseJson<{ alreadyPresent: boolean; size: number }>(again).alreadyPresent, true);
  const text = await runCli(args, { home });
  assert.match(text.stdout, /already downloaded and verified \(300000 bytes/);
  assert.equal(server.bytesServed, firstCost);

  // A file that does not match is not trusted: it is downloaded again and replaced.
  await writeFile(out, 'something else');
  const repaired = await runCli(args, { home });
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.ok(server.bytesServed >= firstCost + body.length);
});
