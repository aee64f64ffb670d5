import { Option, type Command } from 'commander';
import { action } from '../../core/output.js';
import { integer } from '../../core/option-parsers.js';
import type { GpuChoice } from './load-llm.js';

const GPUS: GpuChoice[] = ['auto', 'metal', 'cuda', 'vulkan', 'cpu'];

/**
 * The LLM service's command line, `service llm ...`: its entry point. The CLI's `orchard service`
 * dispatches here (engine/cli/commands/service.ts), and so does the standalone entry (main.ts).
 */
export function registerLlmService(service: Command): void {
  service
    .command('llm')
    .description('OpenAI-compatible LLM server on 127.0.0.1 (node-llama-cpp)')
    .requiredOption('--model <gguf>', 'the GGUF file (first part of a split model), or a folder holding one model')
    .requiredOption('--port <port>', 'TCP port on 127.0.0.1 (0: any free port, named in the ready line)', integer('--port', 0, 65535))
    .option('--host <host>', 'loopback address to listen on', '127.0.0.1')
    .addOption(new Option('--gpu <backend>', 'anything but auto fails if that backend is not the one loaded').choices(GPUS).default('auto'))
    .option('--context <n>', 'context size per sequence (default: min(model, 4096))', integer('--context', 16, 10_000_000))
    .addOption(
      new Option('--parallel <n>', 'requests generated at the same time (each gets a sequence)')
        .default(1)
        .argParser(integer('--parallel', 1, 64)),
    )
    .option('--threads <n>', 'CPU threads for llama.cpp', integer('--threads', 1, 1024))
    .addOption(
      new Option('--load-timeout <seconds>', 'give up loading the model after this long')
        .default(120)
        .argParser(integer('--load-timeout', 1, 86_400)),
    )
    .action(
      action(
        async (opts: {
          model: string;
          port: number;
          host: string;
          gpu: GpuChoice;
          context?: number;
          parallel: number;
          threads?: number;
          loadTimeout: number;
        }) => {
          const port = opts.port;
          try {
            // Loaded here, not at the top: node-llama-cpp costs every other command half a second.
            const { runLlmServiceProcess } = await import('./run-service.js');
            await runLlmServiceProcess({
              model: opts.model,
              port,
              host: opts.host,
              gpu: opts.gpu,
              parallel: opts.parallel,
              loadTimeoutMs: opts.loadTimeout * 1000,
              ...(opts.context !== undefined ? { contextSize: opts.context } : {}),
              ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
            });
          } catch (err) {
            // A failed load may leave native work running (a hung reader): report, then leave for sure.
            const { reportError } = await import('../../core/output.js');
            reportError(err);
            process.exit(typeof process.exitCode === 'number' ? process.exitCode : 1);
          }
        },
      ),
    );
}
