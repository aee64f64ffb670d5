import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import { llamaCppSourceBundle } from '../../engine/core/bundled-sources.js';
import { runCli } from './cli.js';
import { tempDir } from './paths.js';

/**
 * The real llama.cpp RPC engine for tests, built once by the real `llamacpp-engine` recipe through
 * the real CLI (about 8 minutes on 2 cores) and kept in a cache folder keyed by the source bundle's
 * hash, so later runs (and CI on the same machine) reuse it. Missing build tools give a skip reason.
 */
export interface LlamaCppBuild {
  binDir: string;
  llamaServer: string;
  rpcServer: string;
}

export async function llamaCppBuild(): Promise<LlamaCppBuild | { skip: string }> {
  for (const tool of ['git', 'cmake', 'c++', 'make']) {
    const found = await execa('sh', ['-c', 'command -v "$0"', tool], { reject: false });
    if (found.exitCode !== 0) return { skip: `${tool} is not installed: the llama.cpp engine cannot be built here` };
  }
  const bundle = llamaCppSourceBundle();
  const key = (await sha256File(bundle)).slice(0, 16);
  const cacheRoot =
    process.env['ORCHARD_TEST_CACHE'] ?? path.join(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'orchard-test');
  const dir = path.join(cacheRoot, `llamacpp-${key}`);
  const bin = path.join(dir, 'bin');
  const result = { binDir: bin, llamaServer: path.join(bin, 'llama-server'), rpcServer: path.join(bin, 'ggml-rpc-server') };
  if (existsSync(result.llamaServer) && existsSync(result.rpcServer)) return result;

  // One builder at a time (test files run two at once): a lock folder, waited on by the others.
  await mkdir(cacheRoot, { recursive: true });
  const lock = `${dir}.lock`;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      if (existsSync(result.llamaServer)) return result;
      await delay(2000);
    }
  }
  try {
    if (existsSync(result.llamaServer) && existsSync(result.rpcServer)) return result;
    const home = await tempDir('orchard llamacpp build ');
    try {
      process.stderr.write(`# building llama.cpp (llamacpp-engine recipe) into ${dir}: about 8 minutes on 2 cores, once\n`);
      const r = await runCli(['install', 'llamacpp-engine', '--force', '--allow-cpu', '--json'], {
        home: home.dir,
        timeoutMs: 60 * 60_000,
      });
      if (r.code !== 0)
        throw new Error(`the llamacpp-engine recipe did not install (exit ${r.code}):\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-2000)}`);
      const built = path.join(home.dir, 'apps', 'llamacpp-engine', 'app', 'build', 'bin');
      const staging = `${dir}.staging`;
      await rm(staging, { recursive: true, force: true });
      await mkdir(staging, { recursive: true });
      for (const name of ['llama-server', 'ggml-rpc-server']) await cp(path.join(built, name), path.join(staging, 'bin', name));
      await writeFile(path.join(staging, 'SOURCE'), `built by the llamacpp-engine recipe from ${bundle} (sha256 prefix ${key})\n`);
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
    } finally {
      await home.cleanup();
    }
    return result;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}
