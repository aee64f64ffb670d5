#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { commandsFor } from './commands/index.js';
import { guardStdio, reportError } from './output.js';

guardStdio();

const program = new Command();
program
  .name('orchard')
  .description('Install, verify and run local AI apps, each in its own folder, on the GPU you paid for.')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

for (const register of await commandsFor(process.argv)) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; anything else commander rejects is a usage error.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    reportError(err);
  }
}
