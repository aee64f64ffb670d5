import Store from 'electron-store';

/** What the desktop shell remembers between runs (electron-store: a JSON file in userData). */
export interface ShellSettings {
  window: { x?: number; y?: number; width: number; height: number; maximized: boolean };
  /** The Hugging Face token, encrypted by safeStorage (OS keychain), base64. Never plain text. */
  hfTokenEncrypted?: string;
  /** ORCHARD_HOME for the engine; unset means the engine's default (~/Orchard). */
  home?: string;
}

export function openShellStore(): Store<ShellSettings> {
  return new Store<ShellSettings>({
    name: 'orchard-shell',
    defaults: { window: { width: 1280, height: 800, maximized: false } },
  });
}
