import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ENV_SETTINGS } from '../../engine/core/env-settings.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

test('orchard doctor --env prints every setting with its value in effect, and never a secret', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const result = await runCli(['doctor', '--env', '--json'], {
      home: dir,
      env: { HF_TOKEN: 'hf_secret_value', ORCHARD_NO_CONFINEMENT: '1' },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!result.stdout.includes('hf_secret_value'), 'the token was printed');
    const { env } = parseJson<{ env: { name: string; value: string | null; default: string; description: string }[] }>(result);
    assert.deepEqual(
      env.map((r) => r.name),
      ENV_SETTINGS.map((s) => s.name),
    );
    const byName = new Map(env.map((r) => [r.name, r]));
    assert.equal(byName.get('ORCHARD_HOME')?.value, dir);
    assert.equal(byName.get('HF_TOKEN')?.value, '(set)');
    assert.equal(byName.get('ORCHARD_NO_CONFINEMENT')?.value, '1');
    for (const r of env) assert.ok(r.description.length > 20 && r.default.length > 0, r.name);
  } finally {
    await cleanup();
  }
});

test('the settings in the table are read through envSetting() only', async () => {
  const names = ENV_SETTINGS.map((s) => s.name).join('|');
  const direct = new RegExp(`(?:process\\.env|\\benv)(?:\\['(?:${names})'\\]|\\.(?:${names})\\b)`);
  const offenders: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (entry.name.endsWith('.ts') && !p.endsWith(path.join('core', 'env-settings.ts'))) {
        const lines = (await readFile(p, 'utf8')).split('\n');
        lines.forEach((line, i) => {
          if (direct.test(line)) offenders.push(`${path.relative(repoRoot, p)}:${i + 1}: ${line.trim()}`);
        });
      }
    }
  };
  await walk(path.join(repoRoot, 'engine'));
  await walk(path.join(repoRoot, 'sandbox'));
  assert.deepEqual(offenders, []);
});
