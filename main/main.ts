/**
 * Orchard's desktop shell: one window on the engine's own UI, a tray, and nothing else. The
 * engine runs as a child (`orchard serve`), exactly as in a terminal; the window gets the API
 * token from a minimal preload. Kept thin on purpose: all product logic lives in the engine.
 */
import { app, BrowserWindow, dialog, session } from 'electron';
import type Store from 'electron-store';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerBridgeHandlers } from './bridge-handlers.js';
import { appRoot, startEngine, type RunningEngine } from './engine-process.js';
import { guardNavigation } from './navigation-guard.js';
import { readHfToken } from './hf-token.js';
import { openShellStore, type ShellSettings } from './shell-store.js';
import { createTray } from './tray.js';
import { rememberBounds, restoredBounds } from './window-state.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const version = readVersion();
let engine: RunningEngine | undefined;
let window: BrowserWindow | undefined;
let tray: { destroy(): void } | undefined;
let quitting = false;
const shellStore = openShellStore();

if (!app.requestSingleInstanceLock()) {
  // Another Orchard window owns the engine: it will come to the front (second-instance).
  app.quit();
} else {
  app.on('second-instance', () => show());
  app.on('activate', () => show());
  // Closing the window keeps the engine (and running apps) alive in the tray; Quit stops them.
  app.on('window-all-closed', () => undefined);
  app.on('before-quit', (event) => {
    quitting = true;
    if (!engine) return;
    event.preventDefault();
    const stopping = engine;
    engine = undefined;
    tray?.destroy();
    void stopping.stop().finally(() => app.quit());
  });
  void app.whenReady().then(launch);
}

async function launch(): Promise<void> {
  const store = shellStore;
  // The UI needs no camera, microphone, notifications or geolocation.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  try {
    const home = store.get('home');
    const hfToken = readHfToken(store);
    engine = await startEngine({ ...(home ? { home } : {}), ...(hfToken ? { hfToken } : {}) });
  } catch (err) {
    dialog.showErrorBox('Orchard could not start its engine', err instanceof Error ? err.message : String(err));
    app.exit(1);
    return;
  }
  const running = engine;
  running.child.once('exit', (code, signal) => {
    if (quitting) return;
    dialog.showErrorBox('Orchard engine stopped', `The engine exited (${signal ?? `code ${code}`}). Orchard will close; start it again.`);
    engine = undefined;
    app.quit();
  });
  registerBridgeHandlers({ uiOrigin: () => running.origin, token: () => running.token, version, store });
  tray = createTray({ origin: running.origin, token: running.token, show, quit: () => app.quit() });

  await createWindow(running.origin, store);
}

/** The one window. No token in its URL: the preload hands it over. */
async function createWindow(origin: string, store: Store<ShellSettings>, hash = '#/catalog'): Promise<void> {
  const win = new BrowserWindow({
    ...restoredBounds(store),
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Orchard',
    backgroundColor: '#f6f7f4',
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  window = win;
  if (store.get('window').maximized) win.maximize();
  rememberBounds(win, store);
  guardNavigation(win.webContents, origin);
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    window = undefined;
  });
  await win.loadURL(`${origin}/${hash}`);
}

function show(hash?: string): void {
  if (!engine) return;
  if (!window) {
    void createWindow(engine.origin, shellStore, hash);
    return;
  }
  if (hash) void window.webContents.executeJavaScript(`location.hash = ${JSON.stringify(hash)}`);
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(appRoot, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
