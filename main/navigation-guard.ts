import { shell, type WebContents } from 'electron';

/**
 * The window shows Orchard's UI and nothing else: new windows and navigation elsewhere open in
 * the system browser (http/https only), never inside the app with its token bridge.
 */
export function guardNavigation(contents: WebContents, uiOrigin: string): void {
  contents.setWindowOpenHandler(({ url }) => {
    openOutside(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    if (originOf(event.url) === uiOrigin) return;
    event.preventDefault();
    openOutside(event.url);
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

function openOutside(url: string): void {
  const protocol = (() => {
    try {
      return new URL(url).protocol;
    } catch {
      return '';
    }
  })();
  if (protocol === 'http:' || protocol === 'https:') void shell.openExternal(url);
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}
