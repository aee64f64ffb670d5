import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '../../engine/core/atomic-write.js';
import type { AppState } from '../../engine/install/app-state.js';
import type { RunningGateway } from '../../engine/gateway/server.js';
import { attachGateway, type AttachOptions } from '../../engine/cli/attach-gateway.js';
import { startTestServer, type TestServer } from '../api/helpers.js';

/**
 * An installed app as an install leaves it: its recipe (a file of its own), apps/<id>/state.json
 * with the inputs, and its app folder. The recipe's service is the given one, with `{{inputs.model}}`
 * for the model file (tests generate their GGUFs; real recipes link theirs from the store).
 */
export async function installApp(
  root: string,
  home: string,
  id: string,
  o: { kind: 'llm' | 'image'; model: string; service: Record<string, unknown> },
): Promise<void> {
  const recipeFile = path.join(root, 'recipes', id, 'recipe.json');
  await mkdir(path.dirname(recipeFile), { recursive: true });
  const recipe = {
    id,
    name: `Test ${id}`,
    version: '1.0.0',
    kind: o.kind,
    inputs: { model: { type: 'string', default: '' } },
    install: [],
    service: o.service,
  };
  await writeFile(recipeFile, `${JSON.stringify(recipe, null, 2)}\n`);
  const now = new Date().toISOString();
  const state: AppState = {
    schema: 1,
    id,
    recipe: { id, name: recipe.name, version: recipe.version, kind: o.kind, file: recipeFile },
    lifecycle: 'installed',
    profile: 'linux-x64-cpu',
    inputs: { model: o.model },
    journal: {},
    weights: {},
    createdAt: now,
    updatedAt: now,
  };
  await mkdir(path.join(home, 'apps', id, 'app'), { recursive: true });
  await writeJsonAtomic(path.join(home, 'apps', id, 'state.json'), state);
}

/** An LLM app on Orchard's bundled service, one CPU thread (see research: threads), the given context. */
export function llmService(context: number): Record<string, unknown> {
  return {
    type: 'llm',
    args: ['--model', '{{inputs.model}}', '--context', String(context), '--threads', '1', '--gpu', 'cpu'],
    readiness: { http: '/health', timeout: 60 },
    stopGraceSeconds: 3,
  };
}

export interface Running {
  t: TestServer;
  gateway: RunningGateway;
  base: string;
  close(): Promise<void>;
}

/** `orchard serve` as it composes itself: the API server, then the gateway on its supervisor. */
export async function startOrchard(home: string, o: AttachOptions): Promise<Running> {
  const t = await startTestServer(home, { metricsIntervalMs: 200 });
  const gateway = await attachGateway(t.server, { port: 0, log: (l) => t.logs.push(l), ...o });
  if (!gateway) throw new Error(`the gateway did not start: ${t.logs.join('\n')}`);
  return {
    t,
    gateway,
    base: gateway.url,
    close: async () => {
      await gateway.close();
      await t.server.close();
    },
  };
}
