import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import { resolveHome } from '../../core/home.js';
import { clusterPaths, readHosts, writeHosts } from '../../cluster/hosts.js';
import { checkLink, serveEcho, type LinkReport } from '../../cluster/link-check.js';
import { addHost, askPeer, removeHost } from '../../cluster/pairing.js';
import { peerInfo } from '../../cluster/peer-info.js';
import { runWorkerAgent } from '../../cluster/worker-agent.js';
import { probeMachine } from '../../hardware/probe.js';
import { action, printJson, printLine } from '../output.js';

const GiB = 1024 ** 3;
const g = (b: number) => `${(b / GiB).toFixed(1)} GiB`;

/**
 * `orchard cluster …`: pair SSH hosts (add/ls/rm), check them (doctor), and the peer-side
 * commands the head runs over SSH (self, worker, echo).
 */
export function register(program: Command): void {
  const cluster = program.command('cluster').description('Run one model across several machines (llama.cpp RPC over SSH tunnels)');

  cluster
    .command('add <ssh-host>')
    .description('Pair a host: create Orchard\'s SSH key, pin the host key once you approve it, check its Orchard and engine build')
    .option('--name <name>', 'short name for the host (default: the host name)')
    .option('--port <n>', 'SSH port', (v) => positiveInt(v, '--port'), 22)
    .option('--accept-fingerprint <sha256>', 'approve the host key without asking, if it is exactly this SHA256:… fingerprint')
    .option('--orchard <argv>', 'how to run Orchard on the peer, as a JSON array of words (default: ["orchard"])')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (destination: string, opts: { name?: string; port: number; acceptFingerprint?: string; orchard?: string; json?: boolean }) => {
        const approve = opts.acceptFingerprint ?? (await terminalApproval(destination));
        const r = await addHost({ home: resolveHome(), destination, port: opts.port, ...(opts.name ? { name: opts.name } : {}), orchard: parseOrchard(opts.orchard), approve });
        if (opts.json) return printJson(r);
        printLine(`added ${r.host.name} (${r.host.destination}:${r.host.port}), host key ${r.host.fingerprint} pinned`);
        if (r.host.peer) printLine(`  ${r.host.peer.platform}, ${r.host.peer.accelerator}, gives ${g(r.host.peer.budgetBytes)}; engine ${r.host.peer.engine?.version ?? 'not installed'}`);
        for (const w of r.warnings) printLine(`  warning: ${w}`);
      }),
    );

  cluster
    .command('ls')
    .description('List the cluster\'s hosts')
    .option('--json', 'print as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const hosts = await readHosts(clusterPaths(resolveHome()));
        if (opts.json) return printJson({ hosts });
        if (hosts.length === 0) return printLine('no cluster hosts; add one with `orchard cluster add <ssh-host>`');
        for (const h of hosts) {
          const p = h.peer;
          printLine(`${h.name}  ${h.destination}:${h.port}  ${p ? `${p.platform} ${p.accelerator} ${g(p.budgetBytes)} engine ${p.engine?.version ?? 'missing'}` : 'not checked'}${h.direct ? '  DIRECT (no tunnel)' : ''}`);
        }
      }),
    );

  cluster
    .command('rm <name>')
    .description('Forget a host and its pinned key')
    .option('--json', 'print as JSON')
    .action(
      action(async (name: string, opts: { json?: boolean }) => {
        const host = await removeHost(resolveHome(), name);
        if (opts.json) printJson({ removed: host.name });
        else printLine(`removed ${host.name}`);
      }),
    );

  cluster
    .command('doctor')
    .description('Check every host: login with the pinned key, Orchard and engine versions, memory budget, link RTT and bandwidth')
    .option('--json', 'print as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const home = resolveHome();
        const paths = clusterPaths(home);
        const hosts = await readHosts(paths);
        const local = await peerInfo(home, await probeMachine());
        const rows: { name: string; ok: boolean; peer?: unknown; link?: LinkReport; problems: string[] }[] = [];
        for (const host of hosts) {
          const problems: string[] = [];
          try {
            host.peer = await askPeer(paths, host, process.env);
            if (!host.peer.engine) problems.push('no llama.cpp engine installed (orchard install llamacpp-engine on the peer)');
            else if (local.engine && host.peer.engine.version !== local.engine.version) problems.push(`engine ${host.peer.engine.version} differs from this machine's ${local.engine.version}`);
          } catch (err) {
            problems.push(err instanceof OrchardError ? err.message : String(err));
          }
          const link = host.peer ? await checkLink(paths, host, process.env) : undefined;
          if (link && !link.ok) problems.push(`link check failed: ${link.error ?? ''}`);
          rows.push({ name: host.name, ok: problems.length === 0, ...(host.peer ? { peer: host.peer } : {}), ...(link ? { link } : {}), problems });
        }
        await writeHosts(paths, hosts);
        const result = { head: local, hosts: rows, note: 'A cluster buys memory, not speed.' };
        if (opts.json) printJson(result);
        else {
          printLine(`head: ${local.platform} ${local.accelerator} gives ${g(local.budgetBytes)}; engine ${local.engine?.version ?? 'not installed'}`);
          for (const r of rows) {
            const l = r.link?.ok ? `RTT ${r.link.rttMs?.median} ms, ${r.link.mibPerSecond} MiB/s over SSH` : 'link not measured';
            printLine(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${l}${r.problems.map((p) => `\n     ${p}`).join('')}`);
          }
        }
        if (rows.some((r) => !r.ok)) process.exitCode = 1;
      }),
    );

  cluster
    .command('self')
    .description('(run on a peer by the head) this machine\'s Orchard version, engine build and memory budget')
    .option('--json', 'print as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const info = await peerInfo(resolveHome(), await probeMachine());
        if (opts.json) printJson(info);
        else printLine(`${info.platform} ${info.accelerator}: ${g(info.budgetBytes)} for models; engine ${info.engine?.version ?? 'not installed'}`);
      }),
    );

  cluster
    .command('worker')
    .description('(run on a peer by the head over SSH) start ggml-rpc-server on 127.0.0.1 until the SSH session ends')
    .option('--threads <n>', 'CPU threads for the RPC server', (v) => positiveInt(v, '--threads'))
    .action(
      action(async (opts: { threads?: number }) => {
        const headGone = new Promise<void>((resolve) => {
          process.stdin.on('end', resolve);
          process.stdin.on('close', resolve);
          process.stdin.resume();
          for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) process.once(signal, () => resolve());
          // The head is gone when stdout (the SSH channel) breaks.
          process.stdout.on('error', () => resolve());
        });
        process.exitCode = await runWorkerAgent({
          home: resolveHome(),
          env: process.env,
          ...(opts.threads ? { threads: opts.threads } : {}),
          emit: (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
          log: (line) => process.stderr.write(`${line}\n`),
          headGone,
        });
        process.exit();
      }),
    );

  cluster
    .command('echo')
    .description('(run on a peer by `cluster doctor`) answer link round-trip and bandwidth probes on stdin/stdout')
    .action(action(() => serveEcho(process.stdin, process.stdout)));
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new OrchardError('USAGE', `${name} must be a positive integer, not "${value}"`);
  return n;
}

function parseOrchard(value: string | undefined): string[] {
  if (value === undefined) return ['orchard'];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new OrchardError('USAGE', '--orchard must be a JSON array of words, e.g. \'["/opt/homebrew/bin/orchard"]\'');
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((w): w is string => typeof w === 'string' && w.length > 0 && !w.includes('\0'))) {
    throw new OrchardError('USAGE', '--orchard must be a non-empty JSON array of non-empty strings');
  }
  return parsed;
}

/** Ask on a terminal; without one, refuse and say how to approve non-interactively. */
async function terminalApproval(destination: string): Promise<(key: { fingerprint: string; fingerprints: string[] }) => Promise<boolean>> {
  return async (key) => {
    if (!process.stdin.isTTY) {
      throw new OrchardError('AUTH', `${destination}'s host key is ${key.fingerprint}; nothing approved it`, {
        hint: `Check it on the peer (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then run again with --accept-fingerprint ${key.fingerprint}`,
      });
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      process.stderr.write(`The host key of ${destination} is:\n  ${key.fingerprints.join('\n  ')}\n`);
      const answer = await rl.question('Is this the key of the machine you mean (compare on the peer with ssh-keygen -lf)? [y/N] ');
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  };
}
