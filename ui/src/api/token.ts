import { API } from './client.js';

/**
 * Access (DESIGN §8). In Electron the preload hands over the token (Bearer). In a browser the
 * access link's `#token=` (from `orchard serve`) or one-time `#code=` (from `orchard open`) is read
 * once, removed from the address bar, and exchanged for an HttpOnly session cookie scoped to the
 * API: page script never keeps it, and a second tab, a bookmark or a reload simply work.
 */
export type Access = { kind: 'token'; token: string } | { kind: 'cookie' } | { kind: 'none'; problem?: string };

export async function establishAccess(): Promise<Access> {
  if (window.orchard) return { kind: 'token', token: await window.orchard.getToken() };
  const link = takeLinkFromFragment();
  if (link) {
    const response = await fetch(`${API}/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(link.token ? { Authorization: `Bearer ${link.token}` } : {}) },
      body: JSON.stringify(link.code ? { code: link.code } : {}),
    }).catch(() => undefined);
    if (!response) return { kind: 'none', problem: 'Orchard is not answering. Is `orchard serve` still running?' };
    if (!response.ok) return { kind: 'none', problem: await problemOf(response) };
    return { kind: 'cookie' };
  }
  const check = await fetch(`${API}/session`).catch(() => undefined);
  if (!check) return { kind: 'none', problem: 'Orchard is not answering. Is `orchard serve` still running?' };
  return check.ok ? { kind: 'cookie' } : { kind: 'none' };
}

async function problemOf(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    if (body.error?.message) return body.error.message.charAt(0).toUpperCase() + body.error.message.slice(1) + '.';
  } catch {
    // fall through
  }
  return `Orchard refused the access link (HTTP ${response.status}).`;
}

function takeLinkFromFragment(): { token?: string; code?: string } | undefined {
  const token = /(?:^#|&)token=([0-9A-Za-z_-]+)/.exec(window.location.hash)?.[1];
  const code = /(?:^#|&)code=([0-9A-Za-z_-]+)/.exec(window.location.hash)?.[1];
  if (!token && !code) return undefined;
  // Replace (not push) so Back never brings the secret into view again.
  history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/library`);
  return token ? { token } : code ? { code } : undefined;
}
