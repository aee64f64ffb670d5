/**
 * Reusable batch buffers for one download. Socket chunks are copied into these at once and
 * dropped, so they die young; a chunk held until its batch was written outlived young-generation
 * GCs, got promoted, and only a full mark-compact freed it again (20–70 per 2 GiB here).
 */
export class BatchPool {
  private readonly free: Buffer[] = [];

  constructor(readonly bytes: number) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.bytes);
  }

  give(buffer: Buffer): void {
    this.free.push(buffer);
  }
}
