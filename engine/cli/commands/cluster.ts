import { isIP } from 'node:net';
import { createInterface } from 'node:readline/promises';
import { styleText } from 'node:util';
import type { Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import { resolveHome } from '../../core/home.js';
import { clusterFit, formatClusterFit } from '../../cluster/cluster-fit.js';
import { engineBinaries } from '../../cluster/engine-build.js';
import { clusterPaths, findHost, readHosts, writeHosts } from '../../cluster/hosts.js';
import { plannedClusterCommands } from '../../cluster/run-commands.js';
import { checkLink, serveEcho, type LinkReport } from '../../cluster/link-check.js';
import { addHost, askPeer, removeHost } from '../../cluster/pairing.js';
import { peerInfo } from '../../cluster/peer-info.js';
import { runWorkerAgent } from '../../cluster/worker-agent.js';
import { probeMachine } from '../../hardware/probe.js';
import { quote } from '../format-plan.js';
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
    .description("Pair a host: create Orchard's SSH key, pin the host key once you approve it, check its Orchard and engine build")
    .option('--name <name>', 'short name for the host (default: the host name)')
    .option('--port <n>', 'SSH port', (v) => positiveInt(v, '--port'), 22)
    .option('--accept-fingerprint <sha256>', 'approve the host key without asking, if it is exactly this SHA256:… fingerprint')
    .option('--orchard <argv>', 'how to run Orchard on the peer, as a JSON array of words (default: ["orchard"])')
    .option(
      '--direct-cable <address>',
      "TRUSTED DIRECT CABLE: skip the SSH tunnel; the peer's RPC server listens on this address of a point-to-point link (e.g. " +
        'RDMA over Thunderbolt), unauthenticated',
    )
    .option('--json', 'print the result as JSON')
    .action(
      action(
        async (
          destination: string,
          opts: { name?: string; port: number; acceptFingerprint?: string; orchard?: string; directCable?: string; json?: boolean },
        ) => {
          const approve = opts.acceptFingerprint ?? (await terminalApproval(destination));
          const r = await addHost({
            home: resolveHome(),
            destination,
            port: opts.port,
            ...(opts.name ? { name: opts.name } : {}),
            orchard: parseOrchard(opts.orchard),
            approve,
            ...(opts.directCable ? { directCable: directCableAddress(opts.directCable) } : {}),
          });
          if (opts.json) return printJson(r);
          printLine(`added ${r.host.name} (${r.host.destination}:${r.host.port}), host key ${r.host.fingerprint} pinned`);
          if (r.host.peer)
            printLine(
              `  ${r.host.peer.platform}, ${r.host.peer.accelerator}, gives ${g(r.host.peer.budgetBytes)}; engine ` +
                `${r.host.peer.engine?.version ?? 'not installed'}`,
            );
          for (const w of r.warnings) printLine(`  warning: ${w}`);
          if (r.host.direct)
            printLine(
              `  ${red('DIRECT CABLE')}: its RPC server will listen on ${r.host.direct.address} with no authentication; use only ` +
                'on a cable between your own machines',
            );
        },
      ),
    );

  cluster
    .command('ls')
    .description("List the cluster's hosts")
    .option('--json', 'print as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const hosts = await readHosts(clusterPaths(resolveHome()));
        if (opts.json) return printJson({ hosts });
        if (hosts.length === 0) return printLine('no cluster hosts; add one with `orchard cluster add <ssh-host>`');
        for (const h of hosts) {
          const p = h.peer;
          printLine(
            `${h.name}  ${h.destination}:${h.port}  ` +
              `${p ? `${p.platform} ${p.accelerator} ${g(p.budgetBytes)} engine ${p.engine?.version ?? 'missing'}` : 'not checked'}` +
              `${h.direct ? '  DIRECT (no tunnel)' : ''}`,
          );
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
            else if (local.engine && host.peer.engine.version !== local.engine.version)
              problems.push(`engine ${host.peer.engine.version} differs from this machine's ${local.engine.version}`);
          } catch (err) {
            problems.push(err instanceof OrchardError ? err.message : String(err));
          }
          const link = host.peer ? await checkLink(paths, host, process.env) : undefined;
          if (link && !link.ok) problems.push(`link check failed: ${link.error ?? ''}`);
          if (link) {
            host.link = {
              ...(link.rttMs ? { rttMs: link.rttMs.median } : {}),
              ...(link.mibPerSecond !== undefined ? { mibPerSecond: link.mibPerSecond } : {}),
              ...(link.error ? { error: link.error } : {}),
              checkedAt: new Date().toISOString(),
            };
          }
          rows.push({
            name: host.name,
            ok: problems.length === 0,
            ...(host.peer ? { peer: host.peer } : {}),
            ...(link ? { link } : {}),
            problems,
          });
        }
        await writeHosts(paths, hosts);
        const result = { head: local, hosts: rows, note: 'A cluster buys memory, not speed.' };
        if (opts.json) printJson(result);
        else {
          printLine(
            `head: ${local.platform} ${local.accelerator} gives ${g(local.budgetBytes)}; engine ` +
              `${local.engine?.version ?? 'not installed'}`,
          );
          for (const r of rows) {
            const l = r.link?.ok ? `RTT ${r.link.rttMs?.median} ms, ${r.link.mibPerSecond} MiB/s over SSH` : 'link not measured';
            printLine(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${l}${r.problems.map((p) => `\n     ${p}`).join('')}`);
          }
        }
        if (rows.some((r) => !r.ok)) process.exitCode = 1;
      }),
    );

  cluster
    .command('plan <model>')
    .description('Every command a cluster run of this model would start, on each node, with the per-node fit — without running anything')
    .requiredOption('--hosts <names>', 'comma-separated cluster host names')
    .option('--context <n>', 'context size in tokens', (v) => positiveInt(v, '--context'))
    .option('--json', 'print as JSON')
    .action(
      action(async (model: string, opts: { hosts: string; context?: number; json?: boolean }) => {
        const home = resolveHome();
        const paths = clusterPaths(home);
        const names = opts.hosts
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean);
        const hosts = await Promise.all(names.map((n) => findHost(paths, n)));
        const fit = await clusterFit(model, names, {
          home,
          machine: await probeMachine(),
          ...(opts.context ? { contextSize: opts.context } : {}),
        });
        let llamaServer = 'llama-server';
        try {
          llamaServer = engineBinaries(home).llamaServer;
        } catch {
          // planned anyway; the run itself refuses without the engine
        }
        const commands = plannedClusterCommands(paths, hosts, {
          llamaServer,
          model,
          tensorSplit: fit.tensorSplit,
          contextSize: fit.contextSize,
        });
        if (opts.json) return printJson({ fit, commands });
        printLine(formatClusterFit(fit));
        printLine('');
        printLine('Commands (nothing listens beyond 127.0.0.1 unless marked):');
        for (const c of commands) {
          printLine(`  [${c.where}] ${c.what}`);
          printLine(`    $ ${c.argv.map(quote).join(' ')}`);
          if (c.remote) printLine(`    runs on ${c.where}: ${c.remote.map(quote).join(' ')}`);
          if (c.danger) printLine(`    ${red(`DANGER: ${c.danger}`)}`);
        }
      }),
    );

  cluster
    .command('self')
    .description("(run on a peer by the head) this machine's Orchard version, engine build and memory budget")
    .option('--json', 'print as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const info = await peerInfo(resolveHome(), await probeMachine());
        if (opts.json) printJson(info);
        else
          printLine(
            `${info.platform} ${info.accelerator}: ${g(info.budgetBytes)} for models; engine ${info.engine?.version ?? 'not installed'}`,
          );
      }),
    );

  cluster
    .command('worker')
    .description('(run on a peer by the head over SSH) start ggml-rpc-server on 127.0.0.1 until the SSH session ends')
    .option('--threads <n>', 'CPU threads for the RPC server', (v) => positiveInt(v, '--threads'))
    .option('--direct-cable <address>', 'listen on this point-to-point address instead of 127.0.0.1 (a host added with --direct-cable)')
    .action(
      action(async (opts: { threads?: number; directCable?: string }) => {
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
          ...(opts.directCable ? { directCable: directCableAddress(opts.directCable) } : {}),
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

/** A direct cable is a literal address of a point-to-point link: never a wildcard or a name. */
function directCableAddress(value: string): string {
  if (isIP(value) === 0 || value === '0.0.0.0' || value === '::') {
    throw new OrchardError('USAGE', `--direct-cable needs the peer's literal IP address on the cable, not "${value}"`, {
      hint: 'e.g. --direct-cable 169.254.10.2 (the Thunderbolt bridge address); never 0.0.0.0.',
    });
  }
  return value;
}

function red(text: string): string {
  return styleText('red', text);
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
  if (
    !Array.isArray(parsed) ||
    parsed.length === 0 ||
    !parsed.every((w): w is string => typeof w === 'string' && w.length > 0 && !w.includes('\0'))
  ) {
    throw new OrchardError('USAGE', '--orchard must be a non-empty JSON array of non-empty strings');
  }
  return parsed;
}

/** Ask on a terminal; without one, refuse and say how to approve non-interactively. */
async function terminalApproval(destination: string): Promise<(key: { fingerprint: string; fingerprints: string[] }) => Promise<boolean>> {
  return async (key) => {
    if (!process.stdin.isTTY) {
      throw new OrchardError('AUTH', `${destination}'s host key is ${key.fingerprint}; nothing approved it`, {
        hint:
          'Check it on the peer (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then run again with --accept-fingerprint ' +
          `${key.fingerprint}`,
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
