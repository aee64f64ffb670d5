import type { Command } from 'commander';
import { registerClusterService } from '../../services/cluster/command.js';
import { registerDiffusionServices } from '../../services/diffusion/command.js';
import { registerLlmService } from '../../services/llm/command.js';
import { registerMlxService } from '../../services/mlx/command.js';

/**
 * `orchard service <type> ...`: Orchard's bundled inference services, each a standalone process
 * that the supervisor starts with `--port {{port}}` (DESIGN §6). Each service owns its command
 * line (engine/services/<name>/command.ts); the CLI only dispatches to it.
 */
export function register(program: Command): void {
  const service = program.command('service').description('Run a bundled inference service (llm, mlx, image, video, llm-cluster)');
  registerLlmService(service);
  registerMlxService(service);
  registerDiffusionServices(service);
  registerClusterService(service);
}
