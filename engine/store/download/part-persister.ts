import type { InOrderHasher } from './in-order-hasher.js';
import { writePartialState, type PartialState } from './partial-state.js';
import type { RangeSet } from './range-set.js';

/** How often, at most, the sidecar of a download in progress is rewritten. */
const PERSIST_EVERY_MS = 20;

/** Writes the sidecar at most every PERSIST_EVERY_MS: a SIGKILL loses only what arrived since. */
export class Persister {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;

  constructor(
    private readonly partFile: string,
    private readonly state: PartialState,
    private readonly done: RangeSet,
    private readonly hasher: InOrderHasher,
  ) {}

  markDirty(): void {
    this.dirty = true;
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => undefined);
    }, PERSIST_EVERY_MS);
  }

  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    this.dirty = false;
    this.state.done = this.done.toJSON();
    this.state.hashedThrough = this.hasher.hashed;
    this.writing = writePartialState(this.partFile, this.state).finally(() => {
      this.writing = undefined;
    });
    await this.writing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dirty) await this.flush();
    while (this.writing) await this.writing;
  }
}
