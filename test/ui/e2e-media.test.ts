import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { fixturesDir, tempDir } from '../helpers/paths.js';
import { expectClose, launchChromium, newPage, screenshot, waitForText, assertText, e2eSetup } from './browser.js';
import { mediaRecipe, type MediaFixture } from './e2e-media-recipe.js';
import { startServe } from './serve-process.js';

const standIn = path.join(fixturesDir, 'sdcpp', 'sd-server');
/** A 1×1 PNG, as a start image for image-to-video. */
const PNG_1x1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/**
 * Image and video "Try it" in a real browser against the real `orchard serve`: each fixture app is
 * installed and started through the UI, runs Orchard's diffusion service over the sd-server
 * stand-in (real sd.cpp output, replayed slowly so progress is visible), and the panel shows the
 * job's steps moving, speed and ETA, then the result; a second job is cancelled half way.
 */
test('image and video apps: Try it submits, shows live steps, cancels, and shows the result', { timeout: 240_000 }, async (t) => {
  const cleanups = await e2eSetup(t, 'failure-media.png');
  const home = await tempDir('orchard e2e media ');
  cleanups.push(home.cleanup);
  const orchardHome = path.join(home.dir, 'Orchard home');
  // Vulkan transcript: 12 sampling bars of 40 steps at 13–15 s/it (sd.cpp issue #851), one line per 300 ms.
  const image = mediaRecipe('image', standIn, {
    SDCPP_STANDIN_DEVICES: 'cuda',
    SDCPP_STANDIN_PROFILE: 'vulkan',
    SDCPP_STANDIN_LINE_MS: '300',
  });
  // Video transcript: Wan 2.1 bars 1/8…4/8, then a WebM (a stub container no browser can decode).
  const video = mediaRecipe('video', standIn, {
    SDCPP_STANDIN_DEVICES: 'cuda',
    SDCPP_STANDIN_PROFILE: 'video',
    SDCPP_STANDIN_LINE_MS: '600',
  });
  for (const fixture of [image, video]) {
    await mkdir(path.join(orchardHome, 'recipes', fixture.id), { recursive: true });
    await writeFile(path.join(orchardHome, 'recipes', fixture.id, 'recipe.json'), fixture.text);
  }

  const serve = await startServe(orchardHome);
  cleanups.push(() => serve.stop());
  const browser = await launchChromium();
  cleanups.push(() => browser.close());
  const { page, problems } = await newPage(browser);
  page.setDefaultTimeout(15_000);
  let broken: string | undefined;
  const step = (name: string, fn: () => Promise<void>) =>
    t.test(name, broken ? { skip: `"${broken}" failed` } : {}, async () => {
      try {
        await fn();
      } catch (err) {
        broken = name;
        await screenshot(page, 'failure-media', { fullPage: true }).catch(() => undefined);
        throw err;
      }
    });

  await step('opens with the token; both fixtures are in the catalog', async () => {
    await page.goto(serve.url);
    await page.getByRole('heading', { name: 'Library' }).waitFor();
    await page.getByRole('link', { name: 'Catalog' }).first().click();
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    await page.getByRole('link', { name: image.name }).waitFor();
    await page.getByRole('link', { name: video.name }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  });

  await step('image: install and start through the UI', async () => {
    await installAndStart(page, serve.origin, image);
    // No `service.ui` in the recipe: no "Open" (the service's job API is not a web page).
    assert.equal(await page.getByRole('link', { name: /Open/ }).count(), 0, 'an app without its own web UI shows "Open"');
  });

  await step('image: Try it shows the steps moving with speed and ETA, then the PNG', async () => {
    const panel = page.locator('.try-media[data-media="image"]');
    await panel.waitFor();
    // The recipe's defaults (inputs width/height/steps) fill the form.
    assert.equal(await panel.getByLabel('Size').inputValue(), '512x512');
    assert.equal(await panel.getByLabel('Steps').inputValue(), '40');
    await panel.getByLabel('Seed').fill('42');
    await panel.getByLabel('Prompt').fill('a red apple on a wooden table');
    await panel.getByRole('button', { name: 'Generate image' }).click();
    const seen = await watchSteps(page, panel, 30_000);
    assert.ok(seen.steps.size >= 3, `progress did not move: saw steps ${[...seen.steps].join(', ')}`);
    assert.ok(
      seen.texts.some((s) => /\/40 · 1\d\.\d+ s\/it · ETA \d/.test(s)),
      `no speed and ETA: ${seen.texts.join(' | ')}`,
    );
    assert.ok(seen.phases.has('sampling'), `phases: ${[...seen.phases].join(', ')}`);
    const img = panel.locator('.media-result img');
    await img.waitFor({ timeout: 30_000 });
    // A decoded PNG (the stand-in's 1×1 pixel), fetched with the token as a blob: URL.
    const natural = await img.evaluate((el) => [
      (el as unknown as { naturalWidth: number }).naturalWidth,
      (el as unknown as { src: string }).src,
    ]);
    assert.equal(natural[0], 1, 'the PNG did not decode');
    assert.match(String(natural[1]), /^blob:/);
    await assertText(panel.locator('.media-job'), /Finished/);
    await assertText(panel.locator('.media-result figcaption'), /Download PNG/);
    await assertText(panel.locator('.media-result figcaption'), /seed 42/);
    // Run as an app, the service saves the render in the app's outputs/ folder, and says where.
    await assertText(panel.locator('.media-result .media-saved'), /Saved as .*\/apps\/[^/]+\/outputs\/\d{8}T\d{6}Z-text-to-image-.*\.png/);
    // The service proved its device itself (--list-devices preflight): the badge shows it, not "not checked".
    await waitForText(page.locator('section[aria-label="Backend verdict"]'), /CUDA/i, 10_000);
    // Steps/s comes from the API's metrics samples (it reads the service's running job), not the page;
    // the job has finished, so the chart has fallen back to zero and keeps the sampling speed as its peak.
    await waitForText(
      page.locator('.sparkline', { hasText: 'Steps/s' }).locator('figcaption'),
      /Steps\/s: 0\.00 \(peak 0\.0[67]\)/,
      10_000,
    );
    await screenshot(page, 'try-image', { fullPage: true });
    // Leaving the page and coming back finds the latest job (a long render is not lost from view).
    await page.getByRole('link', { name: 'Catalog' }).first().click();
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    await page.getByRole('link', { name: image.name }).click();
    await panel.locator('.media-result img').waitFor({ timeout: 15_000 });
    await assertText(panel.locator('.media-job'), /Finished/);
  });

  await step('image: a second job is cancelled half way', async () => {
    const panel = page.locator('.try-media[data-media="image"]');
    await panel.getByRole('button', { name: 'Generate image' }).click();
    await panel.locator('.media-job[data-state="running"] .media-step').waitFor({ timeout: 30_000 });
    await panel.getByRole('button', { name: 'Cancel' }).click();
    await panel.locator('.media-job[data-state="cancelled"]').waitFor({ timeout: 30_000 });
    assert.equal(await panel.locator('.media-result').count(), 0, 'a cancelled job shows a result');
    // sd.cpp cannot interrupt a generation: the service says it restarted sd-server to stop it.
    await assertText(panel.locator('.media-notes'), /restarted/);
    await page.getByRole('button', { name: 'Generate image' }).waitFor();
    await stopService(page);
  });

  await step('video: install, start, Try it with frames; the WebM is offered for download', async () => {
    await installAndStart(page, serve.origin, video);
    const panel = page.locator('.try-media[data-media="video"]');
    await panel.waitFor();
    assert.equal(await panel.getByLabel('Size').inputValue(), '832x480');
    await panel.getByLabel('Frames').fill('18');
    // A start image makes it an image-to-video job (Wan I2V); the file is read in the page, sent as base64.
    await panel
      .getByLabel('Start image')
      .setInputFiles({ name: 'start.png', mimeType: 'image/png', buffer: Buffer.from(PNG_1x1, 'base64') });
    await panel.getByLabel('Prompt').fill('a paper boat drifting on a calm lake');
    await panel.getByRole('button', { name: 'Generate video' }).click();
    const seen = await watchSteps(page, panel, 30_000);
    assert.ok(seen.steps.size >= 2, `progress did not move: saw steps ${[...seen.steps].join(', ')}`);
    await panel.locator('.media-result').waitFor({ timeout: 30_000 });
    assert.equal(await panel.locator('.media-result').getAttribute('data-mime'), 'video/webm');
    // 18 frames are normalised to 4n+1 = 17, and the job says so.
    await assertText(panel.locator('.media-notes'), /normalised to 17/);
    await assertText(panel.locator('.media-result figcaption'), /image-to-video · 832 × 480 · 17 frames at 16 fps/);
    // The stand-in's WebM is only a header: Chromium tries the <video>, fails, and the panel falls
    // back to the download with an explanation (what a real AVI gets at once).
    await panel.locator('.media-unplayable').waitFor({ timeout: 10_000 });
    await assertText(panel.locator('.media-result figcaption'), /Download WEBM/);
    await screenshot(page, 'try-video', { fullPage: true });
    await stopService(page);
  });

  expectClose(page);
  assert.deepEqual(problems, [], 'the page logged errors or made external requests');
});

async function installAndStart(page: Page, origin: string, fixture: MediaFixture): Promise<void> {
  await page.goto(`${origin}/#/apps/${fixture.id}`);
  await page.getByRole('button', { name: 'Install', exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Install', exact: true }).click();
  await page.locator('.job[data-job-operation="install"][data-job-state="succeeded"]').waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Start' }).click();
  await page.locator('.service-state[data-state="ready"]').waitFor({ timeout: 60_000 });
}

async function stopService(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.locator('.service-state[data-state="stopped"]').waitFor({ timeout: 30_000 });
}

/** Sample the job's step line until a result or an end state shows: which steps, texts and phases passed by. */
async function watchSteps(
  page: Page,
  panel: ReturnType<Page['locator']>,
  timeoutMs: number,
): Promise<{ steps: Set<string>; texts: string[]; phases: Set<string> }> {
  const steps = new Set<string>();
  const texts: string[] = [];
  const phases = new Set<string>();
  let shot = false;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const job = panel.locator('.media-job');
    if ((await job.count()) > 0) {
      const state = (await job.getAttribute('data-state').catch(() => null)) ?? '';
      const phase = await job.getAttribute('data-phase').catch(() => null);
      if (phase) phases.add(phase);
      const line = panel.locator('.media-step');
      if ((await line.count()) > 0) {
        const value = await line.getAttribute('data-step').catch(() => null);
        const text = (await line.textContent().catch(() => '')) ?? '';
        if (value) steps.add(value);
        if (text && texts.at(-1) !== text) texts.push(text);
        if (!shot && steps.size === 2 && state === 'running') {
          shot = true;
          await screenshot(page, `try-${(await panel.getAttribute('data-media')) ?? 'media'}-running`, { fullPage: true });
        }
      }
      if (state === 'completed' || state === 'failed' || state === 'cancelled') return { steps, texts, phases };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { steps, texts, phases };
}
