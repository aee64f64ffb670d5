/* Generated from recipe.schema.json by scripts/gen-recipe-types.mjs. Do not edit: edit the schema and regenerate. */

/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "AppKind".
 */
export type AppKind = 'llm' | 'image' | 'video' | 'tool';
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "Platform".
 */
export type Platform = 'darwin-arm64' | 'darwin-x64' | 'linux-x64' | 'linux-arm64' | 'win32-x64';
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "Accelerator".
 */
export type Accelerator = 'metal' | 'cuda' | 'vulkan' | 'rocm' | 'cpu';
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "Os".
 */
export type Os = 'darwin' | 'linux' | 'win32';
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "Arch".
 */
export type Arch = 'arm64' | 'x64';
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "Step".
 */
export type Step = GitStep | ExtractStep | EnvStep | RunStep | WriteStep | FetchStep | LinkStep | VerifyStep;
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "StepId".
 */
export type StepId = string;
/**
 * @minItems 1
 *
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "Argv".
 */
export type Argv = [string, ...string[]];
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "Script".
 */
export type Script = Step[];
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "Backend".
 */
export type Backend = 'metal' | 'cuda' | 'vulkan' | 'rocm' | 'cpu' | 'unknown';
/**
 * For type command: argv, templated ({{port}}).
 *
 * @minItems 1
 */
export type Argv1 = [string, ...string[]];

/**
 * An Orchard recipe: pure data that says how to fetch, install, verify and run one local AI app.
 */
export interface Recipe {
  /**
   * Editors may point at this schema; ignored by Orchard.
   */
  $schema?: string;
  /**
   * Folder name of the app under ORCHARD_HOME/apps: lower-case letters, digits and dashes.
   */
  id: string;
  name: string;
  version: string;
  kind: AppKind;
  description?: string;
  license?: string;
  homepage?: string;
  /**
   * Facts for humans: where sizes and hashes were read, what was tested, caveats.
   */
  notes?: string[];
  model?: ModelIdentity;
  requires?: Requirements;
  inputs?: {
    [k: string]: Input | undefined;
  };
  weights?: Weight[];
  install: Script;
  update?: Script;
  start?: Script;
  uninstall?: Script;
  verify?: Verify;
  service?: Service;
}
/**
 * Which model this recipe serves and through which engine. Recipes with the same family are one model in the catalog, with one entry per
 * engine (MLX is the default on darwin-arm64, GGUF elsewhere).
 *
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "ModelIdentity".
 */
export interface ModelIdentity {
  /**
   * The model, independent of engine and quantization (e.g. llama-3.3-70b-instruct).
   */
  family: string;
  /**
   * gguf: node-llama-cpp (Metal, CUDA, CPU); mlx: mlx_lm.server in the app's venv (Apple Silicon only).
   */
  engine: 'gguf' | 'mlx';
  /**
   * For mlx: the Hugging Face repository URL (https://huggingface.co/<owner>/<name>); orchard fit reads its config.json and safetensors
   * headers from it over HTTP Range.
   */
  repo?: string;
  /**
   * For mlx: the commit (40 hex, pinned) or branch the repository is read at. Default main (unpinned).
   */
  revision?: string;
  /**
   * Quantization bits, for display.
   */
  bits?: number;
}
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "Requirements".
 */
export interface Requirements {
  /**
   * @minItems 1
   */
  platforms?: [Platform, ...Platform[]];
  /**
   * Accelerators the app can run on. Leave out cpu when a CPU run is not useful: such a recipe is refused on a CPU-only profile.
   *
   * @minItems 1
   */
  accelerators?: [Accelerator, ...Accelerator[]];
  /**
   * Memory (RAM or unified memory) the app needs while running.
   */
  memoryGiB?: number;
  /**
   * Disk the installed app needs, weights included.
   */
  diskGiB?: number;
  /**
   * Programs that must be on PATH before install (git, cmake, python3…).
   */
  tools?: string[];
  /**
   * Needs that depend on inputs or platform: the first variant whose condition holds overrides memoryGiB/diskGiB.
   */
  variants?: {
    when: Condition;
    memoryGiB?: number;
    diskGiB?: number;
  }[];
}
/**
 * Structured condition, never code. All given keys must hold.
 *
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "Condition".
 */
export interface Condition {
  /**
   * darwin-arm64, linux-x64, …
   */
  platform?: Platform | [Platform, ...Platform[]];
  /**
   * darwin, linux, win32
   */
  os?: Os | [Os, ...Os[]];
  /**
   * arm64, x64
   */
  arch?: Arch | [Arch, ...Arch[]];
  /**
   * metal, cuda, vulkan, rocm, cpu
   */
  accelerator?: Accelerator | [Accelerator, ...Accelerator[]];
  input?: {
    [k: string]: string | number | boolean | [string | number | boolean, ...(string | number | boolean)[]] | undefined;
  };
  /**
   * @minItems 1
   */
  all?: [Condition, ...Condition[]];
  /**
   * @minItems 1
   */
  any?: [Condition, ...Condition[]];
  not?: Condition;
}
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "Input".
 */
export interface Input {
  type: 'choice' | 'string' | 'number' | 'boolean';
  title?: string;
  description?: string;
  /**
   * @minItems 1
   */
  choices?: [string, ...string[]];
  default: string | number | boolean;
  minimum?: number;
  maximum?: number;
  /**
   * For string inputs: a regular expression the value must match.
   */
  pattern?: string;
}
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "Weight".
 */
export interface Weight {
  id: string;
  url: string;
  /**
   * Where the weight appears for the app, relative to apps/<id>/models/.
   */
  file: string;
  /**
   * Bytes, only when read from a public source.
   */
  size?: number;
  /**
   * Only when read from a public source.
   */
  sha256?: string;
  mirrors?: string[];
  auth?: 'huggingface';
  gated?: {
    /**
     * Where the user accepts the licence.
     */
    page: string;
  };
  when?: Condition;
}
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "GitStep".
 */
export interface GitStep {
  kind: 'git';
  id?: StepId;
  title?: string;
  when?: Condition;
  /**
   * Seconds.
   */
  timeout?: number;
  /**
   * https URL, or a local path/file URL (tests).
   */
  url: string;
  /**
   * A full 40-hex commit (pinned). A branch or tag is allowed and shown as unpinned in the plan.
   */
  ref: string;
  /**
   * Folder relative to apps/<id>/ (default: app).
   */
  dest?: string;
  submodules?: boolean;
}
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "ExtractStep".
 */
export interface ExtractStep {
  kind: 'extract';
  id?: StepId;
  title?: string;
  when?: Condition;
  timeout?: number;
  /**
   * A .tar, .tar.gz or .tgz inside the app folder, the recipe folder or the store ({{weights.<id>.path}}).
   */
  archive: string;
  /**
   * Folder relative to apps/<id>/ (default: app).
   */
  dest?: string;
  strip?: number;
}
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "EnvStep".
 */
export interface EnvStep {
  kind: 'env';
  id?: StepId;
  title?: string;
  when?: Condition;
  timeout?: number;
  type: 'python' | 'node' | 'none';
  /**
   * Python version (uv can fetch it; python3 -m venv needs it installed).
   */
  python?: string;
  manager?: 'auto' | 'uv' | 'venv';
}
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "RunStep".
 */
export interface RunStep {
  kind: 'run';
  id?: StepId;
  title?: string;
  when?: Condition;
  timeout?: number;
  /**
   * An argv array. A single string is only allowed with shell: true.
   */
  command: Argv | string;
  shell?: boolean;
  /**
   * Relative to apps/<id>/ (default: app).
   */
  cwd?: string;
  env?: EnvVars;
  /**
   * Put the app's environment (venv / node prefix) first on PATH.
   */
  useEnv?: boolean;
  /**
   * Whether the command needs the network (pip install, a download). Without it the confined command has no network at all.
   */
  network?: boolean;
  /**
   * Network hosts the command contacts, for the plan (pip index, git host…).
   */
  hosts?: string[];
}
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "EnvVars".
 */
export interface EnvVars {
  [k: string]: string | undefined;
}
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "WriteStep".
 */
export interface WriteStep {
  kind: 'write';
  id?: StepId;
  title?: string;
  when?: Condition;
  timeout?: number;
  /**
   * Relative to apps/<id>/.
   */
  path: string;
  /**
   * Text, templated. Exactly one of content and json.
   */
  content?: string;
  /**
   * A JSON object or array written as the file; every string in it is templated. Exactly one of content and json.
   */
  json?: {} | unknown[];
  mode?: string;
}
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "FetchStep".
 */
export interface FetchStep {
  kind: 'fetch';
  id?: StepId;
  title?: string;
  when?: Condition;
  timeout?: number;
  /**
   * Weight ids to fetch into the store (default: every declared weight whose condition holds).
   */
  weights?: string[];
}
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "LinkStep".
 */
export interface LinkStep {
  kind: 'link';
  id?: StepId;
  title?: string;
  when?: Condition;
  timeout?: number;
  weight: string;
  /**
   * Relative to apps/<id>/ (default: models/<file of the weight>).
   */
  to?: string;
}
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "VerifyStep".
 */
export interface VerifyStep {
  kind: 'verify';
  id?: StepId;
  title?: string;
  when?: Condition;
  timeout?: number;
}
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "Verify".
 */
export interface Verify {
  probe: {
    type: 'python-torch' | 'mlx' | 'llm' | 'sdcpp' | 'command';
    /**
     * For llm: the GGUF to load.
     */
    model?: string;
    /**
     * For sdcpp: the sd-server/sd binary.
     */
    binary?: string;
    command?: Argv;
  };
  /**
   * The first entry whose condition holds gives the backend this app must use.
   *
   * @minItems 1
   */
  expect: [
    {
      when?: Condition;
      backend: Backend;
    },
    ...{
      when?: Condition;
      backend: Backend;
    }[]
  ];
}
/**
 * This interface was referenced by `Recipe`'s JSON-Schema
 * via the `definition` "Service".
 */
export interface Service {
  /**
   * llm/image/video run Orchard's bundled service; llm-cluster runs the model's layers over cluster hosts (llama.cpp RPC, args --model and
   * --hosts); command runs the app's own program.
   */
  type: 'llm' | 'image' | 'video' | 'llm-cluster' | 'command';
  /**
   * For type llm: the model can also run across cluster hosts (llama.cpp RPC, docs/cluster.md). The recipe then declares a string input
   * "hosts"; when it is not empty, the service runs as llm-cluster over those hosts with the same arguments.
   */
  cluster?: boolean;
  /**
   * For type llm: gguf runs Orchard's node-llama-cpp service; mlx runs Orchard's wrapper around mlx_lm.server (same HTTP contract, Apple
   * Silicon only).
   */
  engine?: 'gguf' | 'mlx';
  command?: Argv1;
  /**
   * Extra arguments for a bundled service.
   */
  args?: string[];
  cwd?: string;
  env?: EnvVars;
  readiness: {
    /**
     * Path that answers 2xx when ready.
     */
    http?: string;
    /**
     * Regular expression matched against the service's output.
     */
    log?: string;
    timeout?: number;
  };
  /**
   * Path of the app's own web UI, when it has one.
   */
  ui?: string;
  restart?: {
    policy?: 'never' | 'on-failure' | 'always';
    maxRestarts?: number;
    backoffMs?: number;
  };
  stopGraceSeconds?: number;
}
