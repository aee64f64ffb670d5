import { OrchardError } from '../core/errors.js';
import type { ByteSource } from './byte-source.js';

/**
 * The header of a .safetensors file: 8 bytes of little-endian header length N, then N bytes of
 * JSON `{ "<tensor>": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…} }`,
 * then the data. Reading it costs N + 8 bytes, whatever the file's size.
 */
export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** end - begin of data_offsets: the tensor's exact bytes in the file. */
  bytes: number;
}

export interface SafetensorsHeader {
  where: string;
  headerBytes: number;
  tensors: SafetensorsTensor[];
  metadata: Record<string, string>;
  /** Sum of the tensors' bytes. */
  dataBytes: number;
}

/** The format's own bound (safetensors refuses headers over 100 MB). */
const MAX_HEADER = 100_000_000;
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

export async function readSafetensorsHeader(src: ByteSource): Promise<SafetensorsHeader> {
  const bad = (what: string): never => {
    throw new OrchardError('MODEL', `not a valid safetensors file: ${what}`, {
      where: src.where,
      hint: 'Check the URL (it must point at the raw file, e.g. …/resolve/<revision>/model.safetensors).',
    });
  };
  const head = await src.read(0, 8);
  if (head.length < 8) bad('shorter than 8 bytes');
  const n = Number(head.readBigUInt64LE(0));
  if (n < 2 || n > MAX_HEADER) bad(`header length ${n}`);
  const json = await src.read(8, n);
  if (json.length !== n) bad(`the header is cut short (${json.length} of ${n} bytes)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch {
    return bad('the header is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return bad('the header is not a JSON object');
  const tensors: SafetensorsTensor[] = [];
  let metadata: Record<string, string> = {};
  let end = 0;
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = Object.fromEntries(
        Object.entries((value ?? {}) as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
      continue;
    }
    const t = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const offsets = t.data_offsets;
    if (typeof t.dtype !== 'string' || !Array.isArray(t.shape) || !Array.isArray(offsets) || offsets.length !== 2)
      bad(`tensor "${name}" lacks dtype, shape or data_offsets`);
    const [begin, stop] = offsets as number[];
    if (!Number.isInteger(begin) || !Number.isInteger(stop) || (begin as number) < 0 || (stop as number) < (begin as number))
      bad(`tensor "${name}" has offsets ${JSON.stringify(offsets)}`);
    const shape = (t.shape as unknown[]).map(Number);
    const bytes = (stop as number) - (begin as number);
    const per = DTYPE_BYTES[t.dtype as string];
    // A known dtype must fill exactly its shape; a packed one (U32 holding 4-bit weights) is checked by its own reader.
    if (per !== undefined && shape.reduce((a, b) => a * b, 1) * per !== bytes)
      bad(`tensor "${name}" (${String(t.dtype)} ${JSON.stringify(shape)}) spans ${bytes} bytes`);
    end = Math.max(end, stop as number);
    tensors.push({ name, dtype: t.dtype as string, shape, bytes });
  }
  const size = await src.size();
  if (size !== undefined && size < 8 + n + end) bad(`the data ends at ${8 + n + end} but the file has ${size} bytes`);
  return { where: src.where, headerBytes: 8 + n, tensors, metadata, dataBytes: tensors.reduce((s, t) => s + t.bytes, 0) };
}
