import { OrchardError } from '../../core/errors.js';
import { ExpiredTargetError, HttpStatusError, TransientError, isTransientStatus } from './download-errors.js';
import { headerText, openUrl, requestHeaders, type RequestAuth } from './http-client.js';
import { displayUrl, hubModelPage, isHubHost } from '../../core/hub-auth.js';
import type { RemoteValidators } from './partial-state.js';

/**
 * Ask the source what it serves before any body byte is written: follow redirects by hand (so the
 * token stays on hub hosts), learn the size, Range support, validators, and the hub's LFS hash.
 * A one-byte ranged GET is used instead of HEAD because signed CDN URLs often refuse HEAD.
 */
export interface RemoteFile {
  sourceUrl: string;
  /** The last hop (often a signed, expiring CDN URL). */
  finalUrl: string;
  acceptsRanges: boolean;
  validators: RemoteValidators;
  /** sha256 the hub declares for this LFS file (from X-Linked-Etag), when it is one. */
  hubSha256?: string;
}

export interface ProbeOptions extends RequestAuth {
  signal?: AbortSignal;
  gatedPage?: string;
  maxRedirects?: number;
}

export async function probeRemote(sourceUrl: string, o: ProbeOptions): Promise<RemoteFile> {
  let url = sourceUrl;
  const linked: { etag?: string; size?: number } = {};
  for (let hop = 0; hop <= (o.maxRedirects ?? 10); hop++) {
    const res = await openUrl(url, requestHeaders(url, o, { range: 'bytes=0-0' }), o.signal ? { signal: o.signal } : {});
    res.close();
    const h = (name: string) => headerText(res.headers, name);
    const linkedEtag = h('x-linked-etag');
    if (linkedEtag !== undefined) linked.etag = unquote(linkedEtag);
    const linkedSize = h('x-linked-size');
    if (linkedSize !== undefined && /^\d+$/.test(linkedSize)) linked.size = Number(linkedSize);

    if (res.status >= 300 && res.status < 400 && res.status !== 304) {
      const location = h('location');
      if (!location) throw new HttpStatusError(`HTTP ${res.status} without a Location header from ${displayUrl(url)}`, res.status);
      url = new URL(location, url).toString();
      continue;
    }
    if (res.status === 401 || res.status === 403) {
      if (hop > 0 && !isHubHost(new URL(url), o.hubHosts))
        throw new ExpiredTargetError(`HTTP ${res.status} from redirect target ${displayUrl(url)}`, res.status);
      throw authError(sourceUrl, res.status, o);
    }
    if (isTransientStatus(res.status)) throw new TransientError(`HTTP ${res.status} from ${displayUrl(url)}`, res.status);
    if (res.status !== 200 && res.status !== 206 && res.status !== 416) {
      throw new HttpStatusError(`HTTP ${res.status} from ${displayUrl(url)}`, res.status);
    }

    const validators: RemoteValidators = {};
    const etag = h('etag');
    if (etag !== undefined) validators.etag = etag;
    const lastModified = h('last-modified');
    if (lastModified !== undefined) validators.lastModified = lastModified;
    if (linked.etag !== undefined) validators.linkedEtag = linked.etag;
    if (linked.size !== undefined) validators.linkedSize = linked.size;

    let acceptsRanges = false;
    const contentRange = h('content-range');
    if (res.status === 206 && contentRange) {
      const m = /^bytes\s+0-0\/(\d+)$/i.exec(contentRange.trim());
      if (m) {
        validators.size = Number(m[1]);
        acceptsRanges = true;
      }
    } else if (res.status === 416) {
      const m = /^bytes\s+\*\/(\d+)$/i.exec((contentRange ?? '').trim());
      validators.size = m ? Number(m[1]) : 0;
    } else {
      const length = h('content-length');
      if (length !== undefined && /^\d+$/.test(length)) validators.size = Number(length);
    }
    if (validators.size === undefined && linked.size !== undefined) validators.size = linked.size;

    const hubSha256 = linked.etag && /^[0-9a-f]{64}$/i.test(linked.etag) ? linked.etag.toLowerCase() : undefined;
    return { sourceUrl, finalUrl: url, acceptsRanges, validators, ...(hubSha256 ? { hubSha256 } : {}) };
  }
  throw new HttpStatusError(`more than ${o.maxRedirects ?? 10} redirects from ${displayUrl(sourceUrl)}`, 310);
}

function unquote(value: string): string {
  return value.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/** 401/403 from the hub: gated model or bad token. Never includes the token. */
export function authError(sourceUrl: string, status: number, o: { token?: string | undefined; gatedPage?: string }): OrchardError {
  const page = o.gatedPage ?? hubModelPage(sourceUrl);
  const gated = `This model is gated: accept its licence${page ? ` on ${page}` : ' on its model page'} while logged in`;
  const hint = o.token
    ? `${gated}, and check that your token (HF_TOKEN or the Hugging Face token setting) belongs to that account and has read access.`
    : `${gated}, then create a read token at https://huggingface.co/settings/tokens and set it (HF_TOKEN, or the Hugging Face ` +
      'token setting).';
  return new OrchardError('AUTH', `access denied (HTTP ${status}): the model is gated or needs a Hugging Face token`, {
    where: displayUrl(sourceUrl),
    hint,
  });
}
