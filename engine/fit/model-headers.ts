import { OrchardError } from '../core/errors.js';
import { openByteSource } from './byte-source.js';
import { numberKey, readGgufHeader, type GgufHeader } from './gguf-header.js';
import { modelShape, validateModelHeader, type ModelShape } from './model-shape.js';

const SPLIT_NAME = /-(\d{5})-of-(\d{5})\.gguf$/;

/** The names of every part of a split GGUF, from the name of its first part (llama.cpp's naming). */
export function splitPartNames(first: string, count: number): string[] {
  const m = SPLIT_NAME.exec(first);
  if (!m || Number(m[1]) !== 1 || Number(m[2]) !== count) {
    throw new OrchardError(
      'MODEL',
      `the model says it is split in ${count} parts, but its name does not end in -00001-of-${String(count).padStart(5, '0')}.gguf`,
      {
        where: first,
        hint: 'Keep the part files under their original names, side by side.',
      },
    );
  }
  return Array.from({ length: count }, (_, i) => first.replace(SPLIT_NAME, `-${String(i + 1).padStart(5, '0')}-of-${m[2]}.gguf`));
}

export interface ReadModelOptions {
  /** Extra HTTP headers for remote reads (e.g. authorization for a gated model). */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Read and validate the header of a model (every part of a split one), file or URL. */
export async function readModelHeaders(fileOrUrl: string, o: ReadModelOptions = {}): Promise<GgufHeader[]> {
  const first = await readGgufHeader(openByteSource(fileOrUrl, o));
  validateModelHeader(first);
  const count = numberKey(first, 'split.count') ?? 1;
  if (count <= 1) return [first];
  const names = splitPartNames(fileOrUrl, count);
  const rest: GgufHeader[] = [];
  for (const name of names.slice(1)) rest.push(await readGgufHeader(openByteSource(name, o)));
  return [first, ...rest];
}

export async function readModelShape(fileOrUrl: string, o: ReadModelOptions = {}): Promise<ModelShape> {
  return modelShape(await readModelHeaders(fileOrUrl, o));
}
