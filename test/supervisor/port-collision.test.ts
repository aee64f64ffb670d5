import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { allocatePort, isPortFree } from '../../engine/core/port.js';
import { Supervisor } from '../../engine/supervisor/supervisor.js';
import { tempDir } from '../helpers/paths.js';
import { fixtureSpec } from './helpers.js';

/** A foreign program holding a port, answering 200 on every path (the worst case: readiness would pass). */
async function squatter(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => res.end('{"status":"ok","pid":0}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test('allocatePort gives distinct free ports', async () => {
  const ports = await Promise.all([allocatePort(), allocatePort(), allocatePort()]);
  assert.equal(new Set(ports).size, 3);
  for (const port of ports) assert.ok(await isPortFree(port));
  const busy = await squatter();
  try {
    assert.equal(await isPortFree(busy.port), false);
  } finally {
    await busy.close();
  }
});

test('the allocated port was taken before the service bound it: retried on a new port', async () => {
  const { dir, cleanup } = await tempDir();
  const taken = await squatter();
  const handed: number[] = [];
  const supervisor = new Supervisor({
    metricsIntervalMs: 0,
    // The race, made certain: the first port handed out is already someone else's.
    allocatePort: async () => {
      const port = handed.length === 0 ? taken.port : await allocatePort();
      handed.push(port);
      return port;
    },
  });
  try {
    const status = await supervisor.start('racer', fixtureSpec(dir, ['--listen-after', '300']));
    assert.equal(status.state, 'ready');
    assert.equal(handed.length, 2);
    assert.notEqual(status.port, taken.port);
    assert.equal(status.port, handed[1]);
    const body = (await (await fetch(`http://127.0.0.1:${status.port}/health`)).json()) as { pid: number };
    assert.equal(body.pid, status.pid, 'the answer comes from our service, not the squatter');
    assert.ok(supervisor.logs('racer').some((l) => l.stream === 'system' && l.line.includes(`port ${taken.port} was taken`)));
    assert.equal(status.restarts, 0, 'a port retry is not a restart');
  } finally {
    await supervisor.close();
    await taken.close();
    await cleanup();
  }
});

test('a service whose worker child holds the listening socket is recognised as ours', async () => {
  const { dir, cleanup } = await tempDir();
  let allocations = 0;
  const supervisor = new Supervisor({
    metricsIntervalMs: 0,
    allocatePort: () => {
      allocations++;
      return allocatePort();
    },
  });
  try {
    const status = await supervisor.start('workers', fixtureSpec(dir, ['--listen-in-child']));
    assert.equal(status.state, 'ready');
    assert.equal(allocations, 1, 'no retry: the listener is in our tree');
    const body = (await (await fetch(`http://127.0.0.1:${status.port}/health`)).json()) as { pid: number };
    assert.notEqual(body.pid, status.pid, 'a child answered');
  } finally {
    await supervisor.close();
    await cleanup();
  }
});

test('a fixed port that is taken fails with a clear error', async () => {
  const { dir, cleanup } = await tempDir();
  const taken = await squatter();
  const supervisor = new Supervisor({ metricsIntervalMs: 0 });
  try {
    await assert.rejects(supervisor.start('fixed', fixtureSpec(dir, [], { port: taken.port })), (err: Error) => {
      // Seen either way: the squatter answers readiness but is not ours, or the service dies on EADDRINUSE.
      assert.match(err.message, new RegExp(`port ${taken.port} is used by another program|EADDRINUSE`));
      return true;
    });
    assert.equal(supervisor.status('fixed').state, 'crashed');
  } finally {
    await supervisor.close();
    await taken.close();
    await cleanup();
  }
});
