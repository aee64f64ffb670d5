import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../engine/core/atomic-write.js';
import type { EnvParams } from './env-params.js';

/**
 * A node "environment" is a prefix folder: `npm i -g` installs into <dir>/lib/node_modules with
 * commands in <dir>/bin (first on PATH). The prefix is set in the sandbox HOME's `.npmrc`
 * (npm's user config, since HOME points into the app) and in the prefix's own `etc/npmrc`.
 */
export async function ensureNodeEnv(params: EnvParams, o: { home: string; log: (line: string) => void }): Promise<{ kept: boolean }> {
  const npmrcLine = `prefix=${params.dir}\n`;
  const userNpmrc = path.join(o.home, '.npmrc');
  const globalNpmrc = path.join(params.dir, 'etc', 'npmrc');
  const complete =
    existsSync(path.join(params.dir, 'bin')) &&
    existsSync(path.join(params.dir, 'lib', 'node_modules')) &&
    (await readFile(userNpmrc, 'utf8').catch(() => '')).includes(npmrcLine) &&
    (await readFile(globalNpmrc, 'utf8').catch(() => '')) === npmrcLine;
  if (complete) {
    o.log(`keeping the existing node prefix ${params.dir}`);
    return { kept: true };
  }
  await mkdir(path.join(params.dir, 'bin'), { recursive: true });
  await mkdir(path.join(params.dir, 'lib', 'node_modules'), { recursive: true });
  await writeFileAtomic(globalNpmrc, npmrcLine);
  const existing = (await readFile(userNpmrc, 'utf8').catch(() => ''))
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^\s*prefix\s*=/.test(line));
  await writeFileAtomic(userNpmrc, [...existing, npmrcLine.trimEnd()].join('\n') + '\n');
  o.log(`made a node prefix in ${params.dir} (npm i -g installs there)`);
  return { kept: false };
}
