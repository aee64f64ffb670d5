import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseJson, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { api, rawRequest, startTestServer, type TestServer } from './helpers.js';

// Every probe of this machine runs nvidia-smi: a stand-in first on PATH counts the probes.
let dir: string;
let cleanup: () => Promise<void>;
let t: TestServer;
/** A server whose ORCHARD_HOME holds no hostile recipe (a FIFO would hang the catalog of an unfixed server). */
let clean: TestServer;
let probeLog: string;
const home = (): string => path.join(dir, 'home');
const recipesDir = (): string => path.join(home(), 'recipes');
const minimal = (id: string): string => JSON.stringify({ id, name: id, version: '0.1.0', kind: 'tool', install: [] });
const deep = (n: number): string => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

before(async () => {
  ({ dir, cleanup } = await tempDir());
  const bin = path.join(dir, 'bin');
  await mkdir(bin);
  probeLog = path.join(dir, 'probes.log');
  await writeFile(path.join(bin, 'nvidia-smi'), `#!/bin/sh\necho probe >> "${probeLog}"\nexit 9\n`);
  await chmod(path.join(bin, 'nvidia-smi'), 0o755);
  process.env['PATH'] = `${bin}${path.delimiter}${process.env['PATH'] ?? ''}`;

  // Hostile and broken recipes beside a good one.
  const r = recipesDir();
  await mkdir(path.join(r, 'good'), { recursive: true });
  await writeFile(path.join(r, 'good', 'recipe.json'), minimal('good'));
  await writeFile(path.join(r, 'bad-json.json'), '{ "id": "bad-json", ');
  await writeFile(path.join(r, 'schema-invalid.json'), JSON.stringify({ id: 'schema-invalid', kind: 'rocket' }));
  await writeFile(path.join(r, 'deep.json'), deep(100_000));
  await writeFile(path.join(r, 'huge.json'), `{"id":"huge","name":"${'x'.repeat(3 * 1024 * 1024)}"}`);
  await writeFile(path.join(r, 'nul-raw.json'), `{"id":"nul-raw"\0}`);
  await writeFile(
    path.join(r, 'nul-escaped.json'),
    JSON.stringify({
      id: 'nul-escaped',
      name: 'n',
      version: '1.0.0',
      kind: 'tool',
      install: [{ kind: 'write', path: 'app/a\0b', content: 'x' }],
    }),
  );
  const outside = path.join(dir, 'outside-recipe.json');
  await writeFile(outside, minimal('linked'));
  await symlink(outside, path.join(r, 'linked.json'));
  await mkdir(path.join(r, 'fifo'));
  execFileSync('mkfifo', [path.join(r, 'fifo', 'recipe.json')]);
  t = await startTestServer(home());
  clean = await startTestServer(path.join(dir, 'clean home'));
});

after(async () => {
  await t?.server.close();
  await clean?.server.close();
  await cleanup();
});

test('a JSON body nested deeper than the limit is a 400 with a pointer, never a 500 or a crash', async () => {
  for (const route of ['/plan', '/recipes/validate', '/fit']) {
    const raw = await rawRequest(
      t.port,
      'POST',
      `/api/v1${route}`,
      { host: `127.0.0.1:${t.port}`, authorization: `Bearer ${t.token}` },
      deep(100_000),
    );
    assert.equal(raw.status, 400, `${route}: ${raw.body.slice(0, 300)}`);
    const body = JSON.parse(raw.body) as { error: { code: string; message: string; where?: string } };
    assert.equal(body.error.code, 'BAD_JSON');
    assert.match(body.error.message, /deeper than 64/);
    assert.equal(body.error.where, `body${'/a'.repeat(64)}`);
  }
  // Deep recipe text inside a shallow body: the editor's validator answers with the pointer.
  const validated = await api<{ ok: boolean; errors: { pointer: string; message: string }[] }>(t, 'POST', '/recipes/validate', {
    text: deep(50_000),
  });
  assert.equal(validated.status, 200);
  assert.equal(validated.value.ok, false);
  assert.equal(validated.value.errors[0]?.pointer, '/a'.repeat(64));
  const saved = await api<{ error: { code: string } }>(t, 'POST', '/recipes', { text: deep(50_000) });
  assert.equal(saved.status, 400);
  assert.equal(saved.value.error.code, 'RECIPE_INVALID');
  // The server still answers.
  assert.equal((await api(t, 'GET', '/apps')).status, 200);
});

test('request headers over the size limit are answered with 431, not a reset connection', async () => {
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(t.port, '127.0.0.1', () => {
      socket.write(`GET /api/v1/apps HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', (err) => (chunks.length > 0 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(err)));
  });
  assert.match(answer, /^HTTP\/1\.1 431 /);
  assert.match(answer, /HEADERS_TOO_LARGE/);
  assert.equal((await api(t, 'GET', '/apps')).status, 200);
});

test('the UI CSP lets it connect to its own origin only (no ws: to any host)', async () => {
  const res = await rawRequest(t.port, 'GET', '/', { host: `127.0.0.1:${t.port}` });
  const csp = String(res.headers['content-security-policy']);
  const connectSrc = /connect-src ([^;]*)/.exec(csp)?.[1]?.trim().split(/\s+/) ?? [];
  assert.deepEqual(connectSrc, ["'self'", `ws://127.0.0.1:${t.port}`], csp);
});

interface CatalogAnswer {
  recipes: { id: string; source: string }[];
  problems: { file: string; error: { code: string; message: string } }[];
}

test('hostile recipes in ORCHARD_HOME/recipes are listed as invalid and the catalog still works', async () => {
  const hostile = [
    'bad-json.json',
    'schema-invalid.json',
    'deep.json',
    'huge.json',
    'nul-raw.json',
    'nul-escaped.json',
    'linked.json',
    path.join('fifo', 'recipe.json'),
  ];
  const check = (answer: CatalogAnswer, where: string): void => {
    const ids = answer.recipes.map((r) => r.id);
    assert.ok(ids.includes('good'), `${where}: the good user recipe is listed`);
    assert.ok(ids.includes('llama-3-1-8b-instruct'), `${where}: bundled recipes are listed`);
    assert.ok(!ids.includes('linked'), `${where}: a symlinked recipe is not loaded`);
    for (const name of hostile) {
      const problem = answer.problems.find((p) => p.file === path.join(recipesDir(), name));
      assert.ok(problem, `${where}: ${name} is listed as invalid: ${JSON.stringify(answer.problems.map((p) => p.file))}`);
      assert.equal(problem.error.code, 'RECIPE_INVALID', `${where}: ${name}: ${problem.error.message}`);
    }
    const byName = (n: string): string => answer.problems.find((p) => p.file.endsWith(n))?.error.message ?? '';
    assert.match(byName('linked.json'), /symbolic link/);
    assert.match(byName(path.join('fifo', 'recipe.json')), /not a regular file/);
    assert.match(byName('huge.json'), /at most/);
  };
  const res = await api<CatalogAnswer>(t, 'GET', '/catalog');
  assert.equal(res.status, 200, res.raw.body.slice(0, 500));
  check(res.value, 'API');
  const cli = await runCli(['list', '--json'], { home: home(), timeoutMs: 60_000 });
  assert.equal(cli.code, 0, cli.stderr);
  check(parseJson<CatalogAnswer>(cli), 'CLI');
  const nul = await api<{ ok: boolean; errors: { pointer: string; message: string }[] }>(t, 'POST', '/recipes/validate', {
    text: await readFile(path.join(recipesDir(), 'nul-escaped.json'), 'utf8'),
  });
  assert.deepEqual(
    nul.value.errors.map((e) => [e.pointer, e.message]),
    [['/install/0/path', 'contains a NUL byte']],
  );
});

test('the catalog probes the hardware once, not once per recipe per request', async () => {
  await writeFile(probeLog, '');
  const first = await api<CatalogAnswer>(clean, 'GET', '/catalog');
  const second = await api<CatalogAnswer>(clean, 'GET', '/catalog');
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  assert.ok(first.value.recipes.length > 5);
  const probes = (await readFile(probeLog, 'utf8')).split('\n').filter(Boolean).length;
  // The first request may reuse an earlier test's probe (0) or make one (1); never one per recipe.
  assert.ok(probes <= 1, `nvidia-smi ran ${probes} times for ${first.value.recipes.length} recipes`);
});

test('an abandoned catalog request stops its work', async () => {
  const t = clean;
  const extra = path.join(dir, 'clean home', 'recipes');
  await mkdir(extra, { recursive: true });
  for (let i = 0; i < 300; i++) await writeFile(path.join(extra, `many-${String(i).padStart(3, '0')}.json`), minimal(`many-${i}`));
  const before = t.logs.length;
  await new Promise<void>((resolve) => {
    const socket = connect(t.port, '127.0.0.1', () => {
      socket.write(`GET /api/v1/catalog HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nAuthorization: Bearer ${t.token}\r\n\r\n`);
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 30);
    });
  });
  const deadline = Date.now() + 20_000;
  let line: string | undefined;
  while (Date.now() < deadline && !line) {
    line = t.logs.slice(before).find((l) => l.startsWith('catalog: the client went away'));
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(line, `the server noticed the client left: ${t.logs.slice(before).join('\n')}`);
  const [, done, total] = /stopped after (\d+) of (\d+)/.exec(line)!.map(Number);
  assert.ok(done! < total!, line);
});
