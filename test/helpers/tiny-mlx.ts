/**
 * Generated MLX models in mlx-lm's layout (config.json, model-0000N-of-0000M.safetensors,
 * model.safetensors.index.json), with 4-bit quantized linear layers stored the way mlx-lm's
 * convert writes them: `.weight` uint32 [out, in·bits/32], `.scales` and `.biases` bf16
 * [out, in/group]. Data bytes are zeros: only headers and sizes matter to the fit.
 */
export interface TinyMlxOptions {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  vocab: number;
  bits: number;
  groupSize: number;
  shards: number;
}

export interface TinyMlxModel {
  files: Record<string, Buffer>;
  config: Record<string, unknown>;
  /** What the test expects, computed independently of the engine's reader. */
  expected: { dataBytes: number; parameters: number; headerBytes: number; totalBytes: number };
}

const DTYPE_BYTES: Record<string, number> = { U32: 4, BF16: 2, F16: 2, F32: 4 };

export function tinyMlxModel(o: TinyMlxOptions): TinyMlxModel {
  const headDim = o.hidden / o.heads;
  const tensors: { name: string; dtype: string; shape: number[]; params: number }[] = [];
  const quantized = (name: string, out: number, inp: number): void => {
    tensors.push({ name: `${name}.weight`, dtype: 'U32', shape: [out, (inp * o.bits) / 32], params: out * inp });
    tensors.push({ name: `${name}.scales`, dtype: 'BF16', shape: [out, inp / o.groupSize], params: 0 });
    tensors.push({ name: `${name}.biases`, dtype: 'BF16', shape: [out, inp / o.groupSize], params: 0 });
  };
  quantized('model.embed_tokens', o.vocab, o.hidden);
  for (let l = 0; l < o.layers; l++) {
    const p = `model.layers.${l}`;
    quantized(`${p}.self_attn.q_proj`, o.heads * headDim, o.hidden);
    quantized(`${p}.self_attn.k_proj`, o.kvHeads * headDim, o.hidden);
    quantized(`${p}.self_attn.v_proj`, o.kvHeads * headDim, o.hidden);
    quantized(`${p}.self_attn.o_proj`, o.hidden, o.heads * headDim);
    quantized(`${p}.mlp.gate_proj`, o.intermediate, o.hidden);
    quantized(`${p}.mlp.up_proj`, o.intermediate, o.hidden);
    quantized(`${p}.mlp.down_proj`, o.hidden, o.intermediate);
    tensors.push({ name: `${p}.input_layernorm.weight`, dtype: 'BF16', shape: [o.hidden], params: o.hidden });
    tensors.push({ name: `${p}.post_attention_layernorm.weight`, dtype: 'BF16', shape: [o.hidden], params: o.hidden });
  }
  tensors.push({ name: 'model.norm.weight', dtype: 'BF16', shape: [o.hidden], params: o.hidden });
  quantized('lm_head', o.vocab, o.hidden);

  const files: Record<string, Buffer> = {};
  const weightMap: Record<string, string> = {};
  const perShard = Math.ceil(tensors.length / o.shards);
  let dataBytes = 0;
  let headerBytes = 0;
  for (let s = 0; s < o.shards; s++) {
    const name =
      o.shards === 1 ? 'model.safetensors' : `model-${String(s + 1).padStart(5, '0')}-of-${String(o.shards).padStart(5, '0')}.safetensors`;
    const header: Record<string, unknown> = { __metadata__: { format: 'mlx' } };
    let offset = 0;
    for (const t of tensors.slice(s * perShard, (s + 1) * perShard)) {
      const bytes = t.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[t.dtype] ?? 1);
      header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
      offset += bytes;
      weightMap[t.name] = name;
    }
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    files[name] = Buffer.concat([len, json, Buffer.alloc(offset)]);
    dataBytes += offset;
    headerBytes += 8 + json.length;
  }
  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: o.hidden,
    intermediate_size: o.intermediate,
    num_attention_heads: o.heads,
    num_hidden_layers: o.layers,
    num_key_value_heads: o.kvHeads,
    max_position_embeddings: 131072,
    vocab_size: o.vocab,
    torch_dtype: 'bfloat16',
    quantization: { group_size: o.groupSize, bits: o.bits },
  };
  files['config.json'] = Buffer.from(JSON.stringify(config, null, 2));
  if (o.shards > 1)
    files['model.safetensors.index.json'] = Buffer.from(JSON.stringify({ metadata: { total_size: dataBytes }, weight_map: weightMap }));
  const parameters = tensors.reduce((s, t) => s + t.params, 0);
  return { files, config, expected: { dataBytes, parameters, headerBytes, totalBytes: dataBytes + headerBytes } };
}
