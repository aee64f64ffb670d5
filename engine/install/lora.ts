import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { appScope, confinedCommand, processEnvironment } from '../../sandbox/index.js';
import { writeJsonAtomic } from '../core/atomic-write.js';
import { OrchardError } from '../core/errors.js';
import { gib, osReserve, raiseLimitFor, workingSetOf } from '../fit/fit-verdict.js';
import { readMlxModelShape, type MlxModelShape } from '../fit/mlx-fit.js';
import type { MachineInfo } from '../hardware/machine-info.js';
import { appPaths, type OrchardHome } from '../core/home.js';
import { loadRecipe } from '../recipe/load.js';
import { planRecipe } from '../recipe/plan.js';
import { resolveProfile } from '../recipe/resolve-profile.js';
import type { LoraMemoryEstimate, LoraPoint, LoraProgress } from './lora-types.js';
import { requireAppState } from './state-store.js';

export type { LoraMemoryEstimate, LoraPoint, LoraProgress } from './lora-types.js';

/**
 * LoRA fine-tuning with `mlx_lm lora` (mlx-lm 0.31.3) on a user's JSONL folder (train.jsonl,
 * valid.jsonl): progress parsed from the trainer's own lines, kept in
 * `<adapter dir>/orchard-progress.json`, resumable from the last saved adapter; the result is an
 * adapter folder the MLX service serves as a new model.
 */

/** What one line of `mlx_lm lora` output says. Formats: mlx_lm/tuner/trainer.py and mlx_lm/lora.py at v0.31.3. */
export type LoraEvent =
  | { type: 'start'; iters: number }
  | { type: 'trainable'; percent: number; trainableM: number; totalM: number }
  | { type: 'resume'; file: string }
  | { type: 'val'; iteration: number; valLoss: number; seconds: number }
  | {
      type: 'train';
      iteration: number;
      trainLoss: number;
      learningRate: number;
      itPerSec: number;
      tokensPerSec: number;
      trainedTokens: number;
      peakMemGB: number;
    }
  | { type: 'saved'; iteration: number; adapterFile: string; checkpoint: string }
  | { type: 'final'; adapterFile: string };

const NUM = String.raw`(-?[\d.]+(?:e[-+]?\d+)?|nan|inf)`;
const PATTERNS: [RegExp, (m: RegExpExecArray) => LoraEvent][] = [
  // print(f"Starting training..., iters: {args.iters}")
  [/^Starting training\.\.\., iters: (\d+)$/, (m) => ({ type: 'start', iters: Number(m[1]) })],
  // tuner/utils.py print_trainable_parameters: f"Trainable parameters: {pct:.3f}% ({trainable_p:.3f}M/{total_p:.3f}M)"
  [
    /^Trainable parameters: ([\d.]+)% \(([\d.]+)M\/([\d.]+)M\)$/,
    (m) => ({ type: 'trainable', percent: Number(m[1]), trainableM: Number(m[2]), totalM: Number(m[3]) }),
  ],
  // print(f"Loading fine-tuned weights from {args.resume_adapter_file}")
  [/^Loading fine-tuned weights from (.+)$/, (m) => ({ type: 'resume', file: m[1] ?? '' })],
  // f"Iter {it}: Val loss {val_loss:.3f}, Val took {val_time:.3f}s"
  [
    new RegExp(String.raw`^Iter (\d+): Val loss ${NUM}, Val took ([\d.]+)s$`),
    (m) => ({ type: 'val', iteration: Number(m[1]), valLoss: Number(m[2]), seconds: Number(m[3]) }),
  ],
  // f"Iter {it}: Train loss {train_loss:.3f}, Learning Rate {learning_rate:.3e}, It/sec {it_sec:.3f}, Tokens/sec {tokens_sec:.3f},
  //   Trained Tokens {trained_tokens}, Peak mem {peak_mem:.3f} GB" (one line)
  [
    new RegExp(
      String.raw`^Iter (\d+): Train loss ${NUM}, Learning Rate ${NUM}, It/sec ([\d.]+), Tokens/sec ([\d.]+), ` +
        String.raw`Trained Tokens ([\d.]+), Peak mem ([\d.]+) GB$`,
    ),
    (m) => ({
      type: 'train',
      iteration: Number(m[1]),
      trainLoss: Number(m[2]),
      learningRate: Number(m[3]),
      itPerSec: Number(m[4]),
      tokensPerSec: Number(m[5]),
      trainedTokens: Number(m[6]),
      peakMemGB: Number(m[7]),
    }),
  ],
  // f"Iter {it}: Saved adapter weights to {args.adapter_file} and {checkpoint}."
  [
    /^Iter (\d+): Saved adapter weights to (.+) and (.+)\.$/,
    (m) => ({ type: 'saved', iteration: Number(m[1]), adapterFile: m[2] ?? '', checkpoint: m[3] ?? '' }),
  ],
  // print(f"Saved final weights to {args.adapter_file}.")
  [/^Saved final weights to (.+)\.$/, (m) => ({ type: 'final', adapterFile: m[1] ?? '' })],
];

export function parseLoraLine(line: string): LoraEvent | undefined {
  const text = line.trim();
  for (const [re, make] of PATTERNS) {
    const m = re.exec(text);
    if (m) return make(m);
  }
  return undefined;
}

export const PROGRESS_FILE = 'orchard-progress.json';

/** Apply one event to the progress (iterations shifted by the resume offset). */
export function applyLoraEvent(p: LoraProgress, e: LoraEvent): void {
  const at = (iteration: number): LoraPoint => {
    const it = iteration + p.offset;
    let point = p.points.find((x) => x.iteration === it);
    if (!point) {
      point = { iteration: it };
      p.points.push(point);
      p.points.sort((a, b) => a.iteration - b.iteration);
    }
    return point;
  };
  switch (e.type) {
    case 'trainable':
      p.trainable = { percent: e.percent, trainableM: e.trainableM, totalM: e.totalM };
      break;
    case 'val':
      at(e.iteration).valLoss = e.valLoss;
      break;
    case 'train': {
      const point = at(e.iteration);
      Object.assign(point, {
        trainLoss: e.trainLoss,
        learningRate: e.learningRate,
        tokensPerSec: e.tokensPerSec,
        itPerSec: e.itPerSec,
        peakMemGB: e.peakMemGB,
      });
      break;
    }
    case 'saved':
      p.savedIteration = e.iteration + p.offset;
      p.checkpoints.push({ iteration: e.iteration + p.offset, file: e.checkpoint });
      break;
    case 'final':
      p.savedIteration = p.totalIters;
      p.state = 'done';
      break;
    default:
      break;
  }
}

/**
 * Peak memory of `mlx_lm lora`, estimated: the frozen weights as stored; the LoRA matrices
 * (rank × (in + out) per adapted projection, 7 projections per layer) in float32 with gradients
 * and Adam's two moments (16 bytes each); saved activations for backprop of the adapted layers,
 * batch × tokens × (10·hidden + 3·intermediate) × 2 bytes per layer (one layer's worth with
 * --grad-checkpoint); float32 logits and their gradient, batch × tokens × vocab × 8; and the
 * runtime allowance. `tokens` is the longest sample of train.jsonl (characters / 3, a generous
 * tokens-per-character), capped at --max-seq-length. A calibration point: mlx-lm#330 trained
 * Llama-3.2-3B (bf16) with the defaults on short WikiSQL samples at "Peak mem 10.588 GB".
 */
export function estimateLoraMemory(
  s: MlxModelShape,
  o: { batchSize: number; numLayers: number; rank: number; sequenceTokens: number; gradCheckpoint: boolean },
): LoraMemoryEstimate {
  const layers = Math.min(o.numLayers < 0 ? s.layers : o.numLayers, s.layers);
  const perLayerParams = o.rank * (4 * (s.hidden + s.hidden) + 3 * (s.hidden + s.intermediate));
  const adapterAndOptimizer = layers * perLayerParams * 16;
  const perLayerActivations = o.batchSize * o.sequenceTokens * (10 * s.hidden + 3 * s.intermediate) * 2;
  const activations =
    perLayerActivations * (o.gradCheckpoint ? 1 : layers) + (o.gradCheckpoint ? layers * o.batchSize * o.sequenceTokens * s.hidden * 2 : 0);
  const logits = o.batchSize * o.sequenceTokens * s.vocab * 8;
  const overhead = 1024 ** 3;
  const total = s.weightsBytes + adapterAndOptimizer + activations + logits + overhead;
  return {
    weights: s.weightsBytes,
    adapterAndOptimizer,
    activations,
    logits,
    overhead,
    total,
    sequenceTokens: o.sequenceTokens,
    formula:
      `weights ${gib(s.weightsBytes)} + LoRA+Adam ${gib(adapterAndOptimizer)} + activations ${gib(activations)} (` +
      `${o.batchSize}×${o.sequenceTokens} tokens × ${layers} layers${o.gradCheckpoint ? ', checkpointed' : ''}) + logits ` +
      `${gib(logits)} + runtime ${gib(overhead)}`,
  };
}

/** The fit verdict for a LoRA run on this machine: throws (unless forced) when it cannot fit. */
export function checkLoraFit(e: LoraMemoryEstimate, machine: MachineInfo, force: boolean): string[] {
  const ram = machine.memory.totalBytes;
  const usable = ram - osReserve(ram);
  const notes = [`training memory: ${e.formula} = ${gib(e.total)}`];
  if (e.total > usable) {
    if (!force) {
      throw new OrchardError(
        'REQUIREMENT',
        `LoRA training would need about ${gib(e.total)}; ${gib(usable)} of this machine's memory is usable`,
        {
          where: 'orchard lora',
          hint: 'Lower --batch-size, --max-seq-length or --num-layers, or add --grad-checkpoint; --force trains anyway.',
        },
      );
    }
    notes.push(`forced: needs ${gib(e.total)}, ${gib(usable)} usable`);
  } else if (machine.unifiedMemory && machine.macos && e.total > workingSetOf(machine)) {
    notes.push(`above the GPU working-set limit ${gib(workingSetOf(machine))}: raise it first with ${raiseLimitFor(e.total, ram).command}`);
  }
  return notes;
}

/** The longest sample of train.jsonl, in estimated tokens (characters / 3). */
export async function longestSampleTokens(dataDir: string): Promise<number> {
  const text = await readFile(path.join(dataDir, 'train.jsonl'), 'utf8').catch(() => {
    throw new OrchardError('USAGE', `no train.jsonl in ${dataDir}`, {
      where: dataDir,
      hint:
        'The data folder needs train.jsonl and valid.jsonl (one JSON object per line: {"messages": […]}, {"prompt", ' +
        '"completion"} or {"text"}).',
    });
  });
  let longest = 0;
  for (const line of text.split('\n')) if (line.trim()) longest = Math.max(longest, line.length);
  if (longest === 0) throw new OrchardError('USAGE', `train.jsonl in ${dataDir} is empty`, { where: dataDir });
  return Math.ceil(longest / 3);
}

export interface LoraRunOptions {
  /** The venv python with mlx-lm. */
  python: string;
  /** The base model folder the service loads. */
  model: string;
  data: string;
  /** Where this adapter goes: <app>/adapters/<name>. */
  adapterDir: string;
  appRoot: string;
  storeDir?: string;
  sandboxEnv: Record<string, string>;
  iters: number;
  batchSize: number;
  numLayers: number;
  maxSeqLength: number;
  saveEvery: number;
  stepsPerReport?: number;
  gradCheckpoint: boolean;
  resume: boolean;
  machine: MachineInfo;
  force: boolean;
  logFile: string;
  /** Extra environment for mlx_lm lora. */
  env?: Record<string, string>;
  onLine?: (line: string) => void;
  onProgress?: (p: LoraProgress) => void;
  signal?: AbortSignal;
}

export async function readLoraProgress(adapterDir: string): Promise<LoraProgress | undefined> {
  const text = await readFile(path.join(adapterDir, PROGRESS_FILE), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as LoraProgress);
}

/** Every LoRA run of an app (one folder each under its adapters folder). */
export async function listLoraRuns(adaptersRoot: string): Promise<LoraProgress[]> {
  if (!existsSync(adaptersRoot)) return [];
  const out: LoraProgress[] = [];
  for (const name of (await readdir(adaptersRoot)).sort()) {
    const p = await readLoraProgress(path.join(adaptersRoot, name)).catch(() => undefined);
    if (p) out.push(p);
  }
  return out;
}

/**
 * Run (or resume) one LoRA training. Resuming continues from the last saved adapter
 * (--resume-adapter-file) for the iterations still to do; mlx-lm counts them from 1 again, so
 * Orchard adds the saved iteration. The optimizer state is not saved by mlx-lm: it restarts.
 */
export async function runLora(o: LoraRunOptions): Promise<LoraProgress> {
  const existing = await readLoraProgress(o.adapterDir);
  if (o.resume && !existing)
    throw new OrchardError('USAGE', `nothing to resume in ${o.adapterDir}`, { hint: 'Start the training without --resume.' });
  if (!o.resume && existing && existsSync(path.join(o.adapterDir, 'adapters.safetensors'))) {
    throw new OrchardError(
      'USAGE',
      existing.state === 'done'
        ? `${path.basename(o.adapterDir)} is already trained`
        : `${path.basename(o.adapterDir)} has an unfinished training (saved at iteration ${existing.savedIteration})`,
      {
        hint:
          existing.state === 'done'
            ? 'Choose another --name for a new training.'
            : 'Add --resume to continue it, or choose another --name.',
      },
    );
  }
  const previous = o.resume ? existing : undefined;
  const resumeFile = path.join(o.adapterDir, 'adapters.safetensors');
  const resumeFrom = o.resume && previous && existsSync(resumeFile) ? previous.savedIteration : 0;
  if (o.resume && previous?.state === 'done')
    throw new OrchardError('USAGE', `${path.basename(o.adapterDir)} is already trained`, {
      hint: 'Choose another --name for a new training.',
    });
  const totalIters = previous?.totalIters ?? o.iters;
  const remaining = totalIters - resumeFrom;

  const shape = await readMlxModelShape(o.model);
  const estimate = estimateLoraMemory(shape, {
    batchSize: o.batchSize,
    numLayers: o.numLayers,
    rank: 8,
    sequenceTokens: Math.min(o.maxSeqLength, await longestSampleTokens(o.data)),
    gradCheckpoint: o.gradCheckpoint,
  });
  const fitNotes = checkLoraFit(estimate, o.machine, o.force);

  const progress: LoraProgress = previous
    ? {
        ...previous,
        state: 'running',
        offset: resumeFrom,
        points: previous.points.filter((x) => x.iteration <= resumeFrom),
        checkpoints: previous.checkpoints.filter((c) => c.iteration <= resumeFrom),
        estimate,
      }
    : {
        name: path.basename(o.adapterDir),
        model: o.model,
        data: o.data,
        state: 'running',
        totalIters,
        savedIteration: 0,
        offset: 0,
        points: [],
        checkpoints: [],
        runs: [],
        estimate,
        updated: '',
      };
  delete progress.error;
  progress.runs.push({ started: new Date().toISOString(), ...(resumeFrom > 0 ? { resumedFrom: resumeFrom } : {}) });
  await mkdir(o.adapterDir, { recursive: true });
  await mkdir(path.dirname(o.logFile), { recursive: true });
  const save = async (): Promise<void> => {
    progress.updated = new Date().toISOString();
    await writeJsonAtomic(path.join(o.adapterDir, PROGRESS_FILE), progress);
    o.onProgress?.(progress);
  };
  const log = (line: string): void => {
    void appendFile(o.logFile, `${line}\n`).catch(() => undefined);
    o.onLine?.(line);
  };
  for (const n of fitNotes) log(`orchard lora: ${n}`);
  await save();

  const args = [
    '-m',
    'mlx_lm',
    'lora',
    '--model',
    o.model,
    '--train',
    '--data',
    o.data,
    '--adapter-path',
    o.adapterDir,
    '--iters',
    String(remaining),
    '--batch-size',
    String(o.batchSize),
    '--num-layers',
    String(o.numLayers),
    '--max-seq-length',
    String(o.maxSeqLength),
    '--save-every',
    String(o.saveEvery),
    ...(o.stepsPerReport ? ['--steps-per-report', String(o.stepsPerReport)] : []),
    ...(o.gradCheckpoint ? ['--grad-checkpoint'] : []),
    ...(resumeFrom > 0 ? ['--resume-adapter-file', resumeFile] : []),
  ];
  const command = [o.python, ...args];
  // Confined like a run step of the app, network cut; the user's data folder is granted read-only.
  const orchardHome = path.dirname(path.dirname(o.appRoot));
  const confined = await confinedCommand('run', command, {
    scope: appScope(
      { root: orchardHome, store: o.storeDir ?? path.join(orchardHome, 'store') },
      { root: o.appRoot },
      { granted: [o.data] },
    ),
    network: false,
    cwd: o.appRoot,
  });
  const argv = confined.argv;
  log(`$ ${command.join(' ')}`);
  log(confined.describe);
  const env = processEnvironment(o.sandboxEnv, {
    envBinDir: path.dirname(o.python),
    extra: { HF_HUB_OFFLINE: '1', PYTHONUNBUFFERED: '1', ...(o.env ?? {}) },
  });
  const [file, ...rest] = argv as [string, ...string[]];
  const child = execa(file, rest, {
    env,
    extendEnv: false,
    cwd: o.appRoot,
    reject: false,
    buffer: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    ...(o.signal ? { cancelSignal: o.signal } : {}),
  });
  let pending = Promise.resolve();
  const onLine = (line: string): void => {
    log(line);
    const e = parseLoraLine(line);
    if (!e) return;
    applyLoraEvent(progress, e);
    if (e.type !== 'start' && e.type !== 'resume') pending = pending.then(save);
  };
  for (const stream of [child.stdout, child.stderr]) {
    // Lines end at \n or \r (tqdm-style bars redraw with \r); the unterminated tail is flushed at the end.
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split(/\r\n|\n|\r/);
      rest = parts.pop() ?? '';
      for (const part of parts) if (part.trim() !== '') onLine(part);
    });
    stream?.on('end', () => {
      if (rest.trim() !== '') onLine(rest);
      rest = '';
    });
  }
  const result = await child;
  await pending;
  const run = progress.runs.at(-1);
  if (run) {
    run.ended = new Date().toISOString();
    run.exit = result.signal ? `signal ${result.signal}` : `code ${String(result.exitCode)}`;
  }
  if (progress.state !== 'done' || result.exitCode !== 0) {
    progress.state = 'failed';
    progress.error = o.signal?.aborted
      ? 'stopped'
      : `mlx_lm lora ended with ${run?.exit ?? '?'}; resume continues from iteration ${progress.savedIteration}`;
  }
  await save();
  return progress;
}

/** What a LoRA run of an installed MLX app needs from its plan: its python, its model, its folders. */
export async function resolveLoraTarget(
  home: OrchardHome,
  appId: string,
): Promise<{
  python: string;
  model: string;
  appRoot: string;
  adaptersRoot: string;
  logs: string;
  sandboxEnv: Record<string, string>;
  store: string;
}> {
  const state = await requireAppState(home, appId);
  const plan = await planRecipe(await loadRecipe(state.recipe.file), {
    profile: await resolveProfile(state.profile),
    inputs: state.inputs,
    home,
  });
  const args = plan.service?.args ?? [];
  const value = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const python = value('--python');
  const model = value('--model');
  if (plan.service?.engine !== 'mlx' || !python || !model) {
    throw new OrchardError('USAGE', `${appId} is not an MLX app (LoRA training runs mlx_lm lora in an MLX app's venv)`, {
      hint: 'Install one of the MLX recipes (orchard list shows them), then train with it.',
    });
  }
  const app = appPaths(home, appId);
  return {
    python,
    model,
    appRoot: app.root,
    adaptersRoot: value('--adapters') ?? path.join(app.root, 'adapters'),
    logs: app.logs,
    sandboxEnv: plan.sandboxEnv,
    store: home.store,
  };
}
