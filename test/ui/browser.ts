import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from '../helpers/paths.js';

export const CHROMIUM = process.env['ORCHARD_CHROMIUM'] ?? '/usr/bin/chromium';
export const screenshotsDir = path.join(repoRoot, 'test-artifacts', 'screenshots');

/** Real headless Chromium (Debian's), offline: no background network, no updates, no sync. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium (or set ORCHARD_CHROMIUM)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** A 1280×800 page that records console errors and failed requests (both fail the test at the end). */
export async function newPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  // Its own context (not browser.newPage): a test may open a second tab that shares its cookies.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  // Anything that is not the Orchard server is an external request: the UI must make none.
  page.on('request', (request) => {
    const url = new URL(request.url());
    // blob: URLs are the page's own in-memory objects (fetched results shown as <img>/<video>).
    if (url.hostname !== '127.0.0.1' && url.protocol !== 'data:' && url.protocol !== 'blob:')
      problems.push(`external request: ${request.url()}`);
  });
  // The event stream must stay up for the whole session: a drop loses progress events.
  page.on('websocket', (socket) => {
    const opened = Date.now();
    socket.on('close', () => {
      if (!closing.has(page)) problems.push(`the event WebSocket closed after ${Date.now() - opened} ms`);
    });
  });
  return { page, problems };
}

const closing = new WeakSet<Page>();
/** Mark the page as closing, so its WebSocket closing is expected. */
export function expectClose(page: Page): void {
  closing.add(page);
}

export async function screenshot(page: Page, name: string, o: { fullPage?: boolean } = {}): Promise<string> {
  await mkdir(screenshotsDir, { recursive: true });
  const file = path.join(screenshotsDir, `${name}.png`);
  await page.screenshot({ path: file, ...(o.fullPage ? { fullPage: true } : {}) });
  return file;
}

/** Poll a locator's text (the page's CSP forbids the eval that waitForFunction(string) needs). */
export async function waitForText(locator: ReturnType<Page['locator']>, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = (await locator.textContent().catch(() => '')) ?? '';
    if (pattern.test(text)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`"${text}" never matched ${pattern} within ${timeoutMs} ms`);
}

export async function assertText(locator: ReturnType<Page['locator']>, pattern: RegExp): Promise<void> {
  const text = (await locator.textContent()) ?? '';
  assert.match(text, pattern);
}

/**
 * The start of every browser test: the UI must be built, an old failure screenshot is removed, and
 * cleanups run last-in first-out after the test (browser, server, servers, folders).
 */
export async function e2eSetup(
  t: { after: (fn: () => Promise<void>) => void },
  failureScreenshot: string,
): Promise<(() => Promise<void>)[]> {
  assert.ok(
    existsSync(path.join(repoRoot, 'ui', 'dist', 'index.html')),
    'the UI is not built: run `node scripts/build.mjs` (or vite build --config ui/vite.config.ts)',
  );
  const cleanups: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => console.error('cleanup failed:', err));
  });
  await rm(path.join(screenshotsDir, failureScreenshot), { force: true });
  return cleanups;
}
