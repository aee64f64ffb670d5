import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { cacheDropper } from './page-cache-drop.js';

/**
 * The thread behind InOrderHasher: reads the part file back (from the page cache) and hashes it up
 * to the contiguous prefix it is told about. Off the main thread, sha256 (about 0.6 s per GiB here)
 * no longer competes with receiving the bytes. Every DROP_EVERY bytes it hashes, it lets the kernel
 * drop the hashed prefix from the page cache (see page-cache-drop.ts).
 */
export type HashRequest = { kind: 'extend'; through: number } | { kind: 'reset' } | { kind: 'finish'; through: number };
export type HashReply =
  | { kind: 'hashed'; hashed: number }
  | { kind: 'reset' }
  | { kind: 'digest'; hex: string }
  | { kind: 'error'; message: string };

const READ_BACK = 4 * 2 ** 20;
const DROP_EVERY = 64 * 2 ** 20;

if (parentPort) {
  const port = parentPort;
  const { file, fd: sharedFd } = workerData as { file: string; fd?: number };
  // A shared descriptor (the caller's, same process) is the caller's to close.
  const fd = sharedFd ?? openSync(file, 'r');
  // Best effort: without it the download is the same, only its pages stay cached.
  const drop = await cacheDropper(file).catch(() => undefined);
  let droppedAt = 0;
  const buf = Buffer.allocUnsafeSlow(READ_BACK);
  let hash: Hash = createHash('sha256');
  let hashed = 0;
  let failed = false;

  const hashThrough = (through: number): void => {
    while (hashed < through) {
      const bytesRead = readSync(fd, buf, 0, Math.min(READ_BACK, through - hashed), hashed);
      if (bytesRead <= 0) throw new Error(`the part file is shorter than its recorded ranges (at byte ${hashed})`);
      hash.update(buf.subarray(0, bytesRead));
      hashed += bytesRead;
      // From byte 0 each time: pages that were still dirty at an earlier call go once written back.
      if (drop && hashed - droppedAt >= DROP_EVERY) {
        droppedAt = hashed;
        drop(hashed);
      }
    }
  };
  const reply = (m: HashReply): void => port.postMessage(m);

  port.on('message', (m: HashRequest) => {
    if (m.kind === 'reset') {
      hash = createHash('sha256');
      hashed = 0;
      droppedAt = 0;
      failed = false;
      reply({ kind: 'reset' });
      return;
    }
    if (failed) return;
    try {
      hashThrough(m.through);
      if (m.kind === 'finish') {
        if (sharedFd === undefined) closeSync(fd);
        reply({ kind: 'digest', hex: hash.digest('hex') });
        port.close();
      } else reply({ kind: 'hashed', hashed });
    } catch (err) {
      failed = true;
      reply({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  });
}
