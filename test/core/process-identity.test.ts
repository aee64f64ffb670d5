import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isIdentityAlive, processStartTime, selfIdentity, startFromProcStat } from '../../engine/core/process-identity.js';

test('a process is known by pid and start time: a dead pid or the same pid with another start time is not alive', async () => {
  const me = await selfIdentity();
  assert.equal(me.pid, process.pid);
  assert.ok(me.start !== undefined && me.start !== '', 'this platform tells when a process started');
  assert.equal(await processStartTime(process.pid), me.start, 'stable for a running process');
  assert.equal(await isIdentityAlive(me), true);
  assert.equal(await isIdentityAlive({ pid: process.pid, start: `${me.start}0` }), false, 'a reused pid is another process');
  const dead = spawnSync(process.execPath, ['-e', '']).pid ?? 0;
  assert.equal(await processStartTime(dead), undefined);
  assert.equal(await isIdentityAlive({ pid: dead, ...(me.start !== undefined ? { start: me.start } : {}) }), false);
});

test('field 22 of /proc/<pid>/stat is read after the last parenthesis (a name may hold spaces and parentheses)', {
  skip: process.platform !== 'linux',
}, () => {
  const line = readFileSync('/proc/self/stat', 'utf8');
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  assert.equal(startFromProcStat(line), fields[19]);
  const odd = line.replace(/\(([^)]*)\)/, '(a) b (c)');
  assert.equal(startFromProcStat(odd), fields[19]);
});
