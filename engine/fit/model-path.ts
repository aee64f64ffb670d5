import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { OrchardError } from '../core/errors.js';

/** A file, or a folder holding one model (a single .gguf, or the first part of a split one). */
export async function resolveModelPath(p: string): Promise<string> {
  const info = await stat(p).catch(() => undefined);
  if (!info) throw new OrchardError('MODEL', 'the model file does not exist', { where: p, hint: 'Check the --model path.' });
  if (info.isFile()) return p;
  const ggufs = (await readdir(p)).filter((f) => f.endsWith('.gguf')).sort();
  const candidates = ggufs.filter((f) => !/-\d{5}-of-\d{5}\.gguf$/.test(f) || /-00001-of-\d{5}\.gguf$/.test(f));
  if (candidates.length !== 1) {
    throw new OrchardError(
      'MODEL',
      candidates.length === 0 ? 'the model folder holds no .gguf file' : `the model folder holds several models (${candidates.join(', ')})`,
      {
        where: p,
        hint: 'Pass the .gguf file itself with --model.',
      },
    );
  }
  return path.join(p, candidates[0]!);
}
