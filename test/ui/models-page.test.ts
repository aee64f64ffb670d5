import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Ollama } from 'ollama';
import { installApp, llmService, startOrchard } from '../gateway/helpers.js';
import { tempDir } from '../helpers/paths.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';
import { e2eSetup, expectClose, launchChromium, newPage, screenshot } from './browser.js';

/** The Models page in a real browser: the gateway's URLs, a model an Ollama client loaded, Unload. */
test('the Models page shows the gateway, a loaded model with its memory, and unloads it', { timeout: 120_000 }, async (t) => {
  const cleanups = await e2eSetup(t, 'models-failure.png');
  const { dir, cleanup } = await tempDir('orchard models page ');
  cleanups.push(cleanup);
  const home = path.join(dir, 'Orchard home');
  const model = path.join(dir, 'models', 'tiny.gguf');
  await mkdir(path.dirname(model), { recursive: true });
  await writeTinyGguf(model, { mode: 'successor' });
  await installApp(dir, home, 'tiny-page', { kind: 'llm', model, service: llmService(256) });
  const o = await startOrchard(home, { overrides: { keepAlive: '30m' }, usableMemoryBytes: 8 * 1024 ** 3 });
  cleanups.push(() => o.close());
  const loaded = await new Ollama({ host: o.base }).generate({ model: 'tiny-page', prompt: '' });
  assert.equal(loaded.done_reason, 'load');

  const browser = await launchChromium();
  cleanups.push(() => browser.close());
  const { page, problems } = await newPage(browser);
  page.setDefaultTimeout(15_000);
  try {
    await page.goto(`http://127.0.0.1:${o.t.port}/#token=${o.t.token}`);
    await page.getByRole('link', { name: 'Models' }).click();
    await page.getByRole('heading', { name: 'Models', exact: true }).waitFor();
    assert.equal(await page.getByTestId('openai-url').textContent(), `${o.base}/v1`);
    assert.equal(await page.getByTestId('ollama-url').textContent(), o.base);
    const row = page.locator('tr[data-model="tiny-page"]');
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    assert.match(text, /ready/);
    assert.match(text, /\d+(\.\d)? MiB \/ (\d+(\.\d)? MiB|—)/, text);
    assert.match(text, /\d+m \d+s/, `keep-alive left: ${text}`);
    await screenshot(page, 'models');
    await page.getByRole('button', { name: 'Unload tiny-page' }).click();
    await page.getByText('No model is loaded').waitFor();
    // The list drops it as the unload begins; the process is gone once the POST has answered.
    await page.getByRole('button', { name: 'Unload tiny-page' }).waitFor({ state: 'detached' });
    const deadline = Date.now() + 10_000;
    while (o.t.server.context.supervisor.status('tiny-page').state !== 'stopped' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(o.t.server.context.supervisor.status('tiny-page').state, 'stopped');
    assert.deepEqual(problems, []);
  } catch (err) {
    await screenshot(page, 'models-failure').catch(() => undefined);
    throw err;
  } finally {
    expectClose(page);
  }
});
