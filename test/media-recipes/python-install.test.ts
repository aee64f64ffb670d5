import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { AppState } from '../../engine/install/app-state.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

/**
 * The Python app recipes installed for real on this (CPU-only, offline) machine with --force:
 * the venv is really made, ComfyUI's model-paths file really written, and the first step that
 * needs the network — the pinned clone from github.com — fails fast and says which URL.
 */
for (const id of ['comfyui', 'wan2gp']) {
  test(`${id}: install runs for real up to the github clone, which fails clearly offline`, async () => {
    const home = await tempDir();
    try {
      const r = await runCli(['install', path.join(repoRoot, 'recipes', id), '--force'], { home: home.dir, timeoutMs: 120_000 });
      const out = r.stdout + r.stderr;
      assert.notEqual(r.code, 0, out);
      assert.match(out, /github\.com/, out);
      const root = path.join(home.dir, 'apps', id);
      const python = path.join(root, 'env', 'bin', 'python');
      assert.ok(existsSync(python), 'the venv was made');
      const prefix = execFileSync(python, ['-c', 'import sys; print(sys.prefix)'], { encoding: 'utf8' }).trim();
      assert.equal(prefix, path.join(root, 'env'), 'the venv python runs and is isolated');
      const state = JSON.parse(await readFile(path.join(root, 'state.json'), 'utf8')) as AppState;
      assert.equal(state.journal['install:python-env']?.status, 'done');
      assert.equal(state.journal['install:source']?.status, 'failed');
      assert.equal(state.journal['install:requirements'], undefined, 'nothing after the failed clone ran');
      if (id === 'comfyui') {
        assert.equal(state.journal['install:model-paths']?.status, 'done');
        const yaml = await readFile(path.join(root, 'config', 'extra_model_paths.yaml'), 'utf8');
        assert.ok(yaml.includes(`base_path: ${path.join(root, 'models')}`), yaml);
      }

      // Orchard's torch probe (engine/diagnose/probes/torch_probe.py) in this venv: torch is missing.
      const probe = path.join(repoRoot, 'engine', 'diagnose', 'probes', 'torch_probe.py');
      const line = execFileSync(python, [probe], { encoding: 'utf8' })
        .split('\n')
        .find((l) => l.startsWith('ORCHARD_PROBE '));
      assert.ok(line, 'the probe printed its report');
      const report = JSON.parse(line.slice('ORCHARD_PROBE '.length)) as { python: string; torch: string | null; error?: string };
      assert.equal(report.torch, null);
      assert.match(report.error ?? '', /No module named 'torch'/);
      const { torchVerdict } = await import('../../engine/diagnose/probes/python-torch.js');
      const verdict = torchVerdict(report, 'cuda');
      assert.match(verdict.evidence.join('\n'), /torch missing/);
      assert.equal(verdict.fallback, 'full');
    } finally {
      await home.cleanup();
    }
  });
}
