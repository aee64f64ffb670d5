import type { Command } from 'commander';
import { register as fetch } from './fetch.js';
import { register as install } from './install.js';
import { register as list } from './list.js';
import { register as plan } from './plan.js';
import { register as recipe } from './recipe.js';
import { register as serve } from './serve.js';
import { register as serviceControl } from './service-control.js';
import { register as shell } from './shell.js';
import { register as store } from './store.js';
import { register as service } from './service.js';
import { register as serviceDiffusion } from './service-diffusion.js';
import { register as fit } from './fit.js';
import { register as uninstall } from './uninstall.js';
import { register as doctor } from './doctor.js';
import { register as diagnose } from './diagnose.js';

/**
 * Every subcommand lives in its own file next to this one and exports `register(program)`.
 * Add one import and one entry here per command file.
 */
type Register = (program: Command) => void;

export const commands: Register[] = [list, recipe, plan, install, uninstall, shell, serve, serviceControl, service, serviceDiffusion, fit, store, fetch, doctor, diagnose];
