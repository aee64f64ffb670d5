import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { OrchardHome } from '../core/home.js';
import { numberKey, scalar, stringKey, type GgufHeader } from '../fit/gguf-header.js';
import { readModelHeaders } from '../fit/model-headers.js';
import { modelShape } from '../fit/model-shape.js';
import { predictMlxMemory, readMlxModelShape } from '../fit/mlx-fit.js';
import { predictMemory, type MemoryPrediction } from '../fit/predict-memory.js';
import { modelWeight } from '../fit/recipe-fit.js';
import { loadRecipe } from '../recipe/load.js';
import { planRecipe } from '../recipe/plan.js';
import type { Plan } from '../recipe/plan-types.js';
import { resolveProfile } from '../recipe/resolve-profile.js';
import type { Accelerator } from '../recipe/recipe.types.gen.js';
import { DEFAULT_CONTEXT } from '../fit/llm-defaults.js';

/** One installed app the gateway can route to, by its id or one of its aliases. */
export interface GatewayModel {
  /** The app id (= the recipe id). */
  id: string;
  aliases: string[];
  kind: 'llm' | 'image';
  name: string;
  /** The model file the service loads (LLMs), when known. */
  file?: string;
  sizeBytes: number;
  modifiedAt: string;
  /** sha256 of the model blob when it lives in the store, else of its path. */
  digest: string;
  /** What the model costs against the gateway's memory budget (its fit prediction). */
  budgetBytes: number;
  prediction?: MemoryPrediction;
  accelerator: Accelerator;
  /** Requests the service generates at once (its --parallel): the gateway's per-model limit. */
  parallel: number;
  details: { format: string; family: string; parameterSize: string; quantization: string; contextSize?: number };
  /** Scalar GGUF metadata, for Ollama's /api/show. */
  info: Record<string, string | number | boolean>;
  chatTemplate?: string;
  /**
   * The name the app's own service knows its model by, when it refuses others (the MLX service
   * answers only to its model id): the gateway puts it in the OpenAI request it forwards.
   */
  upstreamModel?: string;
}

/** What the gateway needs to know of an installed app (its state.json), given by whoever owns app state. */
export interface InstalledApp {
  id: string;
  lifecycle: string;
  recipeFile: string;
  profile: string;
  inputs: Record<string, string | number | boolean>;
  updatedAt: string;
}

export interface AppSource {
  /** Every app folder's id. */
  ids(): Promise<string[]>;
  /** Changes whenever the app's state changes (e.g. state.json's mtime and size); undefined when gone. */
  stamp(id: string): Promise<string | undefined>;
  read(id: string): Promise<InstalledApp | undefined>;
}

const GiB = 1024 ** 3;
const LIST_TTL_MS = 500;
interface Cached {
  stamp: string;
  model: GatewayModel | undefined;
}

/**
 * The installed apps the gateway serves: every installed app whose recipe's service is the LLM
 * service (`type: llm`) or an image service (`type: image`). Planning and reading a GGUF header
 * take milliseconds, so each app's entry is kept until its state.json changes.
 */
export class ModelCatalog {
  private readonly cache = new Map<string, Cached>();
  /** The last listing, reused for a moment: every request names a model, and a listing stats every app. */
  private recent: { at: number; models: Promise<GatewayModel[]> } | undefined;

  constructor(
    private readonly home: OrchardHome,
    private readonly apps: AppSource,
    private readonly aliasSettings: () => Record<string, { alias?: string }> = () => ({}),
  ) {}

  list(): Promise<GatewayModel[]> {
    const now = Date.now();
    if (this.recent && now - this.recent.at < LIST_TTL_MS) return this.recent.models;
    const models = this.scan();
    this.recent = { at: now, models };
    models.catch(() => {
      this.recent = undefined;
    });
    return models;
  }

  private async scan(): Promise<GatewayModel[]> {
    const out: GatewayModel[] = [];
    for (const id of (await this.apps.ids()).sort()) {
      const model = await this.entry(id).catch(() => undefined);
      if (model) out.push({ ...model, aliases: [] }); // a copy: aliases are assigned per listing
    }
    assignAliases(out, this.aliasSettings());
    return out;
  }

  /** The model a request names: its app id, an alias, or either with Ollama's ":latest" tag. */
  async find(name: string): Promise<{ model: GatewayModel | undefined; known: GatewayModel[] }> {
    const known = await this.list();
    const wanted = name.trim().replace(/:latest$/, '');
    const model = known.find((m) => m.id === wanted) ?? known.find((m) => m.aliases.includes(wanted) || m.aliases.includes(name.trim()));
    return { model, known };
  }

  private async entry(id: string): Promise<GatewayModel | undefined> {
    const stamp = await this.apps.stamp(id);
    if (stamp === undefined) return undefined;
    const cached = this.cache.get(id);
    if (cached?.stamp === stamp) return cached.model;
    const model = await this.build(id).catch(() => undefined);
    this.cache.set(id, { stamp, model });
    return model;
  }

  private async build(id: string): Promise<GatewayModel | undefined> {
    const state = await this.apps.read(id);
    if (!state || state.lifecycle !== 'installed') return undefined;
    const loaded = await loadRecipe(state.recipeFile);
    const type = loaded.recipe.service?.type;
    if (type !== 'llm' && type !== 'image') return undefined;
    const plan = await planRecipe(loaded, { profile: await resolveProfile(state.profile), inputs: state.inputs, home: this.home });
    if (!plan.service) return undefined;
    const base = {
      id,
      aliases: [],
      name: plan.recipe.name,
      modifiedAt: state.updatedAt,
      accelerator: plan.profile.accelerator,
      info: {},
    };
    if (type === 'image') {
      const bytes = await weightsSize(plan);
      return {
        ...base,
        kind: 'image',
        sizeBytes: bytes,
        digest: sha256(`${id}:${plan.recipe.version}`),
        budgetBytes: Math.round((plan.requirements.memoryGiB ?? 0) * GiB),
        parallel: 1,
        details: { format: 'gguf', family: 'diffusion', parameterSize: '', quantization: '' },
      };
    }
    const args = plan.service.args;
    if (plan.service.engine === 'mlx') return mlxModel(base, plan, args);
    const file = modelWeight(plan)?.path ?? argValue(args, '--model');
    if (!file) return undefined;
    const headers = await readModelHeaders(file);
    const shape = modelShape(headers);
    const first = headers[0] as GgufHeader;
    const contextSize = argNumber(args, '--context') ?? Math.min(shape.trainContext, DEFAULT_CONTEXT);
    const parallel = argNumber(args, '--parallel') ?? 1;
    const prediction = predictMemory(shape, { contextSize, parallel, accelerator: plan.profile.accelerator });
    const fileStat = await stat(file);
    const parts = headers.length;
    const template = stringKey(first, 'tokenizer.chat_template');
    return {
      ...base,
      kind: 'llm',
      file,
      sizeBytes: parts > 1 ? headers.reduce((sum, h) => sum + (h.fileSize ?? 0), 0) : fileStat.size,
      digest: await blobDigest(file),
      // A cluster app's layers live on its workers: here it holds only the head's host part.
      budgetBytes:
        plan.service.type === 'llm-cluster'
          ? shape.tokenEmbeddingBytes + prediction.overhead
          : plan.profile.accelerator === 'cpu'
            ? prediction.total
            : prediction.gpu,
      prediction,
      parallel,
      details: {
        format: 'gguf',
        family: shape.architecture,
        parameterSize: parameterSize(shape.parameters),
        quantization: quantization(numberKey(first, 'general.file_type'), file),
        contextSize,
      },
      info: scalarInfo(first),
      ...(template ? { chatTemplate: template } : {}),
    };
  }
}

/**
 * An MLX app (Orchard's wrapper around mlx_lm.server): its budget is the MLX fit of its model folder
 * (config.json and safetensors headers) at the context `orchard fit` assumes; requests forwarded to
 * it name its model id, the folder's name unless --model-id says otherwise.
 */
async function mlxModel(
  base: Omit<GatewayModel, 'kind' | 'sizeBytes' | 'digest' | 'budgetBytes' | 'parallel' | 'details'>,
  plan: Plan,
  args: readonly string[],
): Promise<GatewayModel | undefined> {
  const dir = argValue(args, '--model');
  if (!dir) return undefined;
  const shape = await readMlxModelShape(dir);
  const contextSize = Math.min(shape.trainContext, 8192);
  const p = predictMlxMemory(shape, contextSize);
  return {
    ...base,
    kind: 'llm',
    sizeBytes: shape.weightsBytes,
    digest: sha256(`${base.id}:${plan.recipe.version}:mlx`),
    budgetBytes: p.gpu,
    prediction: { ...p, contextSize, parallel: 1 },
    parallel: 1,
    details: { format: 'mlx', family: shape.modelType, parameterSize: parameterSize(shape.parameters), quantization: '', contextSize },
    upstreamModel: argValue(args, '--model-id') ?? path.basename(dir.replace(/\/+$/, '')),
  };
}

/** Short aliases: a configured one, else the id without a trailing -instruct/-chat/-it, when unique. */
function assignAliases(models: GatewayModel[], settings: Record<string, { alias?: string }>): void {
  const taken = new Set(models.map((m) => m.id));
  const proposals = new Map<string, string[]>();
  for (const m of models) {
    const configured = settings[m.id]?.alias;
    const derived = m.id.replace(/-(instruct|chat|it)$/, '');
    for (const alias of [configured, derived !== m.id ? derived : undefined]) {
      if (!alias || taken.has(alias)) continue;
      proposals.set(alias, [...(proposals.get(alias) ?? []), m.id]);
    }
    if (m.file) {
      // The service's own name for its model (the file's stem), as clients of the app's port see it.
      const stem = path.basename(m.file).replace(/(-\d{5}-of-\d{5})?\.gguf$/, '');
      if (!taken.has(stem)) proposals.set(stem, [...(proposals.get(stem) ?? []), m.id]);
    }
  }
  for (const [alias, ids] of proposals) {
    if (ids.length !== 1) continue; // ambiguous: nobody gets it
    models.find((m) => m.id === ids[0])?.aliases.push(alias);
  }
}

function argValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

function argNumber(args: readonly string[], name: string): number | undefined {
  const n = Number(argValue(args, name));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

async function weightsSize(plan: Plan): Promise<number> {
  let total = 0;
  for (const w of plan.weights) total += (await stat(w.path).catch(() => undefined))?.size ?? 0;
  return total;
}

/** The store keeps each blob under blobs/sha256/<hex>: that hex is the digest. */
async function blobDigest(file: string): Promise<string> {
  const real = await realpath(file).catch(() => file);
  const hex = /[/\\]sha256[/\\]([0-9a-f]{64})$/.exec(real)?.[1];
  return hex ?? sha256(real);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function parameterSize(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  return `${(n / 1e3).toFixed(1)}K`;
}

/** llama.cpp's llama_ftype numbers (general.file_type), the common ones. */
const FILE_TYPES: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  7: 'Q8_0',
  8: 'Q5_0',
  9: 'Q5_1',
  10: 'Q2_K',
  11: 'Q3_K_S',
  12: 'Q3_K_M',
  13: 'Q3_K_L',
  14: 'Q4_K_S',
  15: 'Q4_K_M',
  16: 'Q5_K_S',
  17: 'Q5_K_M',
  18: 'Q6_K',
  32: 'BF16',
};

function quantization(fileType: number | undefined, file: string): string {
  if (fileType !== undefined && FILE_TYPES[fileType]) return FILE_TYPES[fileType];
  return /(I?Q\d_[A-Z0-9_]+?|BF16|F16|F32)(?=[-.])/i.exec(path.basename(file))?.[1]?.toUpperCase() ?? 'unknown';
}

function scalarInfo(h: GgufHeader): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of h.metadata) {
    if (key === 'tokenizer.chat_template') continue;
    const v = scalar(value);
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') out[key] = v;
    else if (typeof v === 'bigint') out[key] = Number(v);
  }
  return out;
}
