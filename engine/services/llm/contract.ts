/**
 * The LLM service's OpenAI-compatible API, route by route: method, path, the JSON body it takes
 * and the JSON it answers. The server validates request bodies against REQUEST_SCHEMAS
 * (core/json-contract.ts) before any generation: a wrong type is a 400 in OpenAI's error shape whose
 * `param` is the JSON pointer. The route table (server.ts) is checked against this list by
 * test/llm/contract.test.ts.
 *
 * OpenAI clients send many fields the service ignores (n, user, logprobs, stream_options, tools…):
 * the schemas never refuse unknown fields, and type only the fields the service reads. Ranges and
 * cross-field rules stay in request-params.ts, generation.ts and embeddings.ts, which name the
 * parameter OpenAI's way.
 */
export type JsonSchema = { readonly [key: string]: unknown };

export interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: unknown[];
  usage: Usage;
}

export interface TextCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: unknown[];
  usage: Usage;
}

export interface EmbeddingList {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** Each route; a streamed completion answers server-sent events of chunks instead of the JSON below. */
export interface LlmRoutes {
  'GET /health': { response: Record<string, unknown> };
  'GET /metrics': { response: Record<string, unknown> };
  'GET /v1/models': { response: { object: 'list'; data: ModelEntry[] } };
  'GET /v1/models/:model': { response: ModelEntry };
  'POST /v1/chat/completions': { body: Record<string, unknown>; response: ChatCompletion };
  'POST /v1/completions': { body: Record<string, unknown>; response: TextCompletion };
  'POST /v1/embeddings': { body: Record<string, unknown>; response: EmbeddingList };
}

export type LlmRouteKey = keyof LlmRoutes;

// Union types rather than anyOf: ajv's strict mode wants a type beside every keyword.
const number: JsonSchema = { type: ['number', 'null'] };
const integer: JsonSchema = { type: ['integer', 'null'] };
const stringOrStrings: JsonSchema = { type: ['string', 'array'], items: { type: 'string' } };

/** The sampling fields both completion routes read (request-params.ts). */
const sampling: Record<string, JsonSchema> = {
  model: { type: 'string' },
  max_tokens: integer,
  max_completion_tokens: integer,
  temperature: number,
  top_p: number,
  seed: integer,
  n: integer,
  stop: { type: ['string', 'array', 'null'], items: { type: 'string' } },
  stream: { type: ['boolean', 'null'] },
  stream_options: { type: ['object', 'null'], properties: { include_usage: { type: ['boolean', 'null'] } } },
  response_format: {
    type: ['object', 'null'],
    properties: {
      type: { type: 'string' },
      json_schema: { type: 'object', properties: { schema: { type: 'object' } } },
    },
    required: ['type'],
  },
};

/** A message's content: a string or an array of parts (the service reads the text parts). */
const content: JsonSchema = { type: ['string', 'array', 'null'], items: { type: 'object' } };

const body = (properties: Record<string, JsonSchema>, required: string[]): JsonSchema => ({
  type: 'object',
  properties,
  required,
});

export const REQUEST_SCHEMAS: { readonly [K in LlmRouteKey]?: JsonSchema } = {
  'POST /v1/chat/completions': body(
    {
      ...sampling,
      messages: { type: 'array', items: { type: 'object', properties: { role: { type: 'string' }, content }, required: ['role'] } },
    },
    ['messages'],
  ),
  'POST /v1/completions': body({ ...sampling, prompt: stringOrStrings }, ['prompt']),
  'POST /v1/embeddings': body({ model: { type: 'string' }, input: stringOrStrings, encoding_format: { type: 'string' } }, ['input']),
};
