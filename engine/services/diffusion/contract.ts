/**
 * The diffusion service's job API, route by route: method, path, the JSON body it takes and the
 * JSON it answers. POST /v1/jobs validates its body against REQUEST_SCHEMAS (core/json-contract.ts)
 * before the job is queued: a wrong type is a 400 in the job API's error body, `where` naming the
 * JSON pointer. Ranges and the rules that depend on the service's media (which kinds it runs,
 * image-to-video needing init_image) stay in job-api.ts, which answers them the same way. The route
 * table (job-api.ts) is checked against this list by test/diffusion/contract.test.ts.
 */
import type { EngineHealth, JobKind, JobSnapshot } from './diffusion-engine.js';
import type { ServiceMedia } from './sd-args.js';

export type JsonSchema = { readonly [key: string]: unknown };

/** POST /v1/jobs: snake_case as sent by the UI and the gateway; the camelCase spellings are kept too. */
export interface JobRequestBody {
  prompt: string;
  kind?: JobKind;
  negative?: string;
  negative_prompt?: string;
  init_image?: string;
  initImage?: string;
  width?: number;
  height?: number;
  steps?: number;
  seed?: number;
  cfg?: number;
  frames?: number;
  fps?: number;
}

/** Every error of the job API. */
export interface JobApiError {
  error: { code: string; message: string; hint?: string; where?: string };
}

/** GET /health (503 while not ready): the engine's health with the service's media. */
export type JobApiHealth = Omit<EngineHealth, 'status'> & { status: 'ok' | Exclude<EngineHealth['status'], 'ready'>; media: ServiceMedia };

export interface JobApiRoutes {
  'GET /health': { response: JobApiHealth };
  'POST /v1/jobs': { body: JobRequestBody; response: JobSnapshot };
  'GET /v1/jobs': { response: { jobs: JobSnapshot[] } };
  'GET /v1/jobs/:id': { response: JobSnapshot };
  'POST /v1/jobs/:id/cancel': { body: Record<string, never>; response: JobSnapshot };
  /** Server-sent events: `state` and `progress`, each a JobSnapshot. */
  'GET /v1/jobs/:id/events': { response: JobSnapshot };
  /** The result file itself (image or video bytes), not JSON. */
  'GET /v1/jobs/:id/result': { response: Uint8Array };
}

export type JobApiRouteKey = keyof JobApiRoutes;

const text: JsonSchema = { type: ['string', 'null'] };
const number: JsonSchema = { type: ['number', 'null'] };

export const REQUEST_SCHEMAS: { readonly [K in JobApiRouteKey]?: JsonSchema } = {
  'POST /v1/jobs': {
    type: 'object',
    properties: {
      prompt: { type: 'string' },
      kind: text,
      negative: text,
      negative_prompt: text,
      init_image: text,
      initImage: text,
      width: number,
      height: number,
      steps: number,
      seed: number,
      cfg: number,
      frames: number,
      fps: number,
    },
    required: ['prompt'],
  },
};
