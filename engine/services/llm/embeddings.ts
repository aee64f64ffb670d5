import type { ServerResponse } from 'node:http';
import { badRequest, sendJson } from '../../openai/api-error.js';
import { asBody } from './request-params.js';
import type { ServiceState } from './service-state.js';

/** POST /v1/embeddings: `input` is a string or an array of strings; one vector each. */
export async function handleEmbeddings(state: ServiceState, res: ServerResponse, raw: unknown): Promise<void> {
  const body = asBody(raw);
  const input = body['input'];
  const texts =
    typeof input === 'string'
      ? [input]
      : Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string')
        ? (input as string[])
        : undefined;
  if (!texts) throw badRequest("'input' must be a string or a non-empty array of strings.", 'input');
  if (texts.some((t) => t.length === 0)) throw badRequest("'input' must not contain empty strings.", 'input');
  const format = body['encoding_format'];
  if (format !== undefined && format !== 'float' && format !== 'base64')
    throw badRequest("'encoding_format' must be float or base64.", 'encoding_format');

  const { llm } = state;
  state.embedding ??= llm.model.createEmbeddingContext({
    contextSize: llm.contextSize,
    ...(llm.threads !== undefined ? { threads: llm.threads } : {}),
  });
  const context = await state.embedding;
  const run = state.embeddingQueue.then(async () => {
    const vectors: number[][] = [];
    let tokens = 0;
    for (const text of texts) {
      const length = llm.model.tokenize(text).length;
      if (length > llm.contextSize)
        throw badRequest(`an input has ${length} tokens, more than the context of ${llm.contextSize}.`, 'input', 'context_length_exceeded');
      tokens += length;
      vectors.push([...(await context.getEmbeddingFor(text)).vector]);
    }
    return { vectors, tokens };
  });
  state.embeddingQueue = run.catch(() => undefined);
  const { vectors, tokens } = await run;
  sendJson(res, 200, {
    object: 'list',
    data: vectors.map((v, index) => ({
      object: 'embedding',
      index,
      embedding: format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v,
    })),
    model: state.modelId,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}
