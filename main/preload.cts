// Sandboxed preload (CommonJS, as sandboxed preloads must be). It exposes exactly what
// ui/src/bridge.d.ts describes; the channel names repeat bridge-channels.ts because a sandboxed
// preload cannot require local files.
import electron = require('electron');

const bridge = {
  getToken: (): Promise<string> => electron.ipcRenderer.invoke('orchard:get-token') as Promise<string>,
  getVersion: (): Promise<string> => electron.ipcRenderer.invoke('orchard:get-version') as Promise<string>,
  setHfToken: (token: string | null): Promise<{ ok: boolean; message?: string }> => {
    if (token !== null && typeof token !== 'string') return Promise.reject(new TypeError('token must be a string or null'));
    return electron.ipcRenderer.invoke('orchard:set-hf-token', token) as Promise<{ ok: boolean; message?: string }>;
  },
};

electron.contextBridge.exposeInMainWorld('orchard', bridge);
