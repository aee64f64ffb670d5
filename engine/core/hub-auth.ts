/**
 * Where a Hugging Face token may go: only for weights marked `auth` (fetch-to-store), only over
 * https (http-client), and only to the hub's own hosts (huggingface.co and its subdomains, hf.co),
 * never to a CDN or any other host a redirect points at.
 */
export const DEFAULT_HUB_HOSTS: readonly string[] = ['huggingface.co', 'hf.co'];

/** True when `url`'s host is a hub host or a subdomain of one. Entries with a port match host:port exactly. */
export function isHubHost(url: URL, hubHosts: readonly string[] = DEFAULT_HUB_HOSTS): boolean {
  const host = url.hostname.toLowerCase();
  return hubHosts.some((entry) => {
    const h = entry.toLowerCase();
    if (h.includes(':') && !h.startsWith('[')) return url.host.toLowerCase() === h;
    return host === h || host.endsWith(`.${h}`);
  });
}

/** A URL safe to print: no credentials, no query (signed CDN URLs carry secrets there). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    const hadQuery = u.search !== '';
    u.search = '';
    u.hash = '';
    return hadQuery ? `${u.toString()}?…` : u.toString();
  } catch {
    return '(invalid URL)';
  }
}

/** The Hugging Face model page for a resolve URL (https://huggingface.co/<org>/<repo>/resolve/...). */
export function hubModelPage(url: string): string | undefined {
  try {
    const u = new URL(url);
    const m = /^\/((?:datasets\/|spaces\/)?[^/]+\/[^/]+)\/resolve\//.exec(u.pathname);
    return m ? `${u.origin}/${m[1]}` : undefined;
  } catch {
    return undefined;
  }
}
