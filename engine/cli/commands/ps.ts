import type { Command } from 'commander';
import type { GatewayInfo, GatewayLoadedModel } from '../../api/api-types.js';
import { connectToServer } from '../../api/client.js';
import { resolveHome } from '../../core/home.js';
import { formatBytes } from '../../store/index.js';
import { action, printJson, printLine } from '../output.js';

/**
 * `orchard ps`: the models the gateway holds (like `ollama ps`), with their memory (the fit
 * prediction and what the process really uses), keep-alive left, queue, requests and speed.
 */
export function register(program: Command): void {
  program
    .command('ps')
    .description('List the models the gateway has loaded: memory (predicted and measured), keep-alive left, queue, requests, tokens/s')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (flags: { json?: boolean }) => {
        const client = await connectToServer(resolveHome());
        const info: GatewayInfo = client
          ? (await client.request<GatewayInfo>('GET', '/gateway')).value
          : { enabled: false, models: [], reason: 'no Orchard server runs' };
        if (flags.json) {
          printJson({ ok: true, ...info });
          return;
        }
        if (!info.enabled) {
          printLine(
            `The gateway is not running (${info.reason ?? 'off'}); no model is loaded.` +
              (client ? '' : ' Start Orchard with `orchard serve`.'),
          );
          return;
        }
        printLine(
          `Gateway: ${info.openaiBaseUrl ?? ''} (OpenAI), ${info.ollamaBaseUrl ?? ''} (Ollama)` +
            (info.authRequired ? ', API key required' : ''),
        );
        printLine(
          `Memory budget: ${formatBytes(info.usedBytes ?? 0)} of ${formatBytes(info.budgetBytes ?? 0)} in use; ` +
            `idle models unload after ${info.defaultKeepAlive ?? '5m'}`,
        );
        if (info.models.length === 0) {
          printLine('No model is loaded: the first request for one loads it.');
          return;
        }
        printTable(info.models);
      }),
    );
}

function printTable(models: GatewayLoadedModel[]): void {
  const rows = models.map((m) => [
    m.id,
    m.state !== 'ready' ? m.state : m.startedBy === 'user' ? 'ready (started by hand)' : 'ready',
    formatBytes(m.predictedBytes),
    m.measuredBytes !== undefined ? formatBytes(m.measuredBytes) : '-',
    m.keepAlive,
    String(m.active),
    String(m.queued),
    String(m.requests),
    m.tokensPerSecond !== undefined ? m.tokensPerSecond.toFixed(1) : '-',
  ]);
  const head = ['MODEL', 'STATE', 'PREDICTED', 'MEASURED', 'UNLOADS IN', 'RUNNING', 'QUEUED', 'REQUESTS', 'TOKENS/S'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [head, ...rows])
    printLine(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}
