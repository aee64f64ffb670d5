import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { writeInstalledState } from '../helpers/app-state.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard uninstall outputs '));
});
after(async () => cleanup());

/** An installed app with whatever files it made in outputs/. */
async function installedApp(home: string, id: string, outputs: Record<string, string>): Promise<string> {
  const appRoot = await writeInstalledState(home, id, { kind: 'video' });
  await mkdir(path.join(appRoot, 'outputs'), { recursive: true });
  for (const [name, text] of Object.entries(outputs)) await writeFile(path.join(appRoot, 'outputs', name), text);
  return appRoot;
}

test('uninstall keeps what the app made: outputs/ moves to ORCHARD_HOME/outputs/<id>, never over an earlier one', async () => {
  const home = path.join(root, 'home');
  const appRoot = await installedApp(home, 'wan', { 'render-1.mp4': 'first video' });
  const first = parseJson<{ removed: string; keptOutputs?: string }>(await runCli(['uninstall', 'wan', '--json'], { home }));
  assert.ok(!existsSync(appRoot), 'the app folder is gone');
  assert.equal(first.keptOutputs, path.join(home, 'outputs', 'wan'));
  assert.equal(await readFile(path.join(home, 'outputs', 'wan', 'render-1.mp4'), 'utf8'), 'first video');

  // Installed again, made something else, uninstalled again: the first renders stay where they are.
  await installedApp(home, 'wan', { 'render-2.mp4': 'second video' });
  const second = await runCli(['uninstall', 'wan'], { home });
  assert.equal(second.code, 0, second.stderr);
  const moved = /what the app made was kept: (.+)$/m.exec(second.stdout)?.[1];
  assert.ok(moved && path.basename(moved).startsWith('wan-') && /^wan-\d{8}T\d{6}Z$/.test(path.basename(moved)), second.stdout);
  assert.equal(await readFile(path.join(moved, 'render-2.mp4'), 'utf8'), 'second video');
  assert.equal(await readFile(path.join(home, 'outputs', 'wan', 'render-1.mp4'), 'utf8'), 'first video');

  // Nothing made, nothing kept.
  await installedApp(home, 'empty', {});
  const none = parseJson<{ keptOutputs?: string }>(await runCli(['uninstall', 'empty', '--json'], { home }));
  assert.equal(none.keptOutputs, undefined);
  assert.ok(!existsSync(path.join(home, 'outputs', 'empty')));
});
