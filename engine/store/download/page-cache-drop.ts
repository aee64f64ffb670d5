import path from 'node:path';

/**
 * Drop a file's bytes from the kernel's page cache once they are hashed: posix_fadvise with
 * POSIX_FADV_DONTNEED, which Node exposes only through its WASI host (fd_advise). A weight is read
 * back once, to hash it; after that its pages only crowd the cache (a 40 GB download would push
 * out everything else), while the pages the kernel frees go straight back to the next writes.
 *
 * That reuse is what made it worth doing. Writing into fresh page-cache pages costs far more than
 * into recycled ones: on this project's 2-vCPU VM, writing 2 GiB took 4.4 s of system CPU into
 * fresh pages and 0.3 s over cached ones, and a 4 GiB download's writes spent 9 s of system CPU
 * before this and 1.6 s after (the hypervisor backs each fresh guest page on first touch).
 *
 * Only clean pages can be dropped: the writer's periodic fdatasync makes them so, and for dirty
 * ones the call starts the writeback so that a later call drops them. Where the OS has no
 * posix_fadvise (macOS, Windows), uvwasi reports it and the dropper turns itself off.
 */
export type CacheDropper = (through: number) => void;

/** A dropper for `file`, or undefined where Node's WASI host cannot be loaded. */
export async function cacheDropper(file: string): Promise<CacheDropper | undefined> {
  const wasi = await loadWasi();
  if (!wasi) return undefined;
  const dir = path.dirname(file);
  const name = Buffer.from(path.basename(file));
  const host = new wasi.WASI({ version: 'preview1', preopens: { '/': dir }, returnOnExit: true });
  const instance = await WebAssemblyApi.instantiate(await WebAssemblyApi.compile(MODULE), { wasi_snapshot_preview1: host.wasiImport });
  host.initialize(instance);
  const calls = instance.exports as unknown as AdviseExports;
  const memory = Buffer.from(calls.memory.buffer);
  if (name.length > memory.length - PATH_AT) return undefined;
  name.copy(memory, PATH_AT);
  let working = true;
  // Open, advise, close each time: one open descriptor fewer to leak if the worker is stopped.
  // Never throws: a failure only turns the dropper off, the download goes on.
  return (through) => {
    if (!working || through <= 0) return;
    try {
      if (calls.path_open(PREOPEN_FD, 0, PATH_AT, name.length, 0, RIGHT_FD_ADVISE, 0n, 0, FD_AT) !== 0) {
        working = false;
        return;
      }
      const fd = memory.readUInt32LE(FD_AT);
      if (calls.fd_advise(fd, 0n, BigInt(through), ADVICE_DONTNEED) !== 0) working = false;
      calls.fd_close(fd);
    } catch {
      working = false;
    }
  };
}

interface AdviseExports {
  memory: { buffer: ArrayBuffer };
  path_open(
    dirFd: number,
    dirFlags: number,
    pathAt: number,
    pathLength: number,
    oFlags: number,
    rightsBase: bigint,
    rightsInheriting: bigint,
    fdFlags: number,
    fdAt: number,
  ): number;
  fd_advise(fd: number, offset: bigint, length: bigint, advice: number): number;
  fd_close(fd: number): number;
}

interface WasiModule {
  WASI: new (options: {
    version: 'preview1';
    preopens: Record<string, string>;
    returnOnExit: boolean;
  }) => {
    wasiImport: Record<string, unknown>;
    initialize(instance: object): void;
  };
}

// TypeScript declares WebAssembly in lib.dom, which the engine does not load; Node has it built in.
const WebAssemblyApi = (
  globalThis as unknown as {
    WebAssembly: {
      compile(bytes: Uint8Array): Promise<object>;
      instantiate(module: object, imports: object): Promise<{ exports: object }>;
    };
  }
).WebAssembly;

/**
 * node:wasi prints "ExperimentalWarning: WASI is an experimental feature" as it loads. The only
 * call used here (fd_advise) is plain posix_fadvise, and the warning would reach every CLI user:
 * that one warning is held back while the module loads; any other passes through.
 */
async function loadWasi(): Promise<WasiModule | undefined> {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/\bWASI\b/.test(text)) return;
    (emitWarning as (w: string | Error, ...r: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return (await import('node:wasi')) as unknown as WasiModule;
  } catch {
    return undefined;
  } finally {
    process.emitWarning = emitWarning;
  }
}

const PREOPEN_FD = 3; // WASI numbers preopened directories from 3
const RIGHT_FD_ADVISE = 1n << 7n;
const ADVICE_DONTNEED = 4;
const FD_AT = 8; // where path_open stores the new descriptor in the module's memory
const PATH_AT = 16; // where the file name goes

/**
 * A WebAssembly module with one page of memory that re-exports three WASI calls, so JavaScript can
 * make them: (import "wasi_snapshot_preview1" "fd_advise"|"path_open"|"fd_close") and exports of
 * the same names, plus "memory".
 */
const MODULE = (() => {
  const text = (s: string) => [s.length, ...Buffer.from(s)];
  // One byte holds a section's length (LEB128) while it is under 128, as all of these are.
  const section = (id: number, body: number[]) => {
    if (body.length > 127) throw new Error('wasm section too long for a one-byte length');
    return [id, body.length, ...body];
  };
  const [i32, i64, func] = [0x7f, 0x7e, 0x60];
  const wasi = text('wasi_snapshot_preview1');
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, [
      3, // types: fd_advise, path_open, fd_close
      ...[func, 4, i32, i64, i64, i32, 1, i32],
      ...[func, 9, i32, i32, i32, i32, i32, i64, i64, i32, i32, 1, i32],
      ...[func, 1, i32, 1, i32],
    ]),
    ...section(2, [3, ...wasi, ...text('fd_advise'), 0, 0, ...wasi, ...text('path_open'), 0, 1, ...wasi, ...text('fd_close'), 0, 2]),
    ...section(5, [1, 0, 1]), // one memory, at least one 64 KiB page
    ...section(7, [4, ...text('memory'), 2, 0, ...text('fd_advise'), 0, 0, ...text('path_open'), 0, 1, ...text('fd_close'), 0, 2]),
  ]);
})();
