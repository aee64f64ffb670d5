import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import type Store from 'electron-store';
import { CHANNELS } from './bridge-channels.js';
import { writeHfToken } from './hf-token.js';
import type { ShellSettings } from './shell-store.js';

/** Answer the preload's three requests, and only from a frame showing Orchard's own UI. */
export function registerBridgeHandlers(o: {
  uiOrigin: () => string;
  token: () => string;
  version: string;
  store: Store<ShellSettings>;
}): void {
  const trusted = (event: IpcMainInvokeEvent): void => {
    const url = event.senderFrame?.url ?? '';
    let origin = '';
    try {
      origin = new URL(url).origin;
    } catch {
      // not a URL: refused below
    }
    if (origin !== o.uiOrigin()) throw new Error(`refused: ${origin || 'an unknown frame'} is not Orchard's UI`);
  };
  ipcMain.handle(CHANNELS.getToken, (event) => {
    trusted(event);
    return o.token();
  });
  ipcMain.handle(CHANNELS.getVersion, (event) => {
    trusted(event);
    return o.version;
  });
  ipcMain.handle(CHANNELS.setHfToken, (event, token: unknown) => {
    trusted(event);
    if (token !== null && typeof token !== 'string') return { ok: false, message: 'the token must be text' };
    return writeHfToken(o.store, token);
  });
}
