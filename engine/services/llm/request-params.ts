import { badRequest } from '../../openai/api-error.js';

/**
 * Validation of the OpenAI request fields the service supports. Unknown fields are ignored (as
 * OpenAI clients send many); wrong types and ranges are a 400 naming the parameter.
 */
export interface SamplingParams {
  maxTokens: number | undefined;
  temperature: number;
  topP: number | undefined;
  seed: number | undefined;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
}

export type Body = Record<string, unknown>;

export function asBody(value: unknown): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('The request body must be a JSON object.');
  return value as Body;
}

function num(body: Body, key: string, min: number, max: number, integer = false): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)))
    throw badRequest(`'${key}' must be ${integer ? 'an integer' : 'a number'}.`, key, 'invalid_type');
  if (v < min || v > max) throw badRequest(`'${key}' must be between ${min} and ${max}; got ${v}.`, key, 'invalid_value');
  return v;
}

export function samplingParams(body: Body): SamplingParams {
  const maxTokens = num(body, 'max_completion_tokens', 1, 1_000_000, true) ?? num(body, 'max_tokens', 1, 1_000_000, true);
  const temperature = num(body, 'temperature', 0, 2) ?? 1;
  const topP = num(body, 'top_p', 0, 1);
  const seed = num(body, 'seed', -(2 ** 53), 2 ** 53, true);
  const n = num(body, 'n', 1, 1, true);
  void n; // only n = 1 is supported; anything else is refused above
  let stop: string[] = [];
  const s = body['stop'];
  if (typeof s === 'string') stop = [s];
  else if (Array.isArray(s)) {
    if (s.length > 4 || !s.every((x) => typeof x === 'string'))
      throw badRequest("'stop' must be a string or an array of up to 4 strings.", 'stop');
    stop = s as string[];
  } else if (s !== undefined && s !== null) throw badRequest("'stop' must be a string or an array of up to 4 strings.", 'stop');
  const stream = body['stream'];
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') throw badRequest("'stream' must be a boolean.", 'stream');
  const opts = body['stream_options'] as { include_usage?: unknown } | undefined;
  return {
    maxTokens,
    temperature,
    topP,
    seed: seed === undefined ? undefined : Math.abs(seed) % 2 ** 32,
    stop: stop.filter((x) => x.length > 0),
    stream: stream === true,
    includeUsage: opts?.include_usage === true,
  };
}

/** response_format: text, json_object, or json_schema (grammar-constrained). */
export function responseFormat(body: Body): { kind: 'text' } | { kind: 'json_object' } | { kind: 'json_schema'; schema: object } {
  const rf = body['response_format'];
  if (rf === undefined || rf === null) return { kind: 'text' };
  if (typeof rf !== 'object') throw badRequest("'response_format' must be an object.", 'response_format');
  const type = (rf as { type?: unknown }).type;
  if (type === 'text') return { kind: 'text' };
  if (type === 'json_object') return { kind: 'json_object' };
  if (type === 'json_schema') {
    const schema = (rf as { json_schema?: { schema?: unknown } }).json_schema?.schema;
    if (typeof schema !== 'object' || schema === null)
      throw badRequest("'response_format.json_schema.schema' must be a JSON schema object.", 'response_format.json_schema.schema');
    return { kind: 'json_schema', schema };
  }
  throw badRequest(`'response_format.type' must be text, json_object or json_schema; got ${JSON.stringify(type)}.`, 'response_format.type');
}
