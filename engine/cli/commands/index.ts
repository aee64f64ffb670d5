import type { Command } from 'commander';

/**
 * Every subcommand lives in its own file next to this one and exports `register(program)`.
 * Add one import and one entry here per command file.
 */
type Register = (program: Command) => void;

export const commands: Register[] = [];
