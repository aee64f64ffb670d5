import type { WeightsServer } from './weights-server.js';

/**
 * The end-to-end fixture: a tiny LLM app whose model (a generated GGUF) and a second, larger file
 * (throttled, so the progress bar is visible) come from a local HTTP server, then the bundled LLM
 * service on the CPU. Written as text, as a user would save it, with 2-space JSON.
 */
export function e2eRecipeText(weights: WeightsServer): string {
  const recipe = {
    id: 'e2e-chat',
    name: 'Tiny chat (end-to-end fixture)',
    version: '1.0.0',
    kind: 'llm',
    description: 'A generated 2-layer GGUF served by the bundled LLM service on the CPU.',
    requires: { platforms: ['linux-x64', 'linux-arm64', 'darwin-arm64'], accelerators: ['cpu', 'metal', 'cuda'] },
    weights: [
      {
        id: 'model',
        url: weights.url('tiny.gguf'),
        file: 'tiny.gguf',
        size: weights.size('tiny.gguf'),
        sha256: weights.sha256('tiny.gguf'),
      },
      {
        id: 'extras',
        url: weights.url('extras.bin'),
        file: 'extras.bin',
        size: weights.size('extras.bin'),
        sha256: weights.sha256('extras.bin'),
      },
    ],
    install: [
      { kind: 'fetch', id: 'download' },
      { kind: 'link', id: 'link-model', weight: 'model' },
      { kind: 'link', id: 'link-extras', weight: 'extras' },
      { kind: 'verify', id: 'backend-check' },
    ],
    verify: { probe: { type: 'llm', model: '{{weights.model.path}}' }, expect: [{ backend: 'cpu' }] },
    service: {
      type: 'llm',
      args: ['--model', '{{weights.model.path}}', '--gpu', 'cpu', '--context', '256', '--threads', '2'],
      readiness: { http: '/health', timeout: 90 },
      stopGraceSeconds: 5,
    },
  };
  return `${JSON.stringify(recipe, null, 2)}\n`;
}

/**
 * A recipe with one mistake on a known line: line 5 holds `"kind": "chatbot"`, which the schema
 * refuses (kind is llm | image | video | tool). The editor must mark that line.
 */
export const BROKEN_RECIPE = `{
  "id": "broken-app",
  "name": "Broken",
  "version": "1.0.0",
  "kind": "chatbot",
  "install": [
    { "kind": "write", "path": "app/x.txt", "content": "x" }
  ]
}
`;
export const BROKEN_LINE = 5;
