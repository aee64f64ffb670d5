import type { Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import { action } from '../../core/output.js';
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
    .requiredOption('--port <port>', 'TCP port on 127.0.0.1 (0: any free port, named in the ready line)')
    .option('--host <host>', 'loopback address to listen on', '127.0.0.1')
    .option('--gpu <backend>', 'auto | metal | cuda | vulkan | cpu; anything but auto fails if that backend is not the one loaded', 'auto')
    .option('--context <n>', 'context size per sequence (default: min(model, 4096))')
    .option('--parallel <n>', 'requests generated at the same time (each gets a sequence)', '1')
    .option('--threads <n>', 'CPU threads for llama.cpp')
    .option('--load-timeout <seconds>', 'give up loading the model after this long', '120')
    .action(
      action(async (opts: { model: string; port: string; host: string; gpu: string; context?: string; parallel: string; threads?: string; loadTimeout: string }) => {
        if (!GPUS.includes(opts.gpu as GpuChoice)) throw new OrchardError('USAGE', `--gpu must be one of ${GPUS.join(', ')}, not "${opts.gpu}"`);
        const port = int(opts.port, '--port', 0, 65535);
        try {
          // Loaded here, not at the top: node-llama-cpp costs every other command half a second.
          const { runLlmServiceProcess } = await import('./run-service.js');
          await runLlmServiceProcess({
            model: opts.model,
            port,
            host: opts.host,
            gpu: opts.gpu as GpuChoice,
            parallel: int(opts.parallel, '--parallel', 1, 64),
            loadTimeoutMs: int(opts.loadTimeout, '--load-timeout', 1, 86_400) * 1000,
            ...(opts.context !== undefined ? { contextSize: int(opts.context, '--context', 16, 10_000_000) } : {}),
            ...(opts.threads !== undefined ? { threads: int(opts.threads, '--threads', 1, 1024) } : {}),
          });
        } catch (err) {
          // A failed load may leave native work running (a hung reader): report, then leave for sure.
          const { reportError } = await import('../../core/output.js');
          reportError(err);
          process.exit(typeof process.exitCode === 'number' ? process.exitCode : 1);
        }
      }),
    );
}

function int(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new OrchardError('USAGE', `${name} must be an integer from ${min} to ${max}, not "${value}"`);
  return n;
}
