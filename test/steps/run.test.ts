import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isOrchardError } from '../../engine/core/errors.js';
import type { LogEvent } from '../../engine/core/events.js';
import { runStep } from '../../engine/steps/run.js';
import { detectConfinement } from '../../sandbox/confinement.js';
import { tempDir } from '../helpers/paths.js';
import { makeTestApp, plannedStep, runParams, stepContext, type TestApp } from './context.js';

let root: string;
let cleanup: () => Promise<void>;
let t: TestApp;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard run '));
  t = await makeTestApp(root, 'run app');
});
after(() => cleanup());

test('output goes to the step log and as log events; argv with spaces is passed untouched; cwd is the app folder', async () => {
  const step = plannedStep('run', runParams(['/bin/sh', '-c', 'echo "arg=$1"; pwd; echo "to stderr" >&2', 'sh', 'two words'], t.app.app), {
    key: 'echo',
  });
  const ctx = await stepContext(t, step.key);
  await runStep(step, ctx);
  const log = await readFile(ctx.log.file, 'utf8');
  assert.equal(ctx.log.file, path.join(t.app.logs, 'install-echo.log'));
  assert.match(log, /^arg=two words$/m);
  assert.match(log, new RegExp(`^${(await realpath(t.app.app)).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  assert.match(log, /^! to stderr$/m);
  const lines = t.events.filter((e): e is LogEvent => e.type === 'log' && e.step === 'echo');
  assert.ok(lines.some((e) => e.stream === 'stdout' && e.line === 'arg=two words'));
  assert.ok(lines.some((e) => e.stream === 'stderr' && e.line === 'to stderr'));
});

test('a non-zero exit fails naming the step, the command, the exit code and the log file', async () => {
  const step = plannedStep('run', runParams(['/bin/sh', '-c', 'echo about to fail; exit 3'], t.app.app), { key: 'fails' });
  const ctx = await stepContext(t, step.key);
  await assert.rejects(runStep(step, ctx), (err: unknown) => {
    assert.ok(isOrchardError(err));
    assert.equal(err.code, 'STEP_FAILED');
    assert.match(
      err.message,
      /step "test run" failed: `\/bin\/sh -c 'echo about to fail; exit 3'` exited with code 3; last output: about to fail/,
    );
    assert.match(err.where ?? '', /install\/fails \(run step at \/install\/0\)/);
    assert.ok(err.hint?.includes(ctx.log.file));
    return true;
  });
  const missing = plannedStep('run', runParams(['no-such-program-orchard'], t.app.app), { key: 'missing' });
  await assert.rejects(
    runStep(missing, await stepContext(t, missing.key)),
    (err: unknown) => isOrchardError(err) && err.code === 'STEP_FAILED' && /no-such-program-orchard/.test(err.message),
  );
});

test('a shell string runs only as a shell step; the recipe env is added on top of the sandbox env', async () => {
  const step = plannedStep(
    'run',
    runParams([], t.app.app, {
      argv: undefined,
      shell: true,
      shellCommand: 'echo "$GREETING from $HOME" > "out put.txt"',
      env: { GREETING: 'hi there' },
    }),
    { key: 'shell' },
  );
  await runStep(step, await stepContext(t, step.key));
  assert.equal(await readFile(path.join(t.app.app, 'out put.txt'), 'utf8'), `hi there from ${t.app.home}\n`);
});

test('the timeout kills the whole process group', async () => {
  // A grandchild (started in the background by the shell) would write this file after 2.5 s:
  // only killing the whole group (or the sandbox) stops it. Pids are not used: under bwrap they are namespaced.
  const late = path.join(t.app.tmp, 'late.txt');
  const step = plannedStep('run', runParams(['/bin/sh', '-c', `(sleep 2.5; echo late > "${late}") & sleep 30`], t.app.app), {
    key: 'slow',
    timeoutMs: 1000,
  });
  const started = Date.now();
  await assert.rejects(runStep(step, await stepContext(t, step.key)), (err: unknown) => {
    assert.ok(isOrchardError(err) && err.code === 'STEP_FAILED', String(err));
    assert.match(err.message, /timed out after 1 s/);
    return true;
  });
  assert.ok(Date.now() - started < 8000, 'did not wait for the sleep');
  await new Promise((r) => setTimeout(r, Math.max(0, started + 3500 - Date.now())));
  assert.equal(existsSync(late), false, 'the background grandchild was killed too');
});

test('cancellation through the signal kills the process and reports CANCELLED', async () => {
  const controller = new AbortController();
  const step = plannedStep('run', runParams(['/bin/sh', '-c', 'echo started; sleep 30'], t.app.app), { key: 'cancel me' });
  const ctx = await stepContext(t, step.key, { signal: controller.signal });
  const started = Date.now();
  setTimeout(() => controller.abort(), 500);
  await assert.rejects(runStep(step, ctx), (err: unknown) => isOrchardError(err) && err.code === 'CANCELLED');
  assert.ok(Date.now() - started < 10_000);
  assert.match(await readFile(ctx.log.file, 'utf8'), /cancelled/);
});

test('a cwd outside the app folder is refused before anything runs', async () => {
  const marker = path.join(root, 'ran.txt');
  const step = plannedStep('run', runParams(['/bin/sh', '-c', `touch "${marker}"`], root), { key: 'escape cwd' });
  await assert.rejects(runStep(step, await stepContext(t, step.key)), (err: unknown) => isOrchardError(err) && err.code === 'PATH_ESCAPE');
  assert.equal(existsSync(marker), false);
});

test('a run step writing outside its app folder fails where confinement is available', async (ctxT) => {
  const confinement = await detectConfinement();
  if (!confinement.available) {
    ctxT.skip(`SKIPPED: confinement is not available on this machine (${confinement.note})`);
    return;
  }
  const outside = path.join(root, 'escaped.txt');
  const step = plannedStep(
    'run',
    runParams(['/bin/sh', '-c', 'echo inside > inside.txt && echo escaped > "$1"', 'sh', outside], t.app.app),
    { key: 'confined' },
  );
  const ctx = await stepContext(t, step.key);
  await assert.rejects(
    runStep(step, ctx),
    (err: unknown) => isOrchardError(err) && err.code === 'STEP_FAILED' && /exited with code/.test(err.message),
  );
  assert.equal(await readFile(path.join(t.app.app, 'inside.txt'), 'utf8'), 'inside\n', 'the app folder stays writable');
  assert.equal(existsSync(outside), false, 'nothing was written outside');
  assert.match(await readFile(ctx.log.file, 'utf8'), new RegExp(`confined: ${confinement.mechanism}`));
});
