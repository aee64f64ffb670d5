import type { Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import type { GpuChoice } from '../../services/llm/load-llm.js';
import { action } from '../output.js';

const GPUS: GpuChoice[] = ['auto', 'metal', 'cuda', 'vulkan', 'cpu'];

/**
 * `orchard service <type> ...`: Orchard's bundled inference services, each a standalone process
 * that the supervisor starts with `--port {{port}}` (DESIGN §6). `image` and `video` add their
 * subcommands in service-diffusion.ts.
 */
export function register(program: Command): void {
  const service = program.command('service').description('Run a bundled inference service (llm, image, video)');
  registerLlm(service);
  registerMlx(service);
}

function registerMlx(service: Command): void {
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
      action(async (opts: { model: string; port: string; python: string; host: string; modelId?: string; adapters?: string; adapterPath?: string; maxTokens?: string; readyTimeout: string; serverArg?: string[] }) => {
        const { runMlxServiceProcess } = await import('../../services/mlx/run-service.js');
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
          const { reportError } = await import('../output.js');
          reportError(err);
          process.exit(typeof process.exitCode === 'number' ? process.exitCode : 1);
        }
      }),
    );
}

function registerLlm(service: Command): void {
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
          const { runLlmServiceProcess } = await import('../../services/llm/run-service.js');
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
          const { reportError } = await import('../output.js');
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
