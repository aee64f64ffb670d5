/** What the Electron preload (main/preload.cts) exposes on window; absent in a plain browser. */
export interface OrchardBridge {
  getToken(): Promise<string>;
  getVersion(): Promise<string>;
  /** Electron keeps the Hugging Face token in safeStorage, not in orchard.json. */
  setHfToken(token: string | null): Promise<{ ok: boolean; message?: string }>;
}

declare global {
  interface Window {
    orchard?: OrchardBridge;
  }
}
