import type { Command } from 'commander';
import { execa } from 'execa';
import { appPaths, resolveHome } from '../../core/home.js';
import { appProcessEnvironment } from '../../install/app-environment.js';
import { requireAppState } from '../../install/state-store.js';
import { action } from '../output.js';
import { envSetting } from '../../core/env-settings.js';

export function register(program: Command): void {
  program
    .command('shell <id>')
    .description("Open your shell inside an app's environment (its venv first on PATH, HOME and caches in its folder)")
    .action(
      action(async (id: string) => {
        const home = resolveHome();
        await requireAppState(home, id);
        const app = appPaths(home, id);
        const shell = envSetting('SHELL') ?? '/bin/sh';
        process.stderr.write(`Entering ${id}'s environment (${app.root}). HOME is the app's own; exit to leave.\n`);
        const result = await execa(shell, [], {
          cwd: app.app,
          env: { ...appProcessEnvironment(home, id), ORCHARD_APP: id, PS1: `(orchard:${id}) \\w $ ` },
          extendEnv: false,
          stdio: 'inherit',
          reject: false,
        });
        process.exitCode = result.exitCode ?? 1;
      }),
    );

  program
    .command('run <id> <command...>')
    .description("Run a command inside an app's environment: orchard run <id> -- python -c 'import torch'")
    .action(
      action(async (id: string, command: string[]) => {
        const home = resolveHome();
        await requireAppState(home, id);
        const [file, ...args] = command;
        const result = await execa(file!, args, {
          cwd: appPaths(home, id).app,
          env: { ...appProcessEnvironment(home, id), ORCHARD_APP: id },
          extendEnv: false,
          stdio: 'inherit',
          reject: false,
        });
        process.exitCode = result.exitCode ?? (result.signal ? 1 : 0);
      }),
    );
}
