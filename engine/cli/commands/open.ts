import type { Command } from 'commander';
import { connectToServer } from '../../api/client.js';
import { OrchardError } from '../../core/errors.js';
import { resolveHome } from '../../core/home.js';
import { action, printJson, printLine } from '../output.js';
import { launchDetached, openBrowser } from './serve.js';

/**
 * `orchard open`: a fresh one-time access link to the web UI of the running server (started in
 * the background when none runs). The link carries a short-lived code, never the token, so
 * opening it in a browser puts no secret in any process's argument list; the page exchanges the
 * code for its session cookie.
 */
export function register(program: Command): void {
  program
    .command('open')
    .description('Print a fresh one-time link to the web UI (valid 5 minutes); --browser opens it')
    .option('--browser', 'open the link in the default browser as well')
    .option('--json', 'print the link as JSON')
    .action(
      action(async (flags: { browser?: boolean; json?: boolean }) => {
        const home = resolveHome();
        let client = await connectToServer(home);
        if (!client) {
          const { pid } = await launchDetached(home);
          if (!flags.json) process.stderr.write(`No Orchard server was running: started one in the background (pid ${pid}).\n`);
          client = await connectToServer(home);
        }
        if (!client) throw new OrchardError('SERVICE', 'the Orchard server started but cannot be reached', { where: home.root });
        const { value } = await client.request<{ url: string; expiresInSeconds: number }>('POST', '/session/link', {});
        if (flags.browser) openBrowser(home, value.url);
        if (flags.json) printJson({ ok: true, ...value });
        else
          printLine(
            `${value.url}\n(one-time link, valid ${Math.round(value.expiresInSeconds / 60)} minutes` +
              `${flags.browser ? '; opened in your browser' : ''})`,
          );
      }),
    );
}
