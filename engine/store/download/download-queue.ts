import PQueue from 'p-queue';

/**
 * One queue per process limits how many files download at once across every install running in
 * it (the API server may run several); each file still uses its own parallel connections.
 */
export const DEFAULT_CONCURRENT_FILES = 2;

let queue: PQueue | undefined;

export function downloadQueue(): PQueue {
  queue ??= new PQueue({ concurrency: DEFAULT_CONCURRENT_FILES });
  return queue;
}

export function setConcurrentDownloads(files: number): void {
  downloadQueue().concurrency = Math.max(1, Math.floor(files));
}
