import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parsePsIdentity, processIdentity } from '../../engine/supervisor/process-table.js';
import { recordIsLive, runRecordFile, writeRunRecord, type RunRecord } from '../../engine/supervisor/run-record.js';
import { Supervisor } from '../../engine/supervisor/supervisor.js';
import { tempDir } from '../helpers/paths.js';
import { fixtureSpec } from './helpers.js';

test("a process identity is its start time and command line: /proc on Linux, and this machine's real `ps -o lstart=,command=`", {
  skip: process.platform !== 'linux',
}, async () => {
  const me = await processIdentity(process.pid);
  assert.ok(me);
  const stat = await readFile(`/proc/${process.pid}/stat`, 'utf8');
  assert.equal(me.start, stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19], 'field 22 of /proc/<pid>/stat');
  assert.ok(me.command.split('\0').includes(process.argv[1] ?? '?'), `the command line holds this script: ${me.command}`);
  // The macOS path parses the output of the same ps options procps understands here.
  const ps = parsePsIdentity(execFileSync('ps', ['-o', 'lstart=,command=', '-p', String(process.pid)], { encoding: 'utf8' }));
  assert.ok(ps);
  assert.match(ps.start, /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
  assert.equal(ps.command, me.command.split('\0').join(' '));
  assert.equal(await processIdentity(2 ** 22 + 12345), undefined, 'no such pid');
});

test('a run record is adopted only when pid, start time AND command line all match; a stale one is removed', async () => {
  const { dir, cleanup } = await tempDir();
  const records = path.join(dir, 'run');
  const supervisor = new Supervisor({ metricsIntervalMs: 0, recordDir: records });
  try {
    const me = await processIdentity(process.pid);
    assert.ok(me);
    const base: RunRecord = {
      schema: 1,
      app: 'impostor',
      pid: process.pid,
      identity: me,
      runId: 'x',
      port: 1,
      run: 1,
      restarts: 0,
      startedAt: Date.now(),
      logFile: path.join(dir, 'service.log'),
      spools: { stdout: path.join(dir, 'out'), stderr: path.join(dir, 'err') },
      spec: fixtureSpec(dir, []),
      serverPid: 1,
    };
    assert.equal(await recordIsLive(base), true);
    // A reused pid: same number, another process (start time differs).
    assert.equal(await recordIsLive({ ...base, identity: { ...me, start: String(Number(me.start) + 1) } }), false);
    // Same pid and start, another command line.
    assert.equal(await recordIsLive({ ...base, identity: { ...me, command: `${me.command}\0--other` } }), false);

    await writeRunRecord(records, { ...base, identity: { ...me, start: '1' } });
    assert.deepEqual(await supervisor.adopt(), [], 'a record whose process is not the same one is never adopted');
    assert.equal(existsSync(runRecordFile(records, 'impostor')), false, 'and it is removed');
    assert.equal(supervisor.status('impostor').state, 'stopped');
  } finally {
    await supervisor.close();
    await cleanup();
  }
});
