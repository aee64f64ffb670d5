import { open } from 'node:fs/promises';

/**
 * Writes a real, tiny GGUF v3 "llama" model that llama.cpp loads and runs on a CPU in milliseconds
 * (layout and required keys: /work/shared/research/node-llama-cpp.md §1).
 *
 * Vocabulary (260): 0 <unk>, 1 <s>, 2 </s>, 3..258 the bytes <0x00>..<0xFF>, 259 "▁".
 * - mode "successor": hand-shaped weights, so greedy output is the alphabet after the prompt's last
 *   letter, then end-of-sequence ("Hello" → "pqrstuvwxyz"; any non-letter → "abc…z").
 * - mode "random": seeded Gaussian weights; only run-to-run equality can be asserted.
 */
export interface TinyGgufOptions {
  mode: 'successor' | 'random';
  seed?: number;
  layers?: number;
  embd?: number;
  heads?: number;
  /** Defaults to 2 × embd. */
  ff?: number;
  /** llama.context_length (the training context). */
  ctx?: number;
  /** Store the 2-D matrices as F16 (else F32). Norms stay F32, as upstream converters do. */
  f16?: boolean;
  /** A short Jinja chat template, so chat needs no long default system prompt. Default true. */
  chatTemplate?: boolean;
  /** Leave these metadata keys out (to test header validation). */
  omitKeys?: string[];
}

export interface TinyGgufResult {
  bytes: number;
  parameters: number;
  tensors: number;
}

const TYPE = { U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;
const VOCAB = 260;
const SPACE_TOKEN = 259;
const ALIGN = 32;

/**
 * Each turn ends with the end-of-sequence token, as in real templates (Llama 2, Mistral, Zephyr end
 * a turn with </s>; Llama 3 with <|eot_id|>). An earlier version ended turns with a plain "\n": the
 * chat wrapper then stops on "\n", and a JSON-schema grammar that allows a newline after "{" was cut
 * there (the reply was just "{").
 */
export const TINY_CHAT_TEMPLATE =
  "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}</s>{% endfor %}{% if add_generation_prompt " +
  '%}<|assistant|>{% endif %}';

type Kv = [key: string, type: number, value: unknown, elementType?: number];

export async function writeTinyGguf(file: string, options: TinyGgufOptions): Promise<TinyGgufResult> {
  const layers = options.layers ?? 2;
  const embd = options.embd ?? 64;
  const heads = options.heads ?? 4;
  const ff = options.ff ?? embd * 2;
  const ctx = options.ctx ?? 256;
  const headDim = embd / heads;
  if (!Number.isInteger(headDim)) throw new Error('embd must be a multiple of heads');
  if (options.mode === 'successor' && embd < 27) throw new Error('successor mode needs embd >= 27');
  const matrixType = options.f16 ? 1 : 0;
  const rand = gaussian(options.seed ?? 1);

  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  for (let b = 0; b < 256; b++) tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  tokens.push('\u2581');
  const tokenTypes = tokens.map((_, i) => (i === 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1));
  const scores = tokens.map((_, i) => (i === SPACE_TOKEN ? -1 : 0));

  const kvs: Kv[] = [
    ['general.architecture', TYPE.STRING, 'llama'],
    ['general.name', TYPE.STRING, `tiny-${options.mode}`],
    ['general.alignment', TYPE.U32, ALIGN],
    ['general.file_type', TYPE.U32, options.f16 ? 1 : 0],
    ['llama.context_length', TYPE.U32, ctx],
    ['llama.embedding_length', TYPE.U32, embd],
    ['llama.block_count', TYPE.U32, layers],
    ['llama.feed_forward_length', TYPE.U32, ff],
    ['llama.attention.head_count', TYPE.U32, heads],
    ['llama.attention.head_count_kv', TYPE.U32, heads],
    ['llama.rope.dimension_count', TYPE.U32, headDim],
    ['llama.rope.freq_base', TYPE.F32, 10000],
    ['llama.attention.layer_norm_rms_epsilon', TYPE.F32, 1e-5],
    ['llama.vocab_size', TYPE.U32, VOCAB],
    ['tokenizer.ggml.model', TYPE.STRING, 'llama'],
    ['tokenizer.ggml.tokens', TYPE.ARRAY, tokens, TYPE.STRING],
    ['tokenizer.ggml.scores', TYPE.ARRAY, scores, TYPE.F32],
    ['tokenizer.ggml.token_type', TYPE.ARRAY, tokenTypes, TYPE.I32],
    ['tokenizer.ggml.bos_token_id', TYPE.U32, 1],
    ['tokenizer.ggml.eos_token_id', TYPE.U32, 2],
    ['tokenizer.ggml.unknown_token_id', TYPE.U32, 0],
    ['tokenizer.ggml.add_bos_token', TYPE.BOOL, true],
    ['tokenizer.ggml.add_eos_token', TYPE.BOOL, false],
  ];
  if (options.chatTemplate !== false) kvs.push(['tokenizer.chat_template', TYPE.STRING, TINY_CHAT_TEMPLATE]);
  const omit = new Set(options.omitKeys ?? []);
  const keptKvs = kvs.filter(([key]) => !omit.has(key));

  // Tensors: [name, ne0, ne1 (1 for vectors), fill]. ggml order: ne0 is the row length.
  type Fill = (row: number, col: number) => number;
  const succ = options.mode === 'successor';
  const std =
    (s: number): Fill =>
    () =>
      rand() * s;
  const ones: Fill = () => 1;
  const layerStd = succ ? 0.02 : 0.2;
  const letterOf = (token: number): number => {
    const byte = token - 3;
    return byte >= 97 && byte <= 122 ? byte - 97 : -1;
  };
  const embedFill: Fill = succ
    ? (row, col) => {
        const letter = letterOf(row);
        const hot = letter >= 0 ? letter : 26;
        return (col === hot ? 1 : 0) + rand() * 0.01;
      }
    : std(1);
  const outputFill: Fill = succ
    ? (row, col) => {
        const letter = letterOf(row);
        const reads = letter > 0 ? letter - 1 : letter === 0 ? 26 : row === 2 ? 25 : -1;
        return col === reads ? 2 : 0;
      }
    : std(0.5);
  const tensors: { name: string; ne0: number; ne1: number; type: number; fill: Fill }[] = [
    { name: 'token_embd.weight', ne0: embd, ne1: VOCAB, type: matrixType, fill: embedFill },
    { name: 'output_norm.weight', ne0: embd, ne1: 1, type: 0, fill: ones },
    { name: 'output.weight', ne0: embd, ne1: VOCAB, type: matrixType, fill: outputFill },
  ];
  for (let i = 0; i < layers; i++) {
    const m = (name: string, ne0: number, ne1: number) =>
      tensors.push({ name: `blk.${i}.${name}`, ne0, ne1, type: matrixType, fill: std(layerStd) });
    tensors.push({ name: `blk.${i}.attn_norm.weight`, ne0: embd, ne1: 1, type: 0, fill: ones });
    m('attn_q.weight', embd, embd);
    m('attn_k.weight', embd, embd);
    m('attn_v.weight', embd, embd);
    m('attn_output.weight', embd, embd);
    tensors.push({ name: `blk.${i}.ffn_norm.weight`, ne0: embd, ne1: 1, type: 0, fill: ones });
    m('ffn_gate.weight', embd, ff);
    m('ffn_up.weight', embd, ff);
    m('ffn_down.weight', ff, embd);
  }

  const header = new ByteWriter();
  header.u32(0x46554747).u32(3).u64(tensors.length).u64(keptKvs.length);
  for (const [key, type, value, elementType] of keptKvs) {
    header.str(key).u32(type);
    if (type === TYPE.ARRAY) {
      const items = value as unknown[];
      header.u32(elementType!).u64(items.length);
      for (const item of items) header.value(elementType!, item);
    } else header.value(type, value);
  }
  let offset = 0;
  const sizes: number[] = [];
  for (const t of tensors) {
    const bytes = t.ne0 * t.ne1 * (t.type === 1 ? 2 : 4);
    sizes.push(bytes);
    header.str(t.name);
    if (t.ne1 === 1) header.u32(1).u64(t.ne0);
    else header.u32(2).u64(t.ne0).u64(t.ne1);
    header.u32(t.type).u64(offset);
    offset += pad(bytes);
  }
  const head = header.toBuffer();
  const fh = await open(file, 'w');
  let parameters = 0;
  try {
    await fh.write(Buffer.concat([head, Buffer.alloc(pad(head.length) - head.length)]));
    for (const [i, t] of tensors.entries()) {
      parameters += t.ne0 * t.ne1;
      // Row by row in chunks, so a few-hundred-MB model never sits in memory at once.
      const rowsPerChunk = Math.max(1, Math.floor((1 << 20) / t.ne0));
      for (let r0 = 0; r0 < t.ne1; r0 += rowsPerChunk) {
        const rows = Math.min(rowsPerChunk, t.ne1 - r0);
        const buf = Buffer.alloc(rows * t.ne0 * (t.type === 1 ? 2 : 4));
        let at = 0;
        for (let r = r0; r < r0 + rows; r++) {
          for (let c = 0; c < t.ne0; c++) {
            const v = t.fill(r, c);
            if (t.type === 1) at = buf.writeUInt16LE(toHalf(v), at);
            else at = buf.writeFloatLE(v, at);
          }
        }
        await fh.write(buf);
      }
      const padding = pad(sizes[i]!) - sizes[i]!;
      if (padding > 0 && i < tensors.length - 1) await fh.write(Buffer.alloc(padding));
    }
  } finally {
    await fh.close();
  }
  const { size } = await (await import('node:fs/promises')).stat(file);
  return { bytes: size, parameters, tensors: tensors.length };
}

function pad(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** mulberry32 + Box–Muller: reproducible Gaussians for a seed. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform());
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** float32 → IEEE half (round to nearest; small values flush to zero), since Node 20 has no Float16Array. */
function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  const half = sign | (exp << 10) | (mant >>> 13);
  return mant & 0x1000 ? half + 1 : half;
}

class ByteWriter {
  private chunks: Buffer[] = [];
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.chunks.push(b);
    return this;
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.chunks.push(b);
    return this;
  }
  f32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.chunks.push(b);
    return this;
  }
  u64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.chunks.push(b);
    return this;
  }
  str(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.chunks.push(bytes);
    return this;
  }
  value(type: number, v: unknown): this {
    switch (type) {
      case TYPE.U32:
        return this.u32(v as number);
      case TYPE.I32:
        return this.i32(v as number);
      case TYPE.F32:
        return this.f32(v as number);
      case TYPE.BOOL:
        this.chunks.push(Buffer.from([v ? 1 : 0]));
        return this;
      case TYPE.STRING:
        return this.str(v as string);
      default:
        throw new Error(`unsupported GGUF value type ${type}`);
    }
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
