import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { envSetting } from '../core/env-settings.js';
import { OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import type { EngineBuild } from './hosts.js';

/** The app the `llamacpp-engine` recipe installs; its build folder holds both binaries. */
export const ENGINE_APP_ID = 'llamacpp-engine';

export interface EngineBinaries {
  binDir: string;
  llamaServer: string;
  rpcServer: string;
}

/**
 * Where this machine's llama.cpp RPC build is: `ORCHARD_LLAMACPP_BIN` (a folder holding
 * `llama-server` and `ggml-rpc-server`, for development and tests), else the installed
 * `llamacpp-engine` app's build.
 */
export function engineBinaries(home: OrchardHome, env: NodeJS.ProcessEnv = process.env): EngineBinaries {
  const override = envSetting('ORCHARD_LLAMACPP_BIN', env);
  const binDir = override ? path.resolve(override) : path.join(home.apps, ENGINE_APP_ID, 'app', 'build', 'bin');
  const bins = { binDir, llamaServer: path.join(binDir, 'llama-server'), rpcServer: path.join(binDir, 'ggml-rpc-server') };
  for (const file of [bins.llamaServer, bins.rpcServer]) {
    if (!existsSync(file)) {
      throw new OrchardError('NOT_INSTALLED', `the llama.cpp RPC engine is not installed here (${path.basename(file)} is missing)`, {
        where: file,
        hint: 'Run `orchard install llamacpp-engine` on this machine (every node of a cluster needs the same build).',
      });
    }
  }
  return bins;
}

/**
 * The build's identity from `llama-server --version` ("version: 1 (80fb11a)"): every node must run
 * the same one, because ggml-rpc refuses a peer with another major version or a newer minor one.
 */
export async function engineBuild(bins: EngineBinaries): Promise<EngineBuild> {
  const out = await execa(bins.llamaServer, ['--version'], { reject: false, stdin: 'ignore', timeout: 30_000 });
  const text = `${out.stdout}\n${out.stderr}`;
  const version = /^version:\s*(.+)$/m.exec(text)?.[1]?.trim();
  if (!version)
    throw new OrchardError('SERVICE', `llama-server --version printed no version line`, {
      where: bins.llamaServer,
      hint: 'Reinstall the engine: orchard install llamacpp-engine --force.',
    });
  return { version, binDir: bins.binDir };
}

/**
 * What the head service (`service llm-cluster`, Orchard's own program) needs beyond an app's
 * environment: ORCHARD_HOME, for the host list and Orchard's SSH key and known_hosts, and the
 * engine location when it is overridden.
 */
export function clusterServiceEnv(home: OrchardHome, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const override = envSetting('ORCHARD_LLAMACPP_BIN', env);
  return { ORCHARD_HOME: home.root, ...(override ? { ORCHARD_LLAMACPP_BIN: override } : {}) };
}
