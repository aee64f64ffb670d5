import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { OrchardError, messageOf } from '../../core/errors.js';
import { appPaths } from '../../core/home.js';
import { requireAppState } from '../../install/state-store.js';
import { clusterServiceEnv } from '../../cluster/engine-build.js';
import { specFromPlannedService } from '../../supervisor/index.js';
import type { ApiContext } from '../api-context.js';
import type { MetricsSample, ServiceStatus } from '../api-types.js';
import { HttpError } from '../http-errors.js';
import { BASE_HEADERS } from '../http-io.js';
import { statusOf } from '../service-status.js';
import { throughputKind } from '../service-throughput.js';
import { checkAppId } from './apps.js';
import { resolveProfile } from '../../recipe/resolve-profile.js';
import { appScope, confinedCommand, confinementDisabledByUser, envBinDir, processEnvironment } from '../../../sandbox/index.js';
import { linkedWeights } from '../../steps/confine.js';
import { runStepsOnce } from '../../install/run-steps-once.js';
import { loadRecipe } from '../../recipe/load.js';
import { planRecipe } from '../../recipe/plan.js';

/**
 * POST /apps/:id/start: run the recipe's start script, then launch its service under the
 * supervisor. Answers at once with the `starting` status (202; readiness comes over the WebSocket),
 * or with `?wait=ready`, once it is ready (200) or failed (409 with the last log lines).
 */
export async function startService(ctx: ApiContext, id: string, wait: boolean): Promise<{ status: number; value: ServiceStatus }> {
  checkAppId(id);
  const state = await requireAppState(ctx.home, id);
  if (state.lifecycle !== 'installed') {
    throw new OrchardError('SERVICE', `${id} cannot start: its install is ${state.lifecycle}`, {
      where: `app ${id}`,
      hint: 'Finish the install first (install again resumes it).',
    });
  }
  const running = ctx.jobs.activeFor(id);
  if (running)
    throw new OrchardError('LOCKED', `${id} has a ${running.operation} job running`, { hint: 'Start it when the job has finished.' });
  const current = ctx.supervisor.status(id);
  if (current.state === 'starting' || current.state === 'ready' || current.state === 'unhealthy')
    return { status: 200, value: statusOf(ctx, current) };
  const plan = await planRecipe(await loadRecipe(state.recipe.file), {
    profile: await resolveProfile(state.profile),
    inputs: state.inputs,
    home: ctx.home,
  });
  if (!plan.service) {
    throw new OrchardError('SERVICE', `${plan.recipe.name} has no service to start`, {
      where: `${plan.recipe.file}:/service`,
      hint: 'Only recipes with a "service" section can be started.',
    });
  }
  if (plan.unconfined.length > 0 && state.allowUnconfined !== true && !confinementDisabledByUser()) {
    throw new OrchardError(
      'REQUIREMENT',
      `${id} cannot start: ${plan.unconfined.join(', ')} cannot be confined on this machine (${plan.confinement.note})`,
      {
        where: `app ${id}`,
        hint: 'Make confinement work (Linux: install bubblewrap), or reinstall with --allow-unconfined to accept the risk.',
      },
    );
  }
  const app = appPaths(ctx.home, id);
  if (plan.scripts.start.length > 0) {
    await runStepsOnce(
      plan,
      plan.scripts.start,
      ctx.home,
      (event) => {
        if (event.type === 'log')
          ctx.publish({ type: 'log', app: event.app, stream: event.stream, line: event.line, ...(event.step ? { step: event.step } : {}) });
      },
      { allowUnconfined: state.allowUnconfined === true },
    );
  }
  const spec = specFromPlannedService(plan.service, {
    cliPath: ctx.cliPath,
    logDir: app.logs,
    baseEnv: {
      ...processEnvironment(plan.sandboxEnv, { envBinDir: envBinDir(app) }),
      ...(plan.service.type === 'llm-cluster' ? clusterServiceEnv(ctx.home) : {}),
    },
  });
  // The service runs what the recipe installed: confined like its steps, sharing the network (it listens on loopback).
  // A cluster head is the exception: it holds Orchard's SSH key and known_hosts to reach the workers,
  // so it runs as Orchard's own program and confines its llama-server (which reads the model) itself.
  if (plan.service.type !== 'llm-cluster') {
    const confined = await confinedCommand('service', spec.argv, {
      scope: appScope(ctx.home, app, { recipeDir: plan.recipe.dir, readOnlyInApp: linkedWeights(plan) }),
      network: true,
      cwd: spec.cwd,
    });
    spec.argv = confined.argv;
  }
  await ctx.prepareDiagnosis(id, plan.expectedBackend);
  ctx.metrics.set(id, []);
  if (plan.service.ui !== undefined) ctx.uiApps.add(id);
  else ctx.uiApps.delete(id);
  const speed = throughputKind(plan.service.type);
  if (speed) ctx.throughput.set(id, { kind: speed });
  else ctx.throughput.delete(id);
  const started = ctx.supervisor.start(id, spec);
  if (wait) {
    try {
      return { status: 200, value: statusOf(ctx, await started) };
    } catch (err) {
      throw err instanceof OrchardError
        ? err
        : new OrchardError('SERVICE', `${id} failed to start: ${messageOf(err)}`, { where: `app ${id}` });
    }
  }
  // The outcome is published as status messages; a failure is not an unhandled rejection.
  started.catch(() => undefined);
  return { status: 202, value: statusOf(ctx, ctx.supervisor.status(id)) };
}

/**
 * For an app re-adopted after a server restart: what startService would have set up (its own UI,
 * how to read its speed, the live diagnoser), from its recipe as installed.
 */
export async function restoreServiceContext(ctx: ApiContext, id: string): Promise<void> {
  const state = await requireAppState(ctx.home, id);
  const plan = await planRecipe(await loadRecipe(state.recipe.file), {
    profile: await resolveProfile(state.profile),
    inputs: state.inputs,
    home: ctx.home,
  });
  if (!plan.service) return;
  await ctx.prepareDiagnosis(id, plan.expectedBackend);
  ctx.metrics.set(id, []);
  if (plan.service.ui !== undefined) ctx.uiApps.add(id);
  const speed = throughputKind(plan.service.type);
  if (speed) ctx.throughput.set(id, { kind: speed });
}

export async function stopService(ctx: ApiContext, id: string): Promise<ServiceStatus> {
  return statusOf(ctx, await ctx.supervisor.stop(checkAppId(id)));
}

export function serviceLogs(ctx: ApiContext, id: string, tailParam: string | null): { lines: string[] } {
  const tail = tailParam === null ? 200 : Number(tailParam);
  if (!Number.isInteger(tail) || tail < 0 || tail > 100_000)
    throw new HttpError(400, 'USAGE', '"tail" must be a whole number from 0 to 100000', undefined, 'query tail');
  return { lines: ctx.supervisor.logs(checkAppId(id), tail).map((l) => l.line) };
}

export function serviceMetrics(ctx: ApiContext, id: string): { samples: MetricsSample[] } {
  return { samples: ctx.metrics.get(checkAppId(id)) ?? [] };
}

/** Request headers that stay with Orchard: its token, cookies, and hop-by-hop headers. */
const DROP_REQUEST = new Set([
  'authorization',
  'cookie',
  'host',
  'origin',
  'referer',
  'connection',
  'keep-alive',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'sec-websocket-protocol',
]);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'trailer', 'upgrade', 'set-cookie']);

/**
 * ALL /apps/:id/service/<path>: forward to the running service on 127.0.0.1:<port>, streaming both
 * ways (SSE passes through as it comes). The Orchard token never reaches the service, and no CORS
 * header the service sends gets through.
 */
export async function proxyToService(
  ctx: ApiContext,
  id: string,
  rest: string,
  req: IncomingMessage,
  res: ServerResponse,
  search: string,
): Promise<void> {
  const status = ctx.supervisor.status(checkAppId(id));
  if (status.port === undefined || (status.state !== 'ready' && status.state !== 'unhealthy')) {
    throw new OrchardError('SERVICE', `${id} is not running (${status.state})`, { where: `app ${id}`, hint: 'Start it first.' });
  }
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) if (!DROP_REQUEST.has(name)) headers[name] = value;
  headers.host = `127.0.0.1:${status.port}`;
  await new Promise<void>((resolve) => {
    const upstream = httpRequest(
      { host: '127.0.0.1', port: status.port, method: req.method, path: `/${rest}${search}`, headers },
      (answer) => {
        const out: Record<string, string | string[]> = { ...BASE_HEADERS };
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value === undefined || DROP_RESPONSE.has(name) || name.startsWith('access-control-')) continue;
          out[name] = value;
        }
        res.writeHead(answer.statusCode ?? 502, out);
        res.flushHeaders();
        answer.pipe(res);
        answer.on('end', resolve);
        answer.on('error', () => {
          res.destroy();
          resolve();
        });
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) {
        const body = JSON.stringify({
          error: { code: 'SERVICE', message: `the service of ${id} did not answer: ${messageOf(err)}`, where: `app ${id}` },
        });
        res.writeHead(502, { ...BASE_HEADERS, 'content-type': 'application/json; charset=utf-8' });
        res.end(body);
      } else {
        res.destroy();
      }
      resolve();
    });
    // The client went away (a cancelled chat stream): cancel upstream so the service frees the work.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
      resolve();
    });
    req.pipe(upstream);
  });
}
