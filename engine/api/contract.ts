/**
 * The HTTP API's contract, route by route: for each `METHOD /path` (below API_PREFIX), the JSON
 * body it takes and the JSON it answers. The server validates request bodies against
 * REQUEST_SCHEMAS (request-validation.ts: 400 with a JSON pointer); the UI's client is typed by
 * ApiRoutes, so `api('GET /apps/:id', { params: { id } })` answers an AppSummary without a cast.
 * The route table (routes/index.ts) is checked against this list by test/api/contract.test.ts.
 *
 * The web UI imports this file with `import type` only (the layer rules allow nothing else).
 */
import type { Verdict } from '../diagnose/verdict.js';
import type { FitReport } from '../fit/fit-verdict.js';
import { MAX_CONCURRENCY } from '../settings/settings.js';
import type {
  AppSummary,
  CatalogResponse,
  ClusterOverview,
  GatewayInfo,
  DoctorReport,
  InstallRequest,
  Job,
  LoraRunsResponse,
  MetricsSample,
  PlanRequest,
  PlanResponse,
  ServiceStatus,
  Settings,
  ValidateResponse,
} from './api-types.js';

export type { FitReport };

/** POST /apps/:id/update */
export interface UpdateRequest {
  inputs?: Record<string, string | number | boolean>;
  allowCpu?: boolean;
}
/** POST /apps/:id/uninstall */
export interface UninstallRequest {
  purgeModels?: boolean;
}
/** POST /fit: exactly one of recipe (id or path) or model (GGUF path or URL). */
export interface FitRequest {
  recipe?: string;
  model?: string;
  context?: number;
}
/** POST /diagnose */
export interface DiagnoseRequest {
  log: string;
  expect?: string;
}
/** POST /recipes/validate and POST /recipes */
export interface RecipeTextRequest {
  text: string;
}
/** PUT /settings: hfToken null (or "") removes the token. */
export interface SettingsPatch {
  home?: string;
  hfToken?: string | null;
  concurrency?: number;
}
/** Start and stop take no body (an empty object, or nothing). */
export type EmptyRequest = Record<string, never>;

export interface ApiRoutes {
  'GET /catalog': { response: CatalogResponse };
  'GET /apps': { response: { apps: AppSummary[] } };
  'GET /apps/:id': { response: AppSummary };
  'POST /plan': { body: PlanRequest; response: PlanResponse };
  'POST /apps/:id/install': { body: InstallRequest; response: { job: Job } };
  'POST /apps/:id/update': { body: UpdateRequest; response: { job: Job } };
  'POST /apps/:id/uninstall': { body: UninstallRequest; response: { job: Job } };
  'GET /jobs': { response: { jobs: Job[] } };
  'GET /jobs/:id': { response: Job };
  'POST /apps/:id/start': { body: EmptyRequest; response: ServiceStatus };
  'POST /apps/:id/stop': { body: EmptyRequest; response: ServiceStatus };
  'GET /apps/:id/logs': { response: { lines: string[] } };
  'GET /apps/:id/metrics': { response: { samples: MetricsSample[] } };
  'GET /apps/:id/lora': { response: LoraRunsResponse };
  'GET /doctor': { response: DoctorReport };
  'GET /cluster': { response: ClusterOverview };
  'GET /gateway': { response: GatewayInfo };
  'POST /session/link': { body: EmptyRequest; response: { url: string; expiresInSeconds: number } };
  'POST /gateway/models/:id/unload': { body: EmptyRequest; response: { unloaded: boolean; gateway: GatewayInfo } };
  'POST /fit': { body: FitRequest; response: FitReport };
  'POST /diagnose': { body: DiagnoseRequest; response: Verdict };
  'POST /recipes/validate': { body: RecipeTextRequest; response: ValidateResponse };
  'GET /recipes/:id': { response: { id: string; file: string; text: string } };
  'POST /recipes': { body: RecipeTextRequest; response: { id: string; file: string } };
  'GET /settings': { response: Settings };
  'PUT /settings': { body: SettingsPatch; response: Settings };
}

export type RouteKey = keyof ApiRoutes;
export type RouteResponse<K extends RouteKey> = ApiRoutes[K]['response'];
export type RouteBody<K extends RouteKey> = ApiRoutes[K] extends { body: infer B } ? B : undefined;
/** `'GET /apps/:id/logs'` → `'id'`. */
export type RouteParams<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | RouteParams<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

/** A JSON Schema (draft 2020-12), as plain data. */
export type JsonSchema = { readonly [key: string]: unknown };

const inputs: JsonSchema = { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } };
const nonEmptyString: JsonSchema = { type: 'string', minLength: 1 };
const body = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

/**
 * The request body of each route that takes one. An unknown field is refused, so a typo in a client
 * is a 400 naming it rather than a silently ignored setting.
 */
export const REQUEST_SCHEMAS: { readonly [K in RouteKey]?: JsonSchema } = {
  'POST /plan': body({ recipe: nonEmptyString, text: { type: 'string' }, profile: nonEmptyString, inputs }),
  'POST /apps/:id/install': body({ recipe: nonEmptyString, inputs, allowCpu: { type: 'boolean' }, force: { type: 'boolean' } }),
  'POST /apps/:id/update': body({ inputs, allowCpu: { type: 'boolean' } }),
  'POST /apps/:id/uninstall': body({ purgeModels: { type: 'boolean' } }),
  'POST /apps/:id/start': body({}),
  'POST /apps/:id/stop': body({}),
  'POST /gateway/models/:id/unload': body({}),
  'POST /session/link': body({}),
  'POST /fit': body({ recipe: nonEmptyString, model: nonEmptyString, context: { type: 'integer', minimum: 1 } }),
  'POST /diagnose': body({ log: { type: 'string' }, expect: nonEmptyString }, ['log']),
  'POST /recipes/validate': body({ text: { type: 'string' } }, ['text']),
  'POST /recipes': body({ text: { type: 'string' } }, ['text']),
  'PUT /settings': body({
    home: nonEmptyString,
    // No spaces inside a token; a blank one removes it, like null.
    hfToken: { type: ['string', 'null'], pattern: '^(\\s*|\\S+)$' },
    concurrency: { type: 'integer', minimum: 1, maximum: MAX_CONCURRENCY },
  }),
};
