import type { Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import { resolveHome } from '../../core/home.js';
import { engineBinaries } from '../../cluster/engine-build.js';
import { clusterFit } from '../../cluster/cluster-fit.js';
import { clusterPaths, findHost } from '../../cluster/hosts.js';
import { appScope } from '../../../sandbox/index.js';
import { resolveModelPath } from '../../fit/model-path.js';
import { probeMachine } from '../../hardware/probe.js';
import { startHeadService } from './head-service.js';
import { action } from '../../core/output.js';

/**
 * `orchard service llm-cluster`: the head of a cluster as an Orchard service (what an LLM recipe
 * runs when its `hosts` input names cluster hosts): its entry point, dispatched to by the CLI's
 * `orchard service` (engine/cli/commands/service.ts).
 */
export function registerClusterService(service: Command): void {
  service
    .command('llm-cluster')
    .description(
      "OpenAI-compatible llama-server on this machine with the model's layers spread over cluster hosts (llama.cpp RPC over SSH)",
    )
    .requiredOption('--model <file>', 'the GGUF model (first part of a split model)')
    .requiredOption('--hosts <names>', 'comma-separated cluster host names (orchard cluster ls)')
    .requiredOption('--port <port>', 'the API port on 127.0.0.1', (v) => Number(v))
    .option('--context <n>', 'context size in tokens (default: min(model, 4096))', (v) => Number(v))
    .option('--threads <n>', 'CPU threads for llama-server', (v) => Number(v))
    .option('--parallel <n>', 'parallel sequences (llama-server -np)', (v) => Number(v))
    .option('--gpu <backend>', "accepted for the same arguments as `service llm`; the head uses its build's GPU")
    .option('--force', 'start even when the per-node fit says a node is over its budget')
    .action(
      action(
        async (opts: {
          model: string;
          hosts: string;
          port: number;
          context?: number;
          threads?: number;
          parallel?: number;
          force?: boolean;
        }) => {
          const home = resolveHome();
          const paths = clusterPaths(home);
          const names = opts.hosts
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          if (names.length === 0)
            throw new OrchardError('USAGE', '--hosts names no cluster host', { hint: 'Give at least one host of `orchard cluster ls`.' });
          const hosts = await Promise.all(names.map((n) => findHost(paths, n)));
          const bins = engineBinaries(home);
          const model = await resolveModelPath(opts.model);
          const fit = await clusterFit(model, names, {
            home,
            machine: await probeMachine(),
            ...(opts.context ? { contextSize: opts.context } : {}),
          });
          if (!fit.fits && !opts.force) {
            throw new OrchardError('REQUIREMENT', `the model does not fit the cluster: ${fit.advice[0] ?? 'a node is over its budget'}`, {
              hint: 'See `orchard fit <model> --hosts …`; --force starts anyway.',
            });
          }
          const log = (line: string) => process.stdout.write(`${line}\n`);
          // Started for an app (the supervisor sets ORCHARD_APP_ROOT): llama-server runs in its sandbox,
          // with the engine's folder readable; the model is in the app's read-only models/.
          const appRoot = process.env['ORCHARD_APP_ROOT'];
          const sandbox = appRoot ? appScope(home, { root: appRoot }, { granted: [bins.binDir] }) : undefined;
          log(`cluster: -ts ${fit.tensorSplit.join(',')} over ${names.join(', ')}; ${fit.note}`);
          const head = await startHeadService({
            port: opts.port,
            paths,
            hosts,
            llamaServer: bins.llamaServer,
            model,
            contextSize: fit.contextSize,
            tensorSplit: fit.tensorSplit,
            split: fit,
            serverArgs: [...(opts.threads ? ['-t', String(opts.threads)] : []), ...(opts.parallel ? ['-np', String(opts.parallel)] : [])],
            env: process.env,
            log,
            ...(sandbox ? { sandbox } : {}),
          });
          log(`listening on ${head.url}`);
          await new Promise<void>((resolve) => {
            for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
          });
          await head.stop();
          process.exit(0);
        },
      ),
    );
}
