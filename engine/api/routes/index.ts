import type { ApiContext } from '../api-context.js';
import { API_PREFIX } from '../api-types.js';
import { readJsonBody } from '../http-io.js';
import { ANSWERED, WithStatus, type Route } from '../router.js';
import { appDetail, getJob, install, listApps, loraRuns, uninstall, update } from './apps.js';
import { catalog } from './catalog.js';
import { clusterOverview } from './cluster.js';
import { gatewayInfo, unloadModel } from './gateway.js';
import { readRecipeText, save, validate } from './recipes.js';
import { proxyToService, serviceLogs, serviceMetrics, startService, stopService } from './services.js';
import { getSettings, putSettings } from './settings.js';
import { mintLink } from '../session-route.js';
import { diagnose, doctor, fit, plan } from './tools.js';

const p = (suffix: string): string => `${API_PREFIX}${suffix}`;

/**
 * Every API route. The security checks run before any of them (server.ts), and the security test
 * enumerates this table, so a route added here is covered by it automatically.
 */
export const routes: readonly Route<ApiContext>[] = [
  { method: 'GET', path: p('/catalog'), handler: ({ server, signal }) => catalog(server, signal) },
  { method: 'GET', path: p('/apps'), handler: ({ server }) => listApps(server) },
  { method: 'GET', path: p('/apps/:id'), handler: ({ server, params }) => appDetail(server, params['id']!) },
  { method: 'POST', path: p('/plan'), handler: async ({ server, req }) => plan(server, await readJsonBody(req)) },
  {
    method: 'POST',
    path: p('/apps/:id/install'),
    handler: async ({ server, params, req }) => install(server, params['id']!, await readJsonBody(req)),
  },
  {
    method: 'POST',
    path: p('/apps/:id/update'),
    handler: async ({ server, params, req }) => update(server, params['id']!, await readJsonBody(req)),
  },
  {
    method: 'POST',
    path: p('/apps/:id/uninstall'),
    handler: async ({ server, params, req }) => uninstall(server, params['id']!, await readJsonBody(req)),
  },
  { method: 'GET', path: p('/jobs'), handler: async ({ server }) => ({ jobs: server.jobs.list() }) },
  { method: 'GET', path: p('/jobs/:id'), handler: async ({ server, params }) => getJob(server, params['id']!) },
  {
    method: 'POST',
    path: p('/apps/:id/start'),
    handler: async ({ server, params, req, url }) => {
      await readJsonBody(req);
      const { status, value } = await startService(server, params['id']!, url.searchParams.get('wait') === 'ready');
      return new WithStatus(status, value);
    },
  },
  {
    method: 'POST',
    path: p('/apps/:id/stop'),
    handler: async ({ server, params, req }) => {
      await readJsonBody(req);
      return stopService(server, params['id']!);
    },
  },
  {
    method: 'GET',
    path: p('/apps/:id/logs'),
    handler: async ({ server, params, url }) => serviceLogs(server, params['id']!, url.searchParams.get('tail')),
  },
  { method: 'GET', path: p('/apps/:id/metrics'), handler: async ({ server, params }) => serviceMetrics(server, params['id']!) },
  { method: 'GET', path: p('/apps/:id/lora'), handler: async ({ server, params }) => loraRuns(server, params['id']!) },
  {
    method: 'ALL',
    path: p('/apps/:id/service/*'),
    handler: async ({ server, params, req, res, url }) => {
      await proxyToService(server, params['id']!, params['*'] ?? '', req, res, url.search);
      return ANSWERED;
    },
  },
  { method: 'GET', path: p('/doctor'), handler: ({ server }) => doctor(server) },
  { method: 'GET', path: p('/cluster'), handler: ({ server }) => clusterOverview(server) },
  { method: 'POST', path: p('/fit'), handler: async ({ server, req }) => fit(server, await readJsonBody(req)) },
  { method: 'POST', path: p('/diagnose'), handler: async ({ req }) => diagnose(await readJsonBody(req)) },
  { method: 'POST', path: p('/recipes/validate'), handler: async ({ req }) => validate(await readJsonBody(req)) },
  { method: 'GET', path: p('/recipes/:id'), handler: async ({ server, params }) => readRecipeText(server, params['id']!) },
  { method: 'POST', path: p('/recipes'), handler: async ({ server, req }) => save(server, await readJsonBody(req)) },
  {
    method: 'POST',
    path: p('/session/link'),
    handler: async ({ server, req }) => {
      await readJsonBody(req);
      return mintLink(server);
    },
  },
  { method: 'GET', path: p('/settings'), handler: async ({ server }) => getSettings(server) },
  { method: 'PUT', path: p('/settings'), handler: async ({ server, req }) => putSettings(server, await readJsonBody(req)) },
  { method: 'GET', path: p('/gateway'), handler: async ({ server }) => gatewayInfo(server) },
  {
    method: 'POST',
    path: p('/gateway/models/:id/unload'),
    handler: async ({ server, params, req }) => {
      await readJsonBody(req);
      return unloadModel(server, params['id']!);
    },
  },
];

/** The WebSocket path (not an HTTP route; the upgrade has its own checks, tested the same way). */
export const EVENTS_PATH = p('/events');
export { restoreServiceContext, startService } from './services.js';
