// `npm start`: build what is missing, then open the Electron window when Electron's binary is
// installed; otherwise run `orchard serve`, which prints the URL (with its token) to open.
// Electron's binary is often absent (its download failed, or `allowScripts` skipped it): the
// browser route then gives the same UI from the same engine.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const cli = path.join(root, 'dist', 'engine', 'cli', 'main.js');
const nodeFlags = path.join(root, 'dist', 'engine', 'cli', 'node-flags.js');
const shellMain = path.join(root, 'dist-main', 'main.js');
const uiIndex = path.join(root, 'ui', 'dist', 'index.html');
const args = process.argv.slice(2);

const electron = electronBinary();
const needed = [cli, nodeFlags, uiIndex, ...(electron ? [shellMain] : [])];
if (needed.some((file) => !existsSync(file))) {
  console.log('Building Orchard (first start)…');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}

const { ENGINE_NODE_FLAGS } = await import(pathToFileURL(nodeFlags).href);
const child = electron
  ? spawn(electron, [shellMain, ...args], { cwd: root, stdio: 'inherit', env: withoutRunAsNode(process.env) })
  : spawn(process.execPath, [...ENGINE_NODE_FLAGS, cli, 'serve', ...args], { cwd: root, stdio: 'inherit' });
if (!electron) console.log('(Electron is not installed here, so Orchard runs in your browser: open the URL below.)');

// Ctrl-C reaches the child through the terminal; a SIGTERM sent to us is passed on.
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
process.on('SIGINT', () => undefined);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

/** The Electron executable when its binary was downloaded, else undefined. */
function electronBinary() {
  if (process.env.ORCHARD_NO_ELECTRON === '1') return undefined;
  try {
    const location = createRequire(import.meta.url)('electron');
    return typeof location === 'string' && existsSync(location) ? location : undefined;
  } catch {
    // node_modules/electron without its binary throws "Electron failed to install correctly".
    return undefined;
  }
}

function withoutRunAsNode(env) {
  const copy = { ...env };
  delete copy.ELECTRON_RUN_AS_NODE;
  return copy;
}
