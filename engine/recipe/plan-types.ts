import type { Accelerator, AppKind, Backend, Input, ModelIdentity, Service, Step, Verify } from './recipe.types.gen.js';
import type { EnvParams } from '../../sandbox/index.js';
import type { Profile } from './profile.js';
import type { ChoiceNeed } from '../../shared/choice-need.js';

/**
 * The plan: a recipe resolved for one profile and one set of inputs. Every template is
 * substituted, every condition decided, every path absolute and checked to lie inside the app
 * folder, the recipe folder (read only) or the store. `orchard plan` prints it; `install` runs it.
 */
export type ScriptName = 'install' | 'update' | 'start' | 'uninstall';
export type StepKind = Step['kind'];

/** A weight as the plan knows it. `pinned` is false when size or sha256 must come from the hub. */
export interface ResolvedWeight {
  id: string;
  url: string;
  mirrors: string[];
  /** Absolute path where the app sees it: apps/<id>/models/<file>. */
  path: string;
  file: string;
  size?: number;
  sha256?: string;
  pinned: boolean;
  auth?: 'huggingface';
  gatedPage?: string;
}

export interface GitParams {
  url: string;
  ref: string;
  /** True when ref is a full commit hash. */
  pinned: boolean;
  dest: string;
  submodules: boolean;
}

export interface ExtractParams {
  archive: string;
  dest: string;
  strip: number;
}

// The sandbox owns the shape of an environment request (recipe sits above sandbox in DESIGN §2).
export type { EnvParams } from '../../sandbox/index.js';

export interface RunParams {
  /** argv, or undefined for a shell string. */
  argv?: string[];
  /** Only with shell: true. */
  shellCommand?: string;
  shell: boolean;
  cwd: string;
  /** Variables the recipe sets on top of the sandbox environment. */
  env: Record<string, string>;
  useEnv: boolean;
  network: boolean;
  hosts: string[];
}

export interface WriteParams {
  path: string;
  content: string;
  mode: number;
}

export interface FetchParams {
  weights: ResolvedWeight[];
}

export interface LinkParams {
  weight: ResolvedWeight;
  to: string;
}

export interface VerifyParams {
  probe: Verify['probe'];
  expect: Backend;
}

export interface ParamsByKind {
  git: GitParams;
  extract: ExtractParams;
  env: EnvParams;
  run: RunParams;
  write: WriteParams;
  fetch: FetchParams;
  link: LinkParams;
  verify: VerifyParams;
}

/** What a step does to the world, for the plan's reader. */
export interface StepEffects {
  folders: string[];
  writes: string[];
  hosts: string[];
  /** Red flags: shell strings, unpinned refs, no confinement, opt-in fallbacks… */
  warnings: string[];
}

/**
 * How a step is confined (docs/confinement.md). `runs: 'process'` means it starts a program the recipe
 * influences (run, verify, git, a Python env); `'orchard'` means Orchard's own code does the work with
 * its paths checked (write, fetch, link, extract, a node prefix).
 */
export interface StepConfinement {
  runs: 'process' | 'orchard';
  /** For a process: whether this machine confines it. Always true for `orchard`. */
  confined: boolean;
  mechanism: 'bwrap' | 'sandbox-exec' | 'none';
  /** Whether the process may use the network. */
  network: boolean;
}

interface PlannedStepBase<K extends StepKind> {
  script: ScriptName;
  index: number;
  /** Stable key in the install journal: the step's id, else `<kind>-<index>`. */
  key: string;
  kind: K;
  title: string;
  /** JSON pointer of the step in the recipe file, for error messages. */
  pointer: string;
  params: ParamsByKind[K];
  /** sha256 of the canonical JSON of params: a changed hash re-runs the step. */
  hash: string;
  timeoutMs: number;
  effects: StepEffects;
  /** Filled by the plan for this machine (absent only in hand-built test steps). */
  confinement?: StepConfinement;
}

export type PlannedStep = { [K in StepKind]: PlannedStepBase<K> }[StepKind];
export type PlannedStepOf<K extends StepKind> = PlannedStepBase<K>;

export interface PlannedService {
  type: Service['type'];
  /** For type llm: which engine serves it (gguf: node-llama-cpp; mlx: mlx_lm.server behind Orchard's wrapper). */
  engine?: 'gguf' | 'mlx';
  /** argv with {{port}} left as the literal `{{port}}` until the supervisor allocates one. */
  command?: string[];
  args: string[];
  cwd: string;
  env: Record<string, string>;
  readiness: { http?: string; log?: string; timeoutMs: number };
  ui?: string;
  restart: { policy: 'never' | 'on-failure' | 'always'; maxRestarts: number; backoffMs: number };
  stopGraceMs: number;
  /** How the service process is confined (it always shares the network: it listens on loopback). */
  confinement?: StepConfinement;
}

export interface Plan {
  recipe: { id: string; name: string; version: string; kind: AppKind; file: string; dir: string };
  profile: Profile;
  inputs: Record<string, string | number | boolean>;
  inputSpecs: Record<string, Input>;
  /**
   * For each choice input that changes the needs or the weights (a quantization): what every one
   * of its values costs on this profile, so the choice is made knowing it (engine/recipe/choice-needs.ts).
   */
  choiceNeeds?: Record<string, Record<string, ChoiceNeed>>;
  /** Reasons the recipe cannot be installed on this profile (platform, accelerator, tools…). */
  blockers: string[];
  /**
   * The blocker `--allow-cpu` (the UI's "Install anyway") accepts: a GPU recipe on a CPU-only
   * machine. Present only when that is one of the blockers.
   */
  allowCpuAccepts?: string;
  requirements: { memoryGiB?: number; diskGiB?: number; tools: string[]; accelerators: Accelerator[] };
  paths: { root: string; app: string; env: string; models: string; store: string };
  weights: ResolvedWeight[];
  scripts: Record<ScriptName, PlannedStep[]>;
  expectedBackend?: Backend;
  /** The model and engine this recipe serves (catalog grouping, MLX fit). */
  model?: ModelIdentity;
  service?: PlannedService;
  /** Environment every step and the service gets (sandbox), minus the inherited PATH and secrets. */
  sandboxEnv: Record<string, string>;
  confinement: { available: boolean; mechanism: 'bwrap' | 'sandbox-exec' | 'none'; note: string };
  /** Steps (`script/key`, and `service`) that start a recipe-driven process this machine cannot confine. */
  unconfined: string[];
  hosts: string[];
  warnings: string[];
}
