import type { Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import { action } from '../../core/output.js';

/**
 * The MLX service's command line, `service mlx ...`: its entry point, dispatched to by the CLI's
 * `orchard service` (engine/cli/commands/service.ts).
 */
export function registerMlxService(service: Command): void {
  service
    .command('mlx')
    .description("OpenAI-compatible LLM server on 127.0.0.1 in front of mlx_lm.server (Apple Silicon; the app's venv)")
    .requiredOption('--model <dir|repo>', 'the MLX model folder (config.json, *.safetensors, tokenizer) or a Hugging Face repo id')
    .requiredOption('--port <port>', 'TCP port on 127.0.0.1 (0: any free port)')
    .option('--python <python>', "the venv's python, with mlx and mlx-lm installed", 'python')
    .option('--host <host>', 'loopback address to listen on', '127.0.0.1')
    .option('--model-id <name>', 'the model name clients use (default: the folder name)')
    .option('--adapters <dir>', 'a folder of trained LoRA adapters; each sub-folder is served as <model-id>:<name>')
    .option('--adapter-path <dir>', 'one adapter applied to the base model name')
    .option('--max-tokens <n>', "mlx_lm.server's default maximum tokens per reply")
    .option('--ready-timeout <seconds>', 'give up loading the model after this long', '900')
    .option('--server-arg <arg...>', 'extra mlx_lm.server arguments, passed as they are')
    .action(
      action(
        async (opts: {
          model: string;
          port: string;
          python: string;
          host: string;
          modelId?: string;
          adapters?: string;
          adapterPath?: string;
          maxTokens?: string;
          readyTimeout: string;
          serverArg?: string[];
        }) => {
          const { runMlxServiceProcess } = await import('./run-service.js');
          try {
            await runMlxServiceProcess({
              python: opts.python,
              model: opts.model,
              port: int(opts.port, '--port', 0, 65535),
              host: opts.host,
              readyTimeoutMs: int(opts.readyTimeout, '--ready-timeout', 1, 86_400) * 1000,
              serverArgs: opts.serverArg ?? [],
              ...(opts.modelId ? { modelId: opts.modelId } : {}),
              ...(opts.adapters ? { adaptersDir: opts.adapters } : {}),
              ...(opts.adapterPath ? { adapterPath: opts.adapterPath } : {}),
              ...(opts.maxTokens !== undefined ? { maxTokens: int(opts.maxTokens, '--max-tokens', 1, 10_000_000) } : {}),
            });
          } catch (err) {
            const { reportError } = await import('../../core/output.js');
            reportError(err);
            process.exit(typeof process.exitCode === 'number' ? process.exitCode : 1);
          }
        },
      ),
    );
}

function int(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new OrchardError('USAGE', `${name} must be an integer from ${min} to ${max}, not "${value}"`);
  return n;
}
