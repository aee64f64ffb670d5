import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { execa } from 'execa';

/** One process as the supervisor sees it. CPU time and start time are only known on Linux. */
export interface ProcessEntry {
  pid: number;
  ppid: number;
  pgid: number;
  /** 'Z' for zombies (dead, waiting to be reaped). */
  state: string;
  /** Linux: clock ticks since boot when it started, to tell a reused pid from the original. */
  startTime?: number;
  /** Linux: utime + stime in clock ticks. */
  cpuTicks?: number;
  /** Resident memory in bytes. */
  rssBytes: number;
  /** macOS: ps's own %cpu (a decaying average). */
  cpuPercent?: number;
}

/**
 * Parse /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself contain
 * spaces and parentheses, so fields are counted from the last `)`.
 */
export function parseProcStat(text: string, pageSize: number): ProcessEntry | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const field = (n: number): number => Number(rest[n - 3]);
  if (rest.length < 22 || !Number.isInteger(pid)) return undefined;
  const entry: ProcessEntry = {
    pid,
    state: rest[0] ?? '?',
    ppid: field(4),
    pgid: field(5),
    cpuTicks: field(14) + field(15),
    startTime: field(22),
    rssBytes: field(24) * pageSize,
  };
  return Object.values(entry).some((v) => typeof v === 'number' && !Number.isFinite(v)) ? undefined : entry;
}

/** Parse `ps -A -o pid=,ppid=,pgid=,rss=,%cpu=,state=` (macOS and Linux procps agree on these). */
export function parsePsOutput(text: string): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 6) continue;
    const [pid, ppid, pgid, rssKiB, cpu] = cols.slice(0, 5).map((c) => Number(c.replace(',', '.')));
    if (![pid, ppid, pgid, rssKiB, cpu].every((v) => v !== undefined && Number.isFinite(v))) continue;
    out.push({
      pid: pid as number,
      ppid: ppid as number,
      pgid: pgid as number,
      rssBytes: (rssKiB as number) * 1024,
      cpuPercent: cpu as number,
      state: (cols[5] ?? '?').charAt(0),
    });
  }
  return out;
}

let linuxPageSize: number | undefined;
let linuxTicks: number | undefined;

/** Page size and clock ticks per second (getconf; the usual Linux values when it is missing). */
export async function linuxConstants(): Promise<{ pageSize: number; ticksPerSecond: number }> {
  if (linuxPageSize === undefined || linuxTicks === undefined) {
    const ask = async (name: string, fallback: number): Promise<number> => {
      const result = await execa('getconf', [name], { reject: false, timeout: 2000 });
      const value = Number(String(result.stdout).trim());
      return result.exitCode === 0 && value > 0 ? value : fallback;
    };
    linuxPageSize = await ask('PAGESIZE', 4096);
    linuxTicks = await ask('CLK_TCK', 100);
  }
  return { pageSize: linuxPageSize, ticksPerSecond: linuxTicks };
}

/** Every process on the machine: /proc on Linux, `ps` elsewhere. */
export async function readProcessTable(): Promise<ProcessEntry[]> {
  if (process.platform === 'linux') return readProcTable();
  const result = await execa('ps', ['-A', '-o', 'pid=,ppid=,pgid=,rss=,%cpu=,state='], { reject: false, timeout: 5000 });
  return parsePsOutput(String(result.stdout));
}

async function readProcTable(): Promise<ProcessEntry[]> {
  const { pageSize } = await linuxConstants();
  const names = await readdir('/proc');
  const entries = await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      .map(async (n) => {
        const text = await readFile(`/proc/${n}/stat`, 'utf8').catch(() => undefined);
        return text === undefined ? undefined : parseProcStat(text, pageSize);
      }),
  );
  return entries.filter((e): e is ProcessEntry => e !== undefined);
}

/** Resident memory from /proc/<pid>/statm (pages → bytes); undefined once the process is gone. */
export async function readStatmRss(pid: number, pageSize: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/statm`, 'utf8').catch(() => undefined);
  const resident = text === undefined ? NaN : Number(text.trim().split(/\s+/)[1]);
  return Number.isFinite(resident) ? resident * pageSize : undefined;
}

/**
 * The process tree of a service: descendants of `rootPid` by parent link, plus anything still in
 * its process group (which it leads, as it was spawned detached), plus `known` processes seen in
 * the tree before that have since been re-parented (a grandchild that called setsid and whose
 * parent died). Zombies are left out: they are already dead.
 */
export function processTree(table: ProcessEntry[], rootPid: number, known: Map<number, number | undefined> = new Map()): ProcessEntry[] {
  const byParent = new Map<number, ProcessEntry[]>();
  for (const p of table) {
    const list = byParent.get(p.ppid);
    if (list) list.push(p);
    else byParent.set(p.ppid, [p]);
  }
  const found = new Map<number, ProcessEntry>();
  const visit = (p: ProcessEntry): void => {
    if (found.has(p.pid)) return;
    found.set(p.pid, p);
    for (const child of byParent.get(p.pid) ?? []) visit(child);
  };
  for (const p of table) {
    const knownStart = known.get(p.pid);
    const sameKnown = known.has(p.pid) && (knownStart === undefined || p.startTime === undefined || knownStart === p.startTime);
    if (p.pid === rootPid || p.pgid === rootPid || sameKnown) visit(p);
  }
  return [...found.values()].filter((p) => p.state !== 'Z');
}

/** The environment variable that marks every process of one service run (inherited by all it starts). */
export const RUN_MARKER_ENV = 'ORCHARD_RUN_ID';

/**
 * Linux: every process (of this user: others' environ is unreadable) whose environment carries
 * `ORCHARD_RUN_ID=<runId>`. This finds what left the process group and lost its parent link
 * (a double-forked daemon that called setsid) even when nobody saw it while its parent lived.
 * Elsewhere: none (the process group and the pids seen before are all there is).
 */
export async function markedPids(runId: string): Promise<number[]> {
  if (process.platform !== 'linux') return [];
  const needle = Buffer.from(`\0${RUN_MARKER_ENV}=${runId}\0`);
  const names = (await readdir('/proc').catch(() => [] as string[])).filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid);
  const found = await Promise.all(
    names.map(async (n) => {
      const env = await readFile(`/proc/${n}/environ`).catch(() => undefined);
      return env && hasMarker(env, needle) ? Number(n) : undefined;
    }),
  );
  return found.filter((p): p is number => p !== undefined);
}

/** The same, synchronously (for the last-resort kill when Orchard exits). */
export function markedPidsSync(runId: string): number[] {
  if (process.platform !== 'linux') return [];
  const needle = Buffer.from(`\0${RUN_MARKER_ENV}=${runId}\0`);
  const out: number[] = [];
  let names: string[] = [];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    try {
      if (hasMarker(readFileSync(`/proc/${n}/environ`), needle)) out.push(Number(n));
    } catch {
      // Gone, or not ours.
    }
  }
  return out;
}

function hasMarker(environ: Buffer, needle: Buffer): boolean {
  // environ is NUL-separated with no leading NUL: match the first entry too.
  return environ.indexOf(needle) >= 0 || environ.subarray(0, needle.length - 1).equals(needle.subarray(1));
}

/** Who a pid is: its start time and command line, so a reused pid is never mistaken for our process. */
export interface ProcessIdentity {
  /** Linux: /proc/<pid>/stat field 22 (clock ticks since boot); macOS: `ps -o lstart=`. */
  start: string;
  /** Linux: /proc/<pid>/cmdline (arguments joined by NUL); macOS: `ps -o command=`. */
  command: string;
}

/** The identity of a live (not zombie) process, or undefined when there is none with this pid. */
export async function processIdentity(pid: number): Promise<ProcessIdentity | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (process.platform === 'linux') {
    const [stat, cmdline] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined),
      readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined),
    ]);
    const entry = stat === undefined ? undefined : parseProcStat(stat, 4096);
    if (!entry || entry.state === 'Z' || entry.startTime === undefined || cmdline === undefined) return undefined;
    return { start: String(entry.startTime), command: cmdline.replace(/\0$/, '') };
  }
  const result = await execa('ps', ['-o', 'lstart=,command=', '-p', String(pid)], { reject: false, timeout: 5000 });
  return parsePsIdentity(String(result.stdout));
}

/** `ps -o lstart=,command=`: lstart is a fixed 24-character date ("Fri Dec  4 17:25:27 2026"). */
export function parsePsIdentity(text: string): ProcessIdentity | undefined {
  const line = text
    .split('\n')
    .find((l) => l.trim() !== '')
    ?.trimStart();
  if (!line || line.length < 26) return undefined;
  const start = line.slice(0, 24).trim();
  const command = line.slice(24).trim();
  return start && command ? { start, command } : undefined;
}
