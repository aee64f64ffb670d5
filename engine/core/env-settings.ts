/**
 * Every environment variable Orchard reads, in one table (name, default, what it does), in the
 * manner of Ollama's envconfig: code reads them through envSetting() and nowhere else, and
 * `orchard doctor --env` prints the table with the values in effect (secrets only as set/not set).
 * Variables Orchard sets for an app's processes (ORCHARD_APP_ROOT, HOME, ...) are the sandbox's
 * (sandbox/environment.ts), not settings.
 */
export interface EnvSetting {
  name: string;
  /** What applies when it is unset, in words. */
  default: string;
  description: string;
  /** Never printed: only whether it is set. */
  secret?: boolean;
}

export const ENV_SETTINGS = [
  { name: 'ORCHARD_HOME', default: '~/Orchard', description: 'Where Orchard keeps apps, the model store, user recipes and orchard.json.' },
  {
    name: 'HF_TOKEN',
    default: 'none',
    description: 'Hugging Face read token for gated weights; the token saved in Settings (orchard.json) wins over it.',
    secret: true,
  },
  {
    name: 'ORCHARD_NO_CONFINEMENT',
    default: '0',
    description: '1: run recipe steps without OS confinement (bubblewrap / sandbox-exec); the plan says so.',
  },
  {
    name: 'ORCHARD_LLAMACPP_BIN',
    default: "the llamacpp-engine app's build",
    description: 'A folder holding llama-server and ggml-rpc-server for clusters (development and tests; every node needs the same build).',
  },
  { name: 'NO_COLOR', default: 'unset', description: 'Set to anything: no colours in the CLI output.' },
  { name: 'SHELL', default: '/bin/sh', description: 'The shell `orchard shell` opens inside an app environment.' },
] as const satisfies readonly EnvSetting[];

export type EnvName = (typeof ENV_SETTINGS)[number]['name'];

/** The value of a setting, or undefined when unset or empty. */
export function envSetting(name: EnvName, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** The table with the values in effect, for `orchard doctor --env`. */
export function envReport(env: NodeJS.ProcessEnv = process.env): (EnvSetting & { value: string | null })[] {
  return ENV_SETTINGS.map((s) => {
    const value = envSetting(s.name, env);
    const shown = value === undefined ? null : 'secret' in s && s.secret ? '(set)' : value;
    return { ...s, value: shown };
  });
}
