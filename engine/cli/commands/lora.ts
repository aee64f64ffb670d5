import path from 'node:path';
import type { Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import { resolveHome } from '../../core/home.js';
import { probeMachine } from '../../hardware/probe.js';
import { resolveLoraTarget, runLora, type LoraProgress } from '../../install/lora.js';
import { action, printJson, printLine } from '../output.js';

/** `orchard lora <app> --data <folder>`: LoRA fine-tuning in an MLX app's venv, resumable, served as a new model. */
export function register(program: Command): void {
  program
    .command('lora <app>')
    .description(
      "Fine-tune an installed MLX app's model with LoRA (mlx_lm lora) on a folder of train.jsonl/valid.jsonl; the adapter " +
        'becomes the model <model>:<name>',
    )
    .requiredOption('--data <folder>', 'folder with train.jsonl and valid.jsonl')
    .option('--name <name>', "adapter name (a folder under the app's adapters/)", 'adapter')
    .option('--iters <n>', 'training iterations', '600')
    .option('--batch-size <n>', 'mlx_lm lora --batch-size', '4')
    .option('--num-layers <n>', 'layers to adapt (-1: all)', '16')
    .option('--max-seq-length <n>', 'longest sample in tokens', '2048')
    .option('--save-every <n>', 'save the adapter every n iterations (what a resume starts from)', '100')
    .option('--grad-checkpoint', 'trade compute for memory')
    .option('--resume', 'continue an interrupted training from its last saved adapter')
    .option('--force', 'train even if the memory check says it does not fit')
    .option('--json', 'print the final progress as JSON')
    .action(
      action(
        async (
          appId: string,
          opts: {
            data: string;
            name: string;
            iters: string;
            batchSize: string;
            numLayers: string;
            maxSeqLength: string;
            saveEvery: string;
            gradCheckpoint?: boolean;
            resume?: boolean;
            force?: boolean;
            json?: boolean;
          },
        ) => {
          if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(opts.name))
            throw new OrchardError('USAGE', `--name must be letters, digits, dot, dash or underscore, not "${opts.name}"`);
          const home = resolveHome();
          const target = await resolveLoraTarget(home, appId);
          const controller = new AbortController();
          process.once('SIGINT', () => controller.abort());
          const progress: LoraProgress = await runLora({
            python: target.python,
            model: target.model,
            data: path.resolve(opts.data),
            adapterDir: path.join(target.adaptersRoot, opts.name),
            appRoot: target.appRoot,
            sandboxEnv: target.sandboxEnv,
            iters: int(opts.iters, '--iters'),
            batchSize: int(opts.batchSize, '--batch-size'),
            numLayers: Number(opts.numLayers) === -1 ? -1 : int(opts.numLayers, '--num-layers'),
            maxSeqLength: int(opts.maxSeqLength, '--max-seq-length'),
            saveEvery: int(opts.saveEvery, '--save-every'),
            gradCheckpoint: opts.gradCheckpoint === true,
            resume: opts.resume === true,
            force: opts.force === true,
            machine: await probeMachine(),
            logFile: path.join(target.logs, `lora-${opts.name}.log`),
            signal: controller.signal,
            ...(opts.json ? {} : { onLine: (line: string) => printLine(line) }),
          });
          if (opts.json) printJson(progress);
          if (progress.state !== 'done') {
            throw new OrchardError('SERVICE', progress.error ?? 'the training did not finish', {
              hint: `Continue it: orchard lora ${appId} --data ${opts.data} --name ${opts.name} --resume`,
            });
          }
          if (!opts.json)
            printLine(
              `adapter ready: ${path.join(target.adaptersRoot, opts.name)} — served as the model <model>:${opts.name} by the ` +
                'running MLX service',
            );
        },
      ),
    );
}

function int(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new OrchardError('USAGE', `${name} must be a positive integer, not "${value}"`);
  return n;
}
