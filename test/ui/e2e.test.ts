import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/paths.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';
import { expectClose, launchChromium, newPage, screenshot, waitForText, assertText, e2eSetup } from './browser.js';
import { BROKEN_LINE, BROKEN_RECIPE, e2eRecipeText } from './e2e-recipe.js';
import { startServe } from './serve-process.js';
import { startWeightsServer } from './weights-server.js';

const EXTRAS_BYTES = 3_000_000;
const EXTRAS_RATE = 1_500_000; // about 2 s of visible progress

/**
 * The whole user story in a real browser against the real `orchard serve`: open with the token,
 * install a recipe whose weights come from a local server (progress bars, steps), start the LLM
 * service on a generated model, see the CPU verdict with evidence, stream a reply in "Try it",
 * stop, find a broken recipe's error at its line in the editor, uninstall keeping the models.
 */
test('the web UI drives install, run, chat, editor and uninstall end to end', { timeout: 240_000 }, async (t) => {
  const cleanups = await e2eSetup(t, 'failure.png');
  const home = await tempDir('orchard e2e ');
  cleanups.push(home.cleanup);
  const model = path.join(home.dir, 'tiny.gguf');
  await writeTinyGguf(model, { mode: 'successor', ctx: 256 });
  const weights = await startWeightsServer([
    { name: 'tiny.gguf', bytes: await readFile(model) },
    { name: 'extras.bin', bytes: randomBytes(EXTRAS_BYTES), bytesPerSecond: EXTRAS_RATE },
  ]);
  cleanups.push(() => weights.close());
  const orchardHome = path.join(home.dir, 'Orchard home');
  const recipeDir = path.join(orchardHome, 'recipes', 'e2e-chat');
  await mkdir(recipeDir, { recursive: true });
  await writeFile(path.join(recipeDir, 'recipe.json'), e2eRecipeText(weights));

  const serve = await startServe(orchardHome);
  cleanups.push(() => serve.stop());
  const browser = await launchChromium();
  cleanups.push(() => browser.close());
  const { page, problems } = await newPage(browser);
  page.setDefaultTimeout(15_000);
  // Each step needs the one before: after a failure the rest are skipped, not timed out one by one.
  let broken: string | undefined;
  const step = (name: string, fn: () => Promise<void>, o: { independent?: boolean } = {}) =>
    t.test(name, broken ? { skip: `"${broken}" failed` } : {}, async () => {
      try {
        await fn();
      } catch (err) {
        if (!o.independent) broken = name;
        await screenshot(page, 'failure').catch(() => undefined);
        throw err;
      }
    });

  await step('opens with the token and drops it from the address bar', async () => {
    await page.goto(serve.url);
    await page.getByRole('heading', { name: 'Library' }).waitFor();
    assert.ok(!page.url().includes('token'), `the token is still in the address bar: ${page.url()}`);
    // Exchanged for an HttpOnly session cookie: page script keeps no token (first-hour.test.ts checks the cookie).
    assert.equal(await page.evaluate(`sessionStorage.getItem('orchard.token')`), null);
    await page.locator('nav').getByRole('link', { name: 'Catalog' }).click();
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    const card = page.locator('article', { has: page.getByRole('link', { name: 'Tiny chat (end-to-end fixture)' }) });
    await card.waitFor();
    await assertText(card, /llm/);
    await assertText(card, /[23]\.\d MiB/); // both files: 3,000,000 bytes (2.9 MiB) of extras plus the model
    await assertText(card, /cpu/);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await screenshot(page, 'catalog');
  });

  await step(
    'the editor marks a broken recipe at its line',
    async () => {
      await page.getByRole('link', { name: 'Recipe editor' }).click();
      const editor = page.getByLabel('Recipe JSON');
      await editor.fill(BROKEN_RECIPE);
      await page.locator(`.cm-error-line[data-line="${BROKEN_LINE}"]`).waitFor({ timeout: 15_000 });
      const issue = page.locator(`.issues li[data-line="${BROKEN_LINE}"]`).first();
      await assertText(issue, new RegExp(`Line ${BROKEN_LINE}`));
      await assertText(issue, /\/kind/);
      assert.equal(await page.getByRole('button', { name: 'Save', exact: true }).isDisabled(), true, 'an invalid recipe can be saved');
      // Jumping to the error puts the caret on that line.
      await issue.getByRole('button').click();
      // CodeMirror marks the caret's line in the line-number gutter.
      assert.equal(Number(await page.locator('.cm-lineNumbers .cm-activeLineGutter').textContent()), BROKEN_LINE);
      await screenshot(page, 'editor');
      // Fixed but not saved: the plan preview plans the text itself.
      await editor.fill(BROKEN_RECIPE.replace('"chatbot"', '"tool"'));
      await page.getByText('Planned from the unsaved text').waitFor({ timeout: 15_000 });
      await assertText(page.locator('.plan-summary'), /x\.txt/);
      await screenshot(page, 'editor-plan');
    },
    { independent: true },
  );

  await step(
    'doctor and settings pages render',
    async () => {
      await page.getByRole('link', { name: 'Doctor' }).click();
      await page.getByRole('heading', { name: 'Doctor' }).waitFor();
      await page.locator('.card, .error-box').first().waitFor();
      await screenshot(page, 'doctor');
      const doctorErrors = page.locator('.error-box');
      if ((await doctorErrors.count()) > 0) assert.fail(`the doctor failed: ${await doctorErrors.first().textContent()}`);
      await page.getByRole('heading', { name: 'This machine', exact: true }).waitFor();
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('heading', { name: 'Settings' }).waitFor();
      // The home folder appears twice on the page (the card and the doctor's disk line may linger): check the card.
      await page.locator('code.path', { hasText: orchardHome }).waitFor();
      await page.getByText('not set').waitFor();
      await screenshot(page, 'settings');
      // A change goes through the API and the page shows what the server now holds.
      await page.getByLabel('Installs that may run at once').fill('3');
      await page.locator('#concurrency-title ~ form').getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByRole('status').getByText('Concurrency saved.').waitFor();
      const saved = (await page.evaluate(async () => (await fetch('/api/v1/settings')).json())) as { concurrency: number };
      assert.equal(saved.concurrency, 3, 'the server did not keep the new concurrency');
    },
    { independent: true },
  );

  await step('install shows the plan, then progress bars and steps to the end', async () => {
    await page.locator('nav').getByRole('link', { name: 'Catalog' }).click();
    await page.getByRole('link', { name: 'Tiny chat (end-to-end fixture)' }).click();
    // Keyboard: Enter opens the plan, focus moves into the dialog, Escape closes it and gives focus back.
    const install = page.getByRole('button', { name: 'Install', exact: true });
    await install.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.equal(await dialog.evaluate((d) => d.contains(d.ownerDocument.activeElement)), true, 'focus did not move into the dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await install.evaluate((b) => b === b.ownerDocument.activeElement), true, 'focus did not return to Install');
    await page.keyboard.press('Enter');
    await dialog.getByText('extras.bin').first().waitFor();
    await assertText(dialog, /tiny\.gguf/);
    await assertText(dialog, /127\.0\.0\.1/);
    await assertText(dialog, /2\.9 MiB/); // the extras: 3,000,000 bytes, in the engine's binary units
    await screenshot(page, 'install-plan');
    await dialog.getByRole('button', { name: 'Install', exact: true }).click();
    // Mid-download: a real <progress> for the throttled file, with speed and ETA.
    // Download events name the weight by id ("extras"); the bar shows the plan's file name for it.
    const bar = page.locator('.download', { hasText: /^extras\.bin/ });
    await bar.waitFor({ timeout: 30_000 });
    await assertText(bar, /\/s, ETA/);
    await screenshot(page, 'app-installing');
    await page.locator('.job[data-job-operation="install"][data-job-state="succeeded"]').waitFor({ timeout: 90_000 });
    // (attached, not visible: a finished job folds its details away)
    await page.locator('.download.done[data-weight="extras"][data-file="extras.bin"]').waitFor({ state: 'attached' });
    const statuses = await page
      .locator('.job .step')
      .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-step')}=${e.getAttribute('data-status')}`));
    assert.ok(statuses.length >= 4, `steps: ${statuses.join(', ')}`);
    for (const s of statuses) assert.match(s, /=(done|skipped)$/, `a step did not finish: ${statuses.join(', ')}`);
    assert.ok(
      weights.requests.some((r) => r.startsWith('GET /extras.bin')),
      `the weights server saw: ${weights.requests.join('; ')}`,
    );
  });

  await step('starts the LLM service: ready, CPU badge with evidence, a streamed reply', async () => {
    await page.getByRole('button', { name: 'Start' }).click();
    await page.locator('.service-state[data-state="ready"]').waitFor({ timeout: 120_000 });
    const badge = page.locator('.backend-name[data-backend="cpu"]');
    await badge.waitFor({ timeout: 30_000 });
    assert.ok((await page.locator('.evidence li').count()) > 0, 'the backend verdict shows no evidence line');
    const prompt = page.getByLabel('Message');
    await prompt.fill('Hello');
    await prompt.press('Enter');
    const reply = page.locator('.turn[data-role="assistant"] p');
    // The generated model continues the alphabet after the last letter: "Hello" → "pqrs…".
    await waitForText(reply, /pqrs/, 60_000);
    // The stream ends by itself (the model emits end-of-sequence after "z").
    await page.getByRole('button', { name: 'Send' }).waitFor({ timeout: 30_000 });
    assert.match((await reply.textContent()) ?? '', /pqrstuvwxyz/);
    // The LLM service has no web UI of its own (no `service.ui`): no "Open".
    assert.equal(await page.getByRole('link', { name: /Open/ }).count(), 0, 'an app without its own web UI shows "Open"');
    // Throughput: the API reads the service's own /metrics with each sample, once a completion has run.
    await waitForText(page.locator('.sparkline', { hasText: 'Tokens/s' }).locator('figcaption'), /Tokens\/s: \d/, 10_000);
    await screenshot(page, 'app-running', { fullPage: true });
  });

  await step('stops the service', async () => {
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('.service-state[data-state="stopped"]').waitFor({ timeout: 30_000 });
  });

  await step('uninstall keeps the models by default', async () => {
    await page.goto(`${serve.origin}/#/apps/e2e-chat`);
    await page.getByRole('button', { name: 'Uninstall' }).click();
    const dialog = page.getByRole('dialog');
    assert.equal(await dialog.getByLabel(/Keep them/).isChecked(), true, 'keeping the models is not the default');
    await dialog.getByRole('button', { name: 'Uninstall' }).click();
    await page.locator('.job[data-job-operation="uninstall"][data-job-state="succeeded"]').waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Install', exact: true }).waitFor({ timeout: 15_000 });
    const blob = path.join(orchardHome, 'store', 'blobs', 'sha256', weights.sha256('tiny.gguf'));
    assert.ok(existsSync(blob), `the model left the store: ${blob}`);
    assert.ok(!existsSync(path.join(orchardHome, 'apps', 'e2e-chat', 'state.json')), 'the app is still installed');
  });

  expectClose(page);
  assert.deepEqual(problems, [], 'the page logged errors or made external requests');
});
