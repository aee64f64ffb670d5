import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every subcommand lives in its own file next to this one and exports `register(program)`; this
 * table names the top-level commands each file adds. The CLI imports only the file of the command
 * it runs (a command's modules, e.g. the downloader's HTTP client or the recipe schema compiler,
 * cost a few hundred milliseconds to load), and every file for help or an unknown command.
 */
export const commandFiles: { names: readonly string[]; load: () => Promise<{ register: Register }> }[] = [
  { names: ['list'], load: () => import('./list.js') },
  { names: ['recipe'], load: () => import('./recipe.js') },
  { names: ['plan'], load: () => import('./plan.js') },
  { names: ['install', 'update'], load: () => import('./install.js') },
  { names: ['uninstall'], load: () => import('./uninstall.js') },
  { names: ['shell', 'run'], load: () => import('./shell.js') },
  { names: ['serve'], load: () => import('./serve.js') },
  { names: ['open'], load: () => import('./open.js') },
  { names: ['start', 'stop', 'status', 'logs'], load: () => import('./service-control.js') },
  { names: ['ps'], load: () => import('./ps.js') },
  { names: ['service'], load: () => import('./service.js') },
  { names: ['cluster'], load: () => import('./cluster.js') },
  { names: ['fit'], load: () => import('./fit.js') },
  { names: ['lora'], load: () => import('./lora.js') },
  { names: ['store'], load: () => import('./store.js') },
  { names: ['fetch'], load: () => import('./fetch.js') },
  { names: ['doctor'], load: () => import('./doctor.js') },
  { names: ['diagnose'], load: () => import('./diagnose.js') },
];

/** The register functions needed for `argv` (node, script, command, ...): that command's files, or all of them. */
export async function commandsFor(argv: readonly string[]): Promise<Register[]> {
  const name = argv[2];
  const matching = commandFiles.filter((f) => name !== undefined && f.names.includes(name));
  const files = matching.length > 0 ? matching : commandFiles;
  return (await Promise.all(files.map((f) => f.load()))).map((m) => m.register);
}
