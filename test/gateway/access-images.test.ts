import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { rawRequest } from '../api/helpers.js';
import { standIn } from '../diffusion/service-helpers.js';
import { tempDir } from '../helpers/paths.js';
import { installApp, startOrchard, type Running } from './helpers.js';

/**
 * The gateway's door (Host, Origin allow-list, optional API key, CORS) and its Images API on an
 * installed image app, whose service runs the stand-in for stable-diffusion.cpp's sd-server
 * (test/fixtures/sdcpp: real captured sd-server output, a real PNG).
 */
let root: string;
let cleanup: () => Promise<void>;
let o: Running;
const overrides: { origins: string[]; apiKey?: string } = { origins: ['https://chat.example.org', 'app://*'] };

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard gateway images '));
  const home = path.join(root, 'Orchard Home');
  const model = path.join(root, 'flux model.gguf');
  await writeFile(model, '');
  await installApp(root, home, 'flux-test', {
    kind: 'image',
    model,
    service: {
      type: 'image',
      args: ['--sd-server', standIn, '--diffusion-model', '{{inputs.model}}', '--backend', 'cuda0', '--steps', '4'],
      env: { SDCPP_STANDIN_DEVICES: 'cuda', SDCPP_STANDIN_LINE_MS: '2', PATH: path.dirname(process.execPath) },
      readiness: { http: '/health', timeout: 60 },
      stopGraceSeconds: 3,
    },
  });
  o = await startOrchard(home, { overrides, usableMemoryBytes: 64 * 1024 ** 3 });
});
after(async () => {
  await o?.close();
  await cleanup();
});

const get = (headers: Record<string, string>, p = '/v1/models') =>
  rawRequest(o.gateway.port, 'GET', p, { host: `127.0.0.1:${o.gateway.port}`, ...headers });

test('Host must be a loopback name; a browser Origin must be on the allow-list; allowed ones get CORS', async () => {
  assert.equal((await get({})).status, 200, 'no token needed by default');
  assert.equal((await get({ host: 'localhost' })).status, 200);
  const rebound = await get({ host: `evil.example:${o.gateway.port}` });
  assert.equal(rebound.status, 421);
  assert.equal((JSON.parse(rebound.body) as { error: { code: string } }).error.code, 'misdirected');
  const foreign = await get({ origin: 'https://evil.example' });
  assert.equal(foreign.status, 403);
  assert.match(foreign.body, /gateway\.origins/);
  assert.equal(foreign.headers['access-control-allow-origin'], undefined);
  const ollamaShape = await get({ origin: 'https://evil.example' }, '/api/tags');
  assert.equal(ollamaShape.status, 403);
  assert.equal(typeof (JSON.parse(ollamaShape.body) as { error: unknown }).error, 'string', 'Ollama routes answer {error: "…"}');
  for (const origin of ['http://localhost:3000', 'https://chat.example.org', 'app://obsidian.md']) {
    const ok = await get({ origin });
    assert.equal(ok.status, 200, origin);
    assert.equal(ok.headers['access-control-allow-origin'], origin);
  }
  const preflight = await rawRequest(o.gateway.port, 'OPTIONS', '/v1/chat/completions', {
    host: `127.0.0.1:${o.gateway.port}`,
    origin: 'https://chat.example.org',
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'authorization, content-type',
  });
  assert.equal(preflight.status, 204);
  assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
});

test('with gateway.apiKey set, requests need the bearer key', async () => {
  overrides.apiKey = 'sk-local-test-key';
  try {
    const refused = await get({});
    assert.equal(refused.status, 401);
    assert.equal((JSON.parse(refused.body) as { error: { type: string } }).error.type, 'authentication_error');
    assert.equal((await get({ authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await get({ authorization: 'Bearer sk-local-test-key' })).status, 200);
    const client = new OpenAI({ baseURL: `${o.base}/v1`, apiKey: 'sk-local-test-key', maxRetries: 0 });
    assert.ok((await client.models.list()).data.some((m) => m.id === 'flux-test'));
  } finally {
    delete overrides.apiKey;
  }
});

test('POST /v1/images/generations starts the image app and answers b64_json or a URL that serves the PNG', async () => {
  const client = new OpenAI({ baseURL: `${o.base}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 60_000 });
  assert.equal(o.t.server.context.supervisor.status('flux-test').state, 'stopped');
  const inline = await client.images.generate({ model: 'flux-test', prompt: 'a lovely cat', size: '512x512', response_format: 'b64_json' });
  const png = Buffer.from(inline.data?.[0]?.b64_json ?? '', 'base64');
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG');
  assert.equal(o.t.server.context.supervisor.status('flux-test').state, 'ready', 'the request started the app');

  const byUrl = await client.images.generate({ prompt: 'a lovely dog', n: 2 });
  assert.equal(byUrl.data?.length, 2);
  const url = byUrl.data?.[0]?.url ?? '';
  assert.ok(url.startsWith(`${o.base}/v1/images/files/`), url);
  const fetched = await fetch(url);
  assert.equal(fetched.status, 200);
  assert.equal(fetched.headers.get('content-type'), 'image/png');
  assert.deepEqual([...Buffer.from(await fetched.arrayBuffer()).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);

  const jobs = (await fetch(`http://127.0.0.1:${o.t.server.context.supervisor.status('flux-test').port}/v1/jobs`).then((r) =>
    r.json(),
  )) as { jobs: { request: Record<string, unknown> }[] };
  const first = jobs.jobs.find((j) => j.request['prompt'] === 'a lovely cat');
  assert.deepEqual(
    [first?.request['width'], first?.request['height'], first?.request['steps']],
    [512, 512, 4],
    'size from the request, steps from the app (Flux schnell: 4)',
  );

  const chat = await client.chat.completions
    .create({ model: 'flux-test', messages: [{ role: 'user', content: 'hi' }] })
    .catch((e: unknown) => e);
  assert.ok(chat instanceof OpenAI.NotFoundError);
  assert.match(chat.message, /flux-test is an image model/);
});
