import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { linuxConstants, parseProcStat, parsePsOutput, processTree, readProcessTable } from '../../engine/supervisor/process-table.js';
import { Supervisor, type AppMetrics } from '../../engine/supervisor/supervisor.js';
import { tempDir } from '../helpers/paths.js';
import { fixtureSpec } from './helpers.js';

const linuxOnly = { skip: process.platform !== 'linux' ? 'reads /proc' : false };

test('/proc/<pid>/stat of this very process parses (name with spaces and parentheses too)', linuxOnly, async () => {
  const { pageSize } = await linuxConstants();
  const own = parseProcStat(await readFile('/proc/self/stat', 'utf8'), pageSize);
  assert.equal(own?.pid, process.pid);
  assert.equal(own?.ppid, process.ppid);
  assert.ok((own?.rssBytes ?? 0) > 1024 * 1024);
  // The kernel's own format with a hostile command name, fields 3.. copied from a real line.
  const real = (await readFile('/proc/self/stat', 'utf8')).replace(/\(.*\)/, '(we ird) (name)');
  assert.equal(parseProcStat(real, pageSize)?.pid, process.pid);
  assert.equal(parseProcStat('garbage', pageSize), undefined);
});

test("ps output (the macOS path) parses, checked against this machine's real ps", async () => {
  const { stdout } = await promisify(execFile)('ps', ['-A', '-o', 'pid=,ppid=,pgid=,rss=,%cpu=,state=']);
  const entries = parsePsOutput(stdout);
  const self = entries.find((e) => e.pid === process.pid);
  assert.ok(self, 'this process is listed');
  assert.equal(self.ppid, process.ppid);
  assert.ok(self.rssBytes > 1024 * 1024);
  assert.equal(parsePsOutput('  12   1  12  2048  1,5 S\nnot a line\n').at(0)?.cpuPercent, 1.5);
});

test('processTree follows parents, the process group and remembered pids', () => {
  const p = (pid: number, ppid: number, pgid: number, startTime?: number) => ({
    pid,
    ppid,
    pgid,
    state: 'S',
    rssBytes: 0,
    ...(startTime ? { startTime } : {}),
  });
  const table = [
    p(1, 0, 1),
    p(100, 1, 100),
    p(101, 100, 100),
    p(102, 101, 102),
    p(103, 1, 100),
    p(104, 1, 104, 7),
    p(105, 1, 105, 9),
    p(200, 1, 200),
  ];
  const tree = processTree(
    table,
    100,
    new Map([
      [104, 7],
      [105, 8],
    ]),
  );
  // 101 child, 102 grandchild in its own group, 103 re-parented but in the group, 104 remembered;
  // 105 has the remembered pid but another start time: a different process.
  assert.deepEqual(tree.map((e) => e.pid).sort(), [100, 101, 102, 103, 104]);
});

test('metrics of a busy child: CPU and RSS from /proc are non-zero and sampled about every second', linuxOnly, async () => {
  const { dir, cleanup } = await tempDir();
  const supervisor = new Supervisor({ metricsIntervalMs: 1000 });
  try {
    const samples: AppMetrics[] = [];
    supervisor.on('metrics', (m) => samples.push(m));
    const status = await supervisor.start('busy', fixtureSpec(dir, ['--busy', '--grandchildren', '1']));
    await new Promise((resolve) => setTimeout(resolve, 3300));
    const table = await readProcessTable();
    assert.ok(table.some((e) => e.pid === status.pid));
    assert.ok(samples.length >= 2 && samples.length <= 5, `${samples.length} samples in 3.3 s`);
    const last = samples.at(-1)!;
    assert.equal(last.app, 'busy');
    assert.equal(last.processes, 2, 'the service and its grandchild');
    assert.ok(last.pids.includes(status.pid!));
    assert.ok(last.rssBytes > 10 * 1024 * 1024, `rss ${last.rssBytes}`);
    assert.ok(last.cpuPercent > 20, `cpu ${last.cpuPercent}%`);
    assert.equal(last.gpus, undefined, 'no ioreg on Linux');
    assert.deepEqual(supervisor.metrics('busy'), last);
  } finally {
    await supervisor.close();
    await cleanup();
  }
});
