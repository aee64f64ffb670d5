import type { DownloadEvent, ProgressEvent } from '../core/events.js';
import { dim, green, red, yellow } from '../core/style.js';

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/**
 * Human progress on stderr: one line per step state, a live bar per download on a terminal
 * (every 10% otherwise), and the step's own output when --verbose.
 */
export function progressPrinter(opts: { verbose?: boolean; out?: NodeJS.WriteStream } = {}): (e: ProgressEvent) => void {
  const out = opts.out ?? process.stderr;
  const tty = out.isTTY === true;
  const lastDecile = new Map<string, number>();
  let barShown = false;
  const clearBar = () => {
    if (barShown) out.write('\r\u001b[2K');
    barShown = false;
  };

  return (e) => {
    switch (e.type) {
      case 'step': {
        clearBar();
        const mark = { running: '▶', done: green('✔'), skipped: dim('↷'), failed: red('✘'), pending: '·' }[e.status];
        const time = e.elapsedMs !== undefined ? dim(` ${seconds(e.elapsedMs)}`) : '';
        const note = e.status === 'skipped' ? dim(' (already done)') : e.status === 'failed' && e.message ? red(` ${e.message}`) : '';
        out.write(`${mark} ${e.kind.padEnd(7)} ${e.title}${time}${note}\n`);
        break;
      }
      case 'log':
        if (opts.verbose || e.stream === 'system') {
          clearBar();
          out.write(dim(`    ${e.line}\n`));
        }
        break;
      case 'download':
        if (tty) {
          out.write(`\r\u001b[2K${downloadLine(e)}`);
          barShown = !e.done;
          if (e.done) out.write('\n');
        } else if (e.bytesTotal) {
          const decile = Math.floor((10 * e.bytesDone) / e.bytesTotal);
          if (decile !== lastDecile.get(e.file) || e.done) {
            lastDecile.set(e.file, decile);
            out.write(`    ${downloadLine(e)}\n`);
          }
        }
        break;
    }
  };
}

function downloadLine(e: DownloadEvent): string {
  const total = e.bytesTotal;
  const pct = total ? e.bytesDone / total : 0;
  const width = 24;
  const bar = total ? `[${'#'.repeat(Math.round(pct * width)).padEnd(width, '.')}] ${(pct * 100).toFixed(0).padStart(3)}%` : '';
  const speed = `${mib(e.bytesPerSecond)}/s`;
  const eta = e.etaSeconds !== undefined && !e.done ? ` ETA ${Math.ceil(e.etaSeconds)}s` : '';
  return `${yellow('↓')} ${e.file} ${bar} ${mib(e.bytesDone)}${total ? `/${mib(total)}` : ''} ${speed}${eta}`;
}
