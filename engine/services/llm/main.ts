#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerLlmService } from './command.js';

/**
 * Standalone entry of the bundled services: `node main.js service llm ...` behaves exactly as
 * `orchard service llm ...` but loads only the service code (faster start, fewer modules).
 */
const program = new Command().name('orchard').exitOverride();
registerLlmService(program.command('service'));
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = err instanceof CommanderError && err.exitCode === 0 ? 0 : 2;
}
