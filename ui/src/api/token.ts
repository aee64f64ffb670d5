/**
 * The API token (DESIGN §8). From the Electron preload when present; otherwise from the
 * `#token=` fragment `orchard serve` prints, read once, kept in sessionStorage (this tab only) and
 * removed from the address bar so it is not bookmarked, shared or left in history.
 */
const STORAGE_KEY = 'orchard.token';

export async function loadToken(): Promise<string | undefined> {
  if (window.orchard) return window.orchard.getToken();
  const fromFragment = takeTokenFromFragment();
  if (fromFragment) {
    sessionStorage.setItem(STORAGE_KEY, fromFragment);
    return fromFragment;
  }
  return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
}

export function forgetToken(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

function takeTokenFromFragment(): string | undefined {
  const match = /(?:^#|&)token=([0-9A-Za-z_-]+)/.exec(window.location.hash);
  if (!match) return undefined;
  // Replace (not push) so Back never brings the token into view again.
  history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/catalog`);
  return match[1];
}
