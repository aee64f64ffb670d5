import assert from 'node:assert/strict';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { runCli } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { e2eSetup, expectClose, launchChromium, newPage, screenshot } from './browser.js';
import { startServe } from './serve-process.js';

/** A GPU-only recipe with nothing to download: on this CPU-only machine it offers "Install anyway". */
const GPU_RECIPE = {
  id: 'gpu-only',
  name: 'GPU-only tool',
  version: '1.0.0',
  kind: 'tool',
  description: 'Needs CUDA or Metal; installs a single file.',
  requires: { accelerators: ['cuda', 'metal'], memoryGiB: 1 },
  install: [{ kind: 'write', path: 'app/hello.txt', content: 'hello\n' }],
};

/**
 * The first hour in a real browser (issue 18): the Library finds an app installed from a recipe
 * file and starts/stops it in one click, an unknown app id is a not-found page, the session
 * survives a second tab and a reload, a wrong link says so, "Install anyway" states the CPU cost,
 * "Save and install" asks first, and every page is shot in light and dark.
 */
test('first hour: library, not-found, session, install anyway, save-and-install, light and dark', { timeout: 180_000 }, async (t) => {
  const cleanups = await e2eSetup(t, 'first-hour-failure.png');
  const home = await tempDir('orchard first hour ');
  cleanups.push(home.cleanup);
  const orchardHome = path.join(home.dir, 'Orchard home');
  // Installed from a recipe file outside the catalog, before the server starts.
  const appDir = path.join(home.dir, 'elsewhere', 'api-app');
  await cp(path.join(repoRoot, 'test', 'api', 'fixtures', 'api-app'), appDir, { recursive: true });
  const installed = await runCli(['install', appDir], { home: orchardHome, timeoutMs: 60_000 });
  assert.equal(installed.code, 0, installed.stderr);
  const gpuDir = path.join(orchardHome, 'recipes', 'gpu-only');
  await mkdir(gpuDir, { recursive: true });
  await writeFile(path.join(gpuDir, 'recipe.json'), JSON.stringify(GPU_RECIPE, null, 2));

  const serve = await startServe(orchardHome);
  cleanups.push(() => serve.stop());
  const browser = await launchChromium();
  cleanups.push(() => browser.close());
  const { page, problems } = await newPage(browser);
  page.setDefaultTimeout(15_000);
  const step = (name: string, fn: () => Promise<void>) =>
    t.test(name, async () => {
      try {
        await fn();
      } catch (err) {
        await screenshot(page, 'first-hour-failure').catch(() => undefined);
        throw err;
      }
    });

  await step('the access link becomes an HttpOnly session cookie; the Library lists the app installed from a file', async () => {
    await page.goto(serve.url);
    await page.getByRole('heading', { name: 'Library' }).waitFor();
    assert.ok(!page.url().includes('token'), page.url());
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'orchard_session');
    assert.ok(session, `no session cookie: ${JSON.stringify(cookies)}`);
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/api/v1');
    assert.ok(!session.value.includes(serve.token));
    assert.equal(await page.evaluate('document.cookie'), '', 'page script cannot read the session');
    assert.equal(await page.evaluate(`sessionStorage.getItem('orchard.token')`), null, 'the token is not kept in page storage');
    // The Library is first in the navigation.
    assert.equal(await page.locator('nav[aria-label="Main"] a').first().textContent(), 'Library');
    const row = page.locator('.library-row[data-app="api-app"]');
    await row.waitFor();
    assert.equal(await row.getAttribute('data-state'), 'stopped');
  });

  await step('start, open and stop are one click each in the Library', async () => {
    const row = page.locator('.library-row[data-app="api-app"]');
    await row.getByRole('button', { name: 'Start API app (test fixture)' }).click();
    await page.locator('.library-row[data-app="api-app"][data-state="running"]').waitFor({ timeout: 60_000 });
    await row.getByRole('link', { name: 'Open API app (test fixture)' }).waitFor();
    await row.locator('.library-facts', { hasText: /:\d{2,5}/ }).waitFor();
    await screenshot(page, 'library-running-light');
    await row.getByRole('button', { name: 'Stop API app (test fixture)' }).click();
    await page.locator('.library-row[data-app="api-app"][data-state="stopped"]').waitFor({ timeout: 30_000 });
    // One click to the app's own page.
    await row.getByRole('link', { name: 'API app (test fixture)', exact: true }).click();
    await page.getByRole('heading', { name: /API app \(test fixture\)/ }).waitFor();
  });

  await step('a second tab and a reload need no link; a wrong link says so', async () => {
    const second = await page.context().newPage();
    await second.goto(`${serve.origin}/#/catalog`);
    await second.getByRole('heading', { name: 'Catalog' }).waitFor();
    await second.reload();
    await second.getByRole('heading', { name: 'Catalog' }).waitFor();
    expectClose(second);
    await second.close();
    const stranger = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const other = await stranger.newPage();
    await other.goto(`${serve.origin}/#/library`);
    await other.getByRole('heading', { name: 'Orchard needs its access link' }).waitFor();
    await other.goto(`${serve.origin}/#token=${'0'.repeat(64)}`);
    await other.reload();
    await other.getByText('This access link has the wrong token.').waitFor();
    await stranger.close();
  });

  await step('an unknown app id is a not-found page, not an Install button', async () => {
    await page.goto(`${serve.origin}/#/apps/no-such-app`);
    await page.getByRole('heading', { name: 'No app called “no-such-app”' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Install', exact: true }).count(), 0);
    await screenshot(page, 'not-found-light');
  });

  await step('a GPU recipe on this CPU: not red, and "Install anyway" states the cost in the plan', async () => {
    await page.goto(`${serve.origin}/#/catalog`);
    const card = page.locator('article[data-recipe="gpu-only"]');
    await card.waitFor();
    assert.equal(await card.locator('.fit-badge').textContent(), 'CPU only here (slow)');
    assert.equal(await card.getByText(/this machine has/).count(), 0, 'a fact is not listed as a problem');
    await card.getByRole('link', { name: 'GPU-only tool' }).click();
    await page.getByRole('button', { name: 'Install anyway (runs on CPU, slow)' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('This runs on the CPU.').waitFor();
    await dialog.getByText(/many times slower/).waitFor();
    await screenshot(page, 'install-anyway-light');
    await dialog.getByRole('button', { name: 'Install on CPU' }).click();
    await page.locator('.job[data-job-operation="install"][data-job-state="succeeded"]').waitFor({ timeout: 60_000 });
    const state = JSON.parse(await readFile(path.join(orchardHome, 'apps', 'gpu-only', 'state.json'), 'utf8')) as {
      allowCpu?: boolean;
      lifecycle: string;
    };
    assert.equal(state.lifecycle, 'installed');
    assert.equal(state.allowCpu, true);
  });

  await step('each quantization shows its download and memory need where it is chosen, and the plan follows the choice', async () => {
    await page.goto(`${serve.origin}/#/catalog`);
    const card = page.locator('article[data-recipe="llama-3-1-8b-instruct"]');
    await card.locator('li[title="Download"]', { hasText: '~4.6 GiB (sizes not pinned)' }).waitFor();
    await card.locator('li[title="Memory"]', { hasText: '7 GiB' }).waitFor();
    await page.goto(`${serve.origin}/#/apps/llama-3-1-8b-instruct`);
    await page.getByRole('button', { name: 'Install anyway (runs on CPU, slow)' }).click();
    const dialog = page.getByRole('dialog');
    const select = dialog.getByLabel('Quantization');
    await select.waitFor();
    assert.deepEqual(await select.locator('option').allTextContents(), [
      'Q3_K_M — ~3.8 GiB download, needs 6.0 GiB of memory',
      'Q4_K_M — ~4.6 GiB download, needs 7.0 GiB of memory',
      'Q5_K_M — ~5.4 GiB download, needs 8.0 GiB of memory',
      'Q6_K — ~6.2 GiB download, needs 9.0 GiB of memory',
      'Q8_0 — ~8.0 GiB download, needs 10.0 GiB of memory',
    ]);
    assert.equal(await select.inputValue(), 'Q4_K_M');
    await select.selectOption('Q8_0');
    await dialog.getByText(/Needs 10 GiB memory and 8 GiB disk/).waitFor();
    await dialog.locator('tfoot').getByText("~8.0 GiB (the recipe's disk need)").waitFor();
    await dialog
      .getByText(/Q8_0\/Meta-Llama-3\.1-8B-Instruct-Q8_0\.gguf/)
      .first()
      .waitFor();
    await screenshot(page, 'install-quantization-light');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.ok(!existsSync(path.join(orchardHome, 'apps', 'llama-3-1-8b-instruct')), 'nothing was installed');
  });

  await step('"Save and install" in the editor shows the plan first; cancelling installs nothing', async () => {
    await page.goto(`${serve.origin}/#/editor`);
    await page.getByRole('heading', { name: 'Recipe editor' }).waitFor();
    await page.getByRole('button', { name: 'Save and install…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Install', exact: true }).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    const saved = (await readFile(path.join(orchardHome, 'recipes', 'my-app', 'recipe.json'), 'utf8').catch(() => undefined)) ?? '';
    assert.ok(saved.length > 0, 'the recipe was saved');
    assert.ok(!existsSync(path.join(orchardHome, 'apps', 'my-app')), 'nothing was installed before confirming');
  });

  await step('the editor completes keys from the recipe schema, shows its docs on hover, and marks errors inline', async () => {
    await page.goto(`${serve.origin}/#/editor`);
    const content = page.locator('.cm-content[aria-label="Recipe JSON"]');
    await content.waitFor();
    // A new key after "id": typing its start offers the schema's keys.
    await page.locator('.cm-line', { hasText: '"id": "my-app",' }).click();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('"wei');
    await page.keyboard.press('Control+Space');
    const popup = page.locator('.cm-tooltip-autocomplete');
    await popup.getByText('weights').first().waitFor();
    await screenshot(page, 'editor-completion-light');
    await page.keyboard.press('Escape');
    // A wrong enum value: marked at its line, with the schema's message in the lint tooltip.
    await content.fill(STARTER_WITH_BAD_KIND);
    const bad = page.locator('.cm-error-line[data-line="5"]');
    await bad.waitFor({ timeout: 15_000 });
    await page.locator('.cm-lint-marker-error').first().waitFor();
    await page.locator('.issues li[data-line="5"]').first().waitFor();
    // Hovering the error shows the message (with its hint when there is one).
    await page.locator('.cm-lint-marker-error').first().waitFor();
    assert.equal((await page.locator('.cm-lintRange-error').count()) > 0, true);
    // The underline is on the bad line (the server's line and column, not a stale one).
    assert.equal((await bad.locator('.cm-lintRange-error').count()) > 0, true, 'the error is underlined on line 5');
    await bad.locator('.cm-lintRange-error').first().hover();
    await page.locator('.cm-tooltip-lint', { hasText: 'must be one of: llm, image, video, tool' }).waitFor();
    await screenshot(page, 'editor-error-light');
  });

  await step('dark mode follows the system, and Settings can pin light', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${serve.origin}/#/library`);
    await page.locator('.library-row').first().waitFor();
    assert.equal(await background(page), 'rgb(20, 25, 26)', 'dark background');
    await page.goto(`${serve.origin}/#/settings`);
    await page.locator('.segmented label', { hasText: 'Light' }).click();
    assert.equal(await background(page), 'rgb(246, 247, 244)', 'light pinned while the system is dark');
    await page.locator('.segmented label', { hasText: 'Follow the system' }).click();
    assert.equal(await background(page), 'rgb(20, 25, 26)');
  });

  await step('every page in light and dark at 1280×800', async () => {
    const pages: [string, string, string][] = [
      ['library', '#/library', '.library-row[data-app="gpu-only"]'],
      ['catalog', '#/catalog', 'article.recipe-card'],
      ['app', '#/apps/api-app', '.card'],
      ['editor', '#/editor', '.plan-summary'],
      ['doctor', '#/doctor', '.card'],
      ['settings', '#/settings', 'code.path'],
      ['models', '#/models', 'section.card'],
      ['cluster', '#/cluster', '#hosts-title'],
      ['not-found', '#/apps/no-such-app', '.not-found'],
    ];
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [name, hash, ready] of pages) {
        await page.goto(`${serve.origin}/${hash}`);
        await page.locator(ready).first().waitFor({ timeout: 20_000 });
        await screenshot(page, `${name}-${scheme}`);
      }
    }
    // Narrow window: the sidebar folds to icons.
    await page.setViewportSize({ width: 760, height: 800 });
    await page.goto(`${serve.origin}/#/library`);
    await page.locator('.library-row').first().waitFor();
    const navWidth = await page.locator('nav[aria-label="Main"]').evaluate((n) => n.getBoundingClientRect().width);
    assert.ok(navWidth <= 60, `the sidebar did not fold: ${navWidth}px`);
    await screenshot(page, 'library-narrow-dark');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  expectClose(page);
  assert.deepEqual(
    problems.filter((p) => !/401 \(Unauthorized\)/.test(p)),
    [],
    'the page logged errors or made external requests',
  );
});

const STARTER_WITH_BAD_KIND = `{
  "id": "my-app",
  "name": "My app",
  "version": "0.1.0",
  "kind": "chatbot",
  "install": [{ "kind": "write", "path": "app/hello.txt", "content": "hello" }]
}
`;

async function background(page: Page): Promise<string> {
  return page.evaluate('getComputedStyle(document.body.parentElement).backgroundColor') as Promise<string>;
}
