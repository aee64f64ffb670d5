import type { AppKind, Recipe } from './recipe.types.gen.js';

/**
 * The recipe `orchard recipe new` writes: valid as it stands, with every part a real recipe needs
 * and the places to edit marked in `notes`.
 */
export function starterRecipe(id: string, kind: AppKind): Recipe {
  const common = {
    $schema: 'https://orchard.invalid/schema/recipe.schema.json',
    id,
    name: id,
    version: '0.1.0',
    kind,
    description: `A ${kind} app. Edit this description.`,
    notes: ['Replace every URL, ref and size below with values read from a public source, and say where in these notes.'],
    requires: { platforms: ['darwin-arm64', 'linux-x64'], accelerators: ['metal', 'cuda'], memoryGiB: 16, diskGiB: 20 },
    verify: {
      probe: kind === 'llm' ? { type: 'llm', model: '{{weights.model.path}}' } : { type: 'python-torch' },
      expect: [
        { when: { platform: 'darwin-arm64' }, backend: 'metal' },
        { when: { platform: 'linux-x64' }, backend: 'cuda' },
      ],
    },
  } satisfies Omit<Recipe, 'install'>;

  if (kind === 'llm') {
    return {
      ...common,
      inputs: { context: { type: 'number', title: 'Context length (tokens)', default: 8192, minimum: 512 } },
      weights: [{ id: 'model', url: 'https://huggingface.co/ORG/REPO-GGUF/resolve/main/model-Q4_K_M.gguf', file: 'model.gguf' }],
      install: [{ kind: 'fetch' }, { kind: 'link', weight: 'model' }, { kind: 'verify' }],
      service: {
        type: 'llm',
        args: ['--model', '{{weights.model.path}}', '--context', '{{inputs.context}}'],
        readiness: { http: '/health', timeout: 300 },
      },
    };
  }
  return {
    ...common,
    install: [
      { kind: 'git', url: 'https://github.com/ORG/REPO.git', ref: 'main' },
      { kind: 'env', type: 'python', python: '3.11' },
      {
        kind: 'run',
        title: 'Install requirements',
        command: ['{{env.python}}', '-m', 'pip', 'install', '-r', 'requirements.txt'],
        network: true,
        hosts: ['pypi.org', 'files.pythonhosted.org'],
      },
      { kind: 'verify' },
    ],
    service: {
      type: 'command',
      command: ['{{env.python}}', 'main.py', '--host', '127.0.0.1', '--port', '{{port}}'],
      readiness: { http: '/', timeout: 180 },
      ui: '/',
    },
  };
}
