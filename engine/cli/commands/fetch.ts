import { lstat, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import { resolveHome } from '../../core/home.js';
import { cancelOnSignals } from '../cancel-on-signals.js';
import { action, printJson, printLine } from '../output.js';
import { progressPrinter } from '../progress-printer.js';
import { displayUrl, DownloadProgress, downloadFile, freeSpaceSource, removePartial } from '../../store/download/index.js';
import { preflightDiskSpace, sha256OfFile } from '../../store/index.js';
import { envSetting } from '../../core/env-settings.js';

interface FetchFlags {
  output: string;
  sha256?: string;
  connections: number;
  mirror?: string[];
  json?: boolean;
}

/**
 * `orchard fetch <url> -o <file>`: the store's downloader on its own. The partial download lives
 * beside the output (`<file>.part` + `.part.json`), so running the same command again resumes.
 */
export function register(program: Command): void {
  program
    .command('fetch <url>')
    .description('Download a file with parallel, resumable, verified transfers (the downloader of the model store)')
    .requiredOption('-o, --output <file>', 'where to write the file')
    .option('--sha256 <hex>', 'expected sha256: the file is only written when it matches')
    .addOption(
      new Option('--connections <n>', 'parallel connections when the server supports ranges (1 to 64)')
        .default(8)
        .argParser(connectionCount),
    )
    .option('--mirror <url...>', 'mirrors tried in order when the URL fails')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (url: string, flags: FetchFlags) => {
        const connections = flags.connections;
        const sha256 = flags.sha256?.toLowerCase();
        if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256))
          throw new OrchardError('USAGE', '--sha256 must be 64 hexadecimal characters');
        try {
          new URL(url);
        } catch {
          throw new OrchardError('USAGE', `not a URL: ${url}`);
        }
        resolveHome(); // same environment rules as every command
        const output = path.resolve(flags.output);
        const part = `${output}.part`;
        // Already there and it matches --sha256: done, at no network cost (as aria2c or `ollama pull` would).
        const finished = sha256 !== undefined ? await verifiedAlready(output, sha256) : undefined;
        if (finished !== undefined) {
          if (flags.json) {
            printJson({
              ok: true,
              file: output,
              url,
              sha256,
              size: finished,
              integrity: 'pinned',
              reusedBytes: finished,
              seconds: 0,
              bytesPerSecond: 0,
              alreadyPresent: true,
            });
          } else {
            printLine(`${output}: already downloaded and verified (${finished} bytes, sha256 ${sha256}); nothing fetched`);
          }
          return;
        }
        const emit = flags.json ? undefined : progressPrinter();
        const progress = emit ? new DownloadProgress(emit, { file: path.basename(output), url: displayUrl(url) }) : undefined;
        const { signal, dispose } = cancelOnSignals();
        const started = Date.now();
        try {
          const result = await downloadFile({
            urls: [url, ...(flags.mirror ?? [])],
            partFile: part,
            expectedSha256: sha256,
            connections,
            token: envSetting('HF_TOKEN'),
            signal,
            ...(progress ? { onProgress: (done: number, total: number | undefined) => progress.update(done, total) } : {}),
            beforeFirstByte: (missing) =>
              preflightDiskSpace(path.dirname(output), missing, { freeSpace: freeSpaceSource(), what: path.basename(output) }),
            ...(flags.json ? {} : { log: (line: string) => process.stderr.write(`    ${line}\n`) }),
          });
          await rename(result.file, output);
          // The name moved must be the file that was written and hashed (not one swapped in meanwhile).
          const moved = await lstat(output);
          if (moved.dev !== result.identity.dev || moved.ino !== result.identity.ino) {
            await rm(output, { force: true });
            throw new OrchardError(
              'INTEGRITY',
              'the downloaded file was replaced on disk before it was moved into place; nothing was written',
              {
                where: part,
                hint: 'Something else writes into that folder. Run the command again: the download starts over.',
              },
            );
          }
          await removePartial(part);
          const seconds = (Date.now() - started) / 1000;
          const fetched = result.size - result.reusedBytes;
          progress?.finish(result.size, result.size, fetched / Math.max(seconds, 0.001));
          if (flags.json) {
            printJson({
              ok: true,
              file: output,
              url: result.url,
              sha256: result.sha256,
              size: result.size,
              integrity: result.integrity,
              reusedBytes: result.reusedBytes,
              seconds,
              bytesPerSecond: Math.round(fetched / Math.max(seconds, 0.001)),
            });
            return;
          }
          printLine(`${output}: ${result.size} bytes, sha256 ${result.sha256}${result.integrity === 'none' ? '' : ' (verified)'}`);
        } finally {
          dispose();
        }
      }),
    );
}

/** The size of `file` when it exists and its sha256 is `sha256`; undefined otherwise (fetch it). */
async function verifiedAlready(file: string, sha256: string): Promise<number | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  return (await sha256OfFile(file)) === sha256 ? info.size : undefined;
}

function connectionCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 64)
    throw new InvalidArgumentError(`--connections must be a whole number from 1 to 64, got "${value}"`);
  return n;
}
